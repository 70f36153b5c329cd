package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/text"
)

// Demo on-call data, seeded so that an alarm on checkout pages someone.
var (
	// Their Slack ids are made up: seeded only while Slack is the local
	// recorder, so that pages and war rooms show in its log.
	demoUsers = []oncall.User{
		{ID: "alice", Name: "Alice", Email: "alice@example.com", SlackUserID: "U0DEMOALICE"},
		{ID: "bob", Name: "Bob", Email: "bob@example.com", SlackUserID: "U0DEMOBOB"},
		{ID: "carol", Name: "Carol", Email: "carol@example.com", SlackUserID: "U0DEMOCAROL"},
		{ID: "dave", Name: "Dave", Email: "dave@example.com", SlackUserID: "U0DEMODAVE"},
	}
	demoScheduleID = "checkout-primary"
	demoSchedule   = oncall.Schedule{
		Name:     "Checkout primary",
		TimeZone: "Europe/Berlin",
		Rotations: []oncall.Rotation{{
			Name: "weekly", Participants: []string{"alice", "bob"}, ShiftWeeks: 1,
			Start: time.Date(2024, 1, 1, 9, 0, 0, 0, berlin()),
		}},
	}
	demoPolicyID = "checkout"
	demoPolicy   = oncall.Policy{
		Name: "Checkout",
		Levels: []oncall.Level{
			{Targets: []oncall.Target{{Schedule: demoScheduleID}}, WaitMinutes: 1},
			{Targets: []oncall.Target{{User: "carol"}}, WaitMinutes: 2},
		},
		Repeat:   1,
		Fallback: &oncall.Target{User: "dave"},
	}
)

// Throwaway configuration, named by nothing the demo uses, seeded so that
// events/api-delete-*.json each delete something (204) on a fresh make local
// without taking the demo apart (README.md, "Listing and removing
// configuration"). A restart seeds each again.
var (
	throwawayUser     = oncall.User{ID: "leaver", Name: "Leaver (throwaway: events/api-delete-user.json deletes it)"}
	throwawayID       = "retired"
	throwawaySchedule = oncall.Schedule{
		Name: "Retired (throwaway: events/api-delete-schedule.json deletes it)", TimeZone: "UTC",
		Rotations: []oncall.Rotation{{Name: "daily", Participants: []string{"alice"}, ShiftDays: 1, Start: time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)}},
	}
	throwawayPolicy = oncall.Policy{
		Name:     "Retired (throwaway: events/api-delete-policy.json deletes it)",
		Levels:   []oncall.Level{{Targets: []oncall.Target{{User: "dave"}}, WaitMinutes: 5}},
		Fallback: &oncall.Target{User: "dave"},
	}
)

// demoPolicyText describes demoPolicy for the welcome text.
const demoPolicyText = "checkout → level 1: schedule checkout-primary (alice/bob weekly, Europe/Berlin), wait 1 min; level 2: carol, wait 2 min; repeat 1; fallback dave"

func berlin() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.FixedZone("CET", 3600) // no tzdata: the handoff hour is off by one in summer, no more
	}
	return loc
}

// seedOnCall stores the demo users, schedule and policy through the on-call
// service (its rules apply; it makes no PagingTopic subscriptions), each only
// when absent: with LOCAL_DB_PATH, edits made through the API survive a
// restart. With real Slack (realSlack) the users get no made-up Slack ids.
func seedOnCall(ctx context.Context, store *oncall.Service, realSlack bool) error {
	for _, u := range append(demoUsers, throwawayUser) {
		if realSlack {
			u.SlackUserID = ""
		}
		if _, err := store.User(ctx, u.ID); err == nil {
			continue
		} else if !errors.Is(err, errkind.NotFound) {
			return err
		}
		if _, err := store.PutUser(ctx, u); err != nil {
			return fmt.Errorf("seed user %s: %w", u.ID, err)
		}
	}
	for _, sc := range []struct {
		id string
		s  oncall.Schedule
	}{{demoScheduleID, demoSchedule}, {throwawayID, throwawaySchedule}} {
		if _, err := store.Schedule(ctx, sc.id); errors.Is(err, errkind.NotFound) {
			if _, err := store.PutSchedule(ctx, sc.id, sc.s); err != nil {
				return fmt.Errorf("seed schedule %s: %w", sc.id, err)
			}
		} else if err != nil {
			return err
		}
	}
	for _, p := range []struct {
		id string
		p  oncall.Policy
	}{{demoPolicyID, demoPolicy}, {throwawayID, throwawayPolicy}} {
		if _, err := store.Policy(ctx, p.id); errors.Is(err, errkind.NotFound) {
			if _, err := store.PutPolicy(ctx, p.id, p.p); err != nil {
				return fmt.Errorf("seed policy %s: %w", p.id, err)
			}
		} else if err != nil {
			return err
		}
	}
	return nil
}

// printPager is the local PagingTopic: each page is one readable line on out
// (and a log line), e.g.
//
//	PAGE level 1 → alice (SEV2 checkout: checkout-cpu in ALARM) incident 01J… ack http://127.0.0.1:3000/ack/AW…
type printPager struct {
	out io.Writer
	log *slog.Logger
	mu  sync.Mutex
}

// Page implements escalation.Pager.
func (p *printPager) Page(ctx context.Context, pg oncall.ResponderPage) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fmt.Fprintln(p.out, text.EscapeLine(pageLine(pg)))
	p.log.InfoContext(ctx, "page (local)", slog.String("responder", pg.Responder), slog.String("severity", pg.Severity),
		slog.String("incident_id", pg.IncidentID), slog.Int("level", pg.Level), slog.String("subject", pg.Subject),
		slog.String("message", pg.Message))
	return err
}

func pageLine(pg oncall.ResponderPage) string {
	what := fmt.Sprintf("level %d", pg.Level)
	if pg.Level == 0 {
		what = "fallback"
	}
	// The subject is "[SEV2] checkout: title".
	subject := strings.Replace(pg.Subject, "["+pg.Severity+"]", pg.Severity, 1)
	line := fmt.Sprintf("PAGE %s → %s (%s) incident %s", what, pg.Responder, subject, pg.IncidentID)
	if pg.Link != "" {
		// The page's acknowledge link, signed with the local key: open it
		// in a browser (README "Acknowledge from the page").
		line += " ack " + pg.Link
	}
	return line
}
