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
//	incident        INC#<id>          META                     type=incident, version, GSI keys
//	timeline entry  INC#<id>          TL#<at>#<entry id>       type=entry
//	report          INC#<id>          RPT#<report id>          type=report
//	Slack page      INC#<id>          SLK#<channel>#<ts>       type=slack_page, expires_at
//	dedup record    DEDUP#<key>       DEDUP                    type=dedup, incident_id, expires_at
//	delivery        DLV#<delivery id> DLV                      type=delivery, the result, expires_at
//	service config  SERVICES          SVC#<name>               type=service
//
// <at> is the fixed-width UTC time of sortTime, so entries sort by time in the
// index. Incidents carry the keys of the three GSIs: open_pk="OPEN" only while
// not resolved (the "open" index is sparse), svc_pk=<service>, time_pk="INCIDENT";
// each with the sort key <created_at>#<id>, newest last.
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

	openPK = "OPEN"
	timePK = "INCIDENT"
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

// listSK is the sort key of an incident in every index: creation time, then id.
func listSK(createdAt time.Time, id string) string { return sortableTime(createdAt) + "#" + id }
