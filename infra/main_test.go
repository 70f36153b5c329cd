package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

func TestStackPropsFromContext(t *testing.T) {
	tests := []struct {
		name    string
		give    map[string]any
		want    StackProps // only the fields set here are compared
		wantErr string
	}{
		{name: "defaults", give: map[string]any{},
			want: StackProps{LogLevel: "info", ReopenWindow: "30m", DORASuspectWindow: "4h"}},
		{name: "reopen window", give: map[string]any{"reopenWindow": "2h"},
			want: StackProps{LogLevel: "info", ReopenWindow: "2h"}},
		{name: "bad reopen window", give: map[string]any{"reopenWindow": "5s"}, wantErr: "context reopenWindow"},
		{name: "DORA suspect window", give: map[string]any{"doraSuspectWindow": "2h"},
			want: StackProps{LogLevel: "info", ReopenWindow: "30m", DORASuspectWindow: "2h"}},
		{name: "DORA dashboard turned on", give: map[string]any{"doraDashboard": "true"},
			want: StackProps{LogLevel: "info", ReopenWindow: "30m", DORADashboard: true}},
		{name: "DORA dashboard off, as by default", give: map[string]any{"doraDashboard": false},
			want: StackProps{LogLevel: "info", ReopenWindow: "30m"}},
		{name: "bad DORA suspect window", give: map[string]any{"doraSuspectWindow": "30d"}, wantErr: "context doraSuspectWindow"},
		{name: "command line strings", give: map[string]any{"tracing": "true", "publicReports": "true", "logLevel": "debug",
			"apiRateLimit": "20", "apiBurstLimit": "40", "fallbackUser": "duty-manager", "stakeholders": "U1,U2"},
			want: StackProps{LogLevel: "debug", Tracing: true, PublicReports: true, RateLimit: 20, BurstLimit: 40, ReopenWindow: "30m",
				FallbackUser: "duty-manager", Stakeholders: "U1,U2"}},
		{name: "cdk.json values", give: map[string]any{"tracing": true, "publicReports": false, "apiRateLimit": 5.0},
			want: StackProps{LogLevel: "info", Tracing: true, RateLimit: 5, ReopenWindow: "30m"}},
		{name: "bad bool", give: map[string]any{"publicReports": "yes please"}, wantErr: "context publicReports"},
		{name: "bad log level", give: map[string]any{"logLevel": "verbose"}, wantErr: "context logLevel"},
		{name: "negative rate", give: map[string]any{"apiRateLimit": "-1"}, wantErr: "must not be negative"},
		{name: "other services file", give: map[string]any{"services": "infra/testdata/services.json"},
			want: StackProps{LogLevel: "info", ReopenWindow: "30m"}},
		{name: "example services file", give: map[string]any{"services": "infra/services.example.json"},
			want: StackProps{LogLevel: "info", ReopenWindow: "30m"}},
		{name: "missing services file", give: map[string]any{"services": "infra/nope.json"}, wantErr: "read services"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &tt.give})
			got, err := stackProps(app)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("stackProps: got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("stackProps: %v", err)
			}
			if got.LogLevel != tt.want.LogLevel || got.Tracing != tt.want.Tracing || got.PublicReports != tt.want.PublicReports ||
				got.RateLimit != tt.want.RateLimit || got.BurstLimit != tt.want.BurstLimit ||
				got.ReopenWindow != tt.want.ReopenWindow ||
				tt.want.DORASuspectWindow != "" && got.DORASuspectWindow != tt.want.DORASuspectWindow ||
				got.DORADashboard != tt.want.DORADashboard ||
				got.FallbackUser != tt.want.FallbackUser || got.Stakeholders != tt.want.Stakeholders {
				t.Errorf("stackProps: got log %q tracing %v public %v rate %v burst %v reopen %q fallback %q stakeholders %q DORA dashboard %v, want %q %v %v %v %v %q %q %q %v",
					got.LogLevel, got.Tracing, got.PublicReports, got.RateLimit, got.BurstLimit, got.ReopenWindow, got.FallbackUser, got.Stakeholders, got.DORADashboard,
					tt.want.LogLevel, tt.want.Tracing, tt.want.PublicReports, tt.want.RateLimit, tt.want.BurstLimit, tt.want.ReopenWindow,
					tt.want.FallbackUser, tt.want.Stakeholders, tt.want.DORADashboard)
			}
			wantFile := DefaultServicesFile
			if f, ok := tt.give["services"].(string); ok {
				wantFile = f
			}
			if got.ServicesFile != wantFile || got.Services.DefaultService == "" || got.ModuleRoot == "" {
				t.Errorf("stackProps: got services file %q (default service %q) from module root %q, want %s read",
					got.ServicesFile, got.Services.DefaultService, got.ModuleRoot, wantFile)
			}
		})
	}
}

// TestCountContexts: pagingConcurrency defaults to DefaultPagingConcurrency
// and 0 turns the reservation off; indexUpgradeStep is 0 (none) unless a
// step of the upgrade is asked for, and only the steps that exist are
// accepted; both take whole non-negative numbers only.
func TestCountContexts(t *testing.T) {
	paging := func(p *StackProps) int { return p.PagingConcurrency }
	step := func(p *StackProps) int { return p.IndexUpgradeStep }
	tests := []struct {
		name    string
		give    map[string]any
		field   func(*StackProps) int
		want    int
		wantErr string
	}{
		{name: "paging absent", give: map[string]any{}, field: paging, want: DefaultPagingConcurrency},
		{name: "paging none", give: map[string]any{"pagingConcurrency": "0"}, field: paging, want: 0},
		{name: "paging command line", give: map[string]any{"pagingConcurrency": "25"}, field: paging, want: 25},
		{name: "paging cdk.json", give: map[string]any{"pagingConcurrency": 5.0}, field: paging, want: 5},
		{name: "paging negative", give: map[string]any{"pagingConcurrency": "-1"}, wantErr: "must not be negative"},
		{name: "paging fraction", give: map[string]any{"pagingConcurrency": "2.5"}, wantErr: "not a whole number"},
		{name: "paging word", give: map[string]any{"pagingConcurrency": "some"}, wantErr: "not a number"},
		{name: "step absent", give: map[string]any{}, field: step, want: 0},
		{name: "step command line", give: map[string]any{"indexUpgradeStep": "3"}, field: step, want: 3},
		{name: "step past the last", give: map[string]any{"indexUpgradeStep": "6"}, wantErr: "not a step from 1 to 5"},
		{name: "step negative", give: map[string]any{"indexUpgradeStep": "-1"}, wantErr: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stackProps(awscdk.NewApp(&awscdk.AppProps{Context: &tt.give}))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("stackProps: got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("stackProps: %v", err)
			}
			if n := tt.field(got); n != tt.want {
				t.Errorf("got %d, want %d", n, tt.want)
			}
		})
	}
}
