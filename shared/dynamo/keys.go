package dynamo

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item layout (pk / sk; every item also carries a "type" attribute, so the
// stream consumer can tell items apart without parsing keys):
//
//	incident        INC#<id>          META                     type=incident, version, index keys
//	war room        WARROOM#<channel> WARROOM                  type=war_room, incident_id
//	timeline entry  INC#<id>          TL#<at>#<entry id>       type=entry
//	report          INC#<id>          RPT#<report id>          type=report
//	Slack page      INC#<id>          SLK#<channel>#<ts>       type=slack_page, expires_at
//	dedup record    DEDUP#<key>       DEDUP                    type=dedup, incident_id, expires_at
//	delivery        DLV#<delivery id> DLV                      type=delivery, the result, expires_at (a decision's transaction, or a join's fold)
//	service config  SERVICES          SVC#<name>               type=service
//	deployment      DEPLOY#<id>       DEPLOY                   type=deployment, version, index keys once finished
//	commit pointer  COMMIT#<sha>      DEPLOY#<id>              type=deploy_commit
//	merged PR       COMMIT#<sha>      PR#<source>              type=merged_change
//
// (deployments.go describes the last three.)
//
// <at> is the fixed-width UTC time of sortTime, so entries sort by time.
// Only incident items carry index keys (schema.go), each set by the
// incident's state (setIndexKeys): while open o_pk="OPEN", o_sk=<service>#<list
// position>; once resolved r_pk="RESOLVED", r_sk=<list position> and
// sr_pk=<service>, sr_sk=<list position>; the list position is
// <created_at>#<id> (listSK), newest last. Timeline entries, reports, dedup
// and delivery records, war rooms and configuration are in no index.
//
// A war-room item maps a Slack channel to the incident whose war room it is;
// it is written in the transaction that records the war room (warroom.go).
//
// An incident's partition is read by sort-key prefix only (TL#, SLK#, META by
// key): a timeline Query never sees reports or Slack pages. Slack pages are the
// page messages escalate posted (slackpages.go), kept so the stream function
// can take their buttons off once the incident is acknowledged or resolved;
// bare delivery records (RecordDelivery) make the stream's sends once-only.

// Item types (the "type" attribute).
const (
	TypeIncident = "incident"
	TypeEntry    = "entry"
	TypeReport   = "report"
	TypeDedup    = "dedup"
	TypeDelivery = "delivery"
	TypeService  = "service"
	// TypeSlackPage is a Slack page message of an incident (slackpages.go).
	TypeSlackPage = "slack_page"
	// TypeWarRoom maps a war-room channel to its incident (warroom.go).
	TypeWarRoom = "war_room"
)

// TypeAttribute names the attribute holding an item's type.
const TypeAttribute = "type"

const (
	incidentPrefix  = "INC#"
	metaSK          = "META"
	timelinePrefix  = "TL#"
	reportPrefix    = "RPT#"
	slackPagePrefix = "SLK#"
	dedupPrefix     = "DEDUP#"
	dedupSK         = "DEDUP"
	deliveryPrefix  = "DLV#"
	deliverySK      = "DLV"
	servicesPK      = "SERVICES"
	servicePrefix   = "SVC#"
	warRoomPrefix   = "WARROOM#"
	warRoomSK       = "WARROOM"

	openPK     = "OPEN"
	resolvedPK = "RESOLVED"
)

// sortTime is RFC 3339 in UTC with all nine fraction digits: unlike
// time.RFC3339Nano it has a fixed width, so strings sort as times do.
const sortTime = "2006-01-02T15:04:05.000000000Z"

func sortableTime(t time.Time) string { return t.UTC().Format(sortTime) }

func incidentPK(id string) string { return incidentPrefix + id }

func entrySK(e time.Time, id string) string { return timelinePrefix + sortableTime(e) + "#" + id }

func reportSK(id string) string { return reportPrefix + id }

func serviceSK(name string) string { return servicePrefix + name }

// key returns a primary key for GetItem and friends.
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		PartitionKey: &types.AttributeValueMemberS{Value: pk},
		SortKey:      &types.AttributeValueMemberS{Value: sk},
	}
}

// maxKeyPart bounds the outside-supplied part of a key: a partition key holds at
// most 2048 bytes. Longer dedup keys, delivery ids, log batch ids and log
// counter keys are hashed.
const maxKeyPart = 1024

func boundedKey(s string) string {
	if len(s) <= maxKeyPart {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func dedupPK(key string) string { return dedupPrefix + boundedKey(key) }

func deliveryPK(id string) string { return deliveryPrefix + boundedKey(id) }

// listSK is an incident's list position, the sort key of the resolved
// indexes: creation time, then id.
func listSK(createdAt time.Time, id string) string { return sortableTime(createdAt) + "#" + id }

// openSK is an incident's sort key in the open index: its service, then its
// list position, so that a service's open incidents are one key range
// (service names hold no '#').
func openSK(service, position string) string { return service + "#" + position }

// warRoomPK is the partition of a war-room channel's item.
func warRoomPK(channel string) string { return warRoomPrefix + boundedKey(channel) }
