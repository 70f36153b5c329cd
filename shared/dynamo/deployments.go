package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/errkind"
)

// Deployment records (issue 10). The layout:
//
//	deployment      DEPLOY#<id>       DEPLOY              type=deployment, version, the record; once finished
//	                                                      sr_pk=DEPLOY#<service>#<environment>, sr_sk=<finished_at>#<id>
//	                                                      r_pk=DEPLOY#<environment>#<finished day>, r_sk=<finished_at>#<id>
//	commit pointer  COMMIT#<sha>      DEPLOY#<id>         type=deploy_commit: the deployment ships commit <sha>
//	merged PR       COMMIT#<sha>      PR#<source>         type=merged_change, the change (pr_created_at, pr_merged_at)
//
// The window reads overload two incident indexes, both keys-only
// (schema.go): resolved_by_service holds a finished deployment under its
// service × environment, resolved under its environment and the UTC day it
// finished, each by finish time. (One partition per day: DynamoDB Local
// sorts a whole index partition for each Query page, so a page of an
// environment's 100,000 deployments took 2.5 s there, and 57 pages 142 s;
// a day's partition is read in milliseconds, README "Benchmarks".) An incident's partition there is a service name or RESOLVED, which
// never starts with DEPLOY# (a service name has no '#'), so the incident
// lists never meet a deployment and the table needs no new index. A
// deployment that has only started is in neither (it has no finish time, and
// DORA counts finished deployments).
//
// The COMMIT#<sha> partition is how a merged pull request and the deployment
// of its merge commit find each other, whichever comes first (deploy.Ship):
// each writes its item there and then reads the partition (strongly
// consistent), so of two that race, the later reader sees the other.
const (
	TypeDeployment   = "deployment"
	TypeDeployCommit = "deploy_commit"
	TypeMergedChange = "merged_change"

	deployPrefix = "DEPLOY#"
	deploySK     = "DEPLOY"
	commitPrefix = "COMMIT#"
	prPrefix     = "PR#"
)

func deployPK(id string) string { return deployPrefix + id }

// deployServicePK is a deployment's partition in resolved_by_service.
func deployServicePK(service, environment string) string {
	return deployPrefix + service + "#" + environment
}

// deployEnvPK is a deployment's partition in resolved: its environment and
// the UTC day it finished, so that a partition holds a day's deployments
// (what one Query reads), not the environment's history (DORARecords).
func deployEnvPK(environment string, finished time.Time) string {
	return deployPrefix + environment + "#" + finished.UTC().Format(time.DateOnly)
}

func commitPK(sha string) string { return commitPrefix + sha }

type changeItem struct {
	PRCreatedAt time.Time `dynamodbav:"pr_created_at,omitempty"`
	PRMergedAt  time.Time `dynamodbav:"pr_merged_at,omitempty"`
	CommitSHA   string    `dynamodbav:"commit_sha,omitempty"`
}

type deploymentItem struct {
	PK          string       `dynamodbav:"pk"`
	SK          string       `dynamodbav:"sk"`
	Type        string       `dynamodbav:"type"`
	Version     int64        `dynamodbav:"version"`
	ID          string       `dynamodbav:"id"`
	Service     string       `dynamodbav:"service"`
	Environment string       `dynamodbav:"environment"`
	AppVersion  string       `dynamodbav:"app_version,omitempty"`
	CommitSHA   string       `dynamodbav:"commit_sha,omitempty"`
	Status      string       `dynamodbav:"status"`
	StartedAt   time.Time    `dynamodbav:"started_at,omitempty"`
	FinishedAt  time.Time    `dynamodbav:"finished_at,omitempty"`
	Changes     []changeItem `dynamodbav:"changes,omitempty"`
	Rework      string       `dynamodbav:"rework,omitempty"`
	// The index keys, set once the deployment finished.
	ServicePK string `dynamodbav:"sr_pk,omitempty"`
	ServiceSK string `dynamodbav:"sr_sk,omitempty"`
	EnvPK     string `dynamodbav:"r_pk,omitempty"`
	EnvSK     string `dynamodbav:"r_sk,omitempty"`
}

func newDeploymentItem(r deploy.Record, version int64) deploymentItem {
	it := deploymentItem{
		PK: deployPK(r.ID), SK: deploySK, Type: TypeDeployment, Version: version,
		ID: r.ID, Service: r.Service, Environment: r.Environment, AppVersion: r.Version, CommitSHA: r.CommitSHA,
		Status: string(r.Status), StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Rework: string(r.Rework),
	}
	for _, c := range r.Changes {
		it.Changes = append(it.Changes, changeItem(c))
	}
	if !r.FinishedAt.IsZero() {
		pos := listSK(r.FinishedAt, r.ID)
		it.ServicePK, it.ServiceSK = deployServicePK(r.Service, r.Environment), pos
		it.EnvPK, it.EnvSK = deployEnvPK(r.Environment, r.FinishedAt), pos
	}
	return it
}

func (it deploymentItem) record() deploy.Record {
	r := deploy.Record{
		ID: it.ID, Service: it.Service, Environment: it.Environment, Version: it.AppVersion, CommitSHA: it.CommitSHA,
		Status: deploy.Status(it.Status), StartedAt: utcOrZero(it.StartedAt), FinishedAt: utcOrZero(it.FinishedAt),
		Rework: dora.Rework(it.Rework),
	}
	for _, c := range it.Changes {
		ch := deploy.Change(c)
		ch.PRCreatedAt, ch.PRMergedAt = utcOrZero(ch.PRCreatedAt), utcOrZero(ch.PRMergedAt)
		r.Changes = append(r.Changes, ch)
	}
	return r
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// commitItem is a commit pointer or a merged pull request in a COMMIT#<sha>
// partition.
type commitItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	Type         string    `dynamodbav:"type"`
	DeploymentID string    `dynamodbav:"deployment_id,omitempty"`
	PRCreatedAt  time.Time `dynamodbav:"pr_created_at,omitempty"`
	PRMergedAt   time.Time `dynamodbav:"pr_merged_at,omitempty"`
	CommitSHA    string    `dynamodbav:"commit_sha"`
}

// Deployment returns the deployment record id (errkind.NotFound when there is none).
func (s *Store) Deployment(ctx context.Context, id string) (deploy.Record, error) {
	r, _, found, err := s.deployment(ctx, id)
	if err != nil {
		return deploy.Record{}, err
	}
	if !found {
		return deploy.Record{}, errkind.NotFoundf("deployment %q not found", id)
	}
	return r, nil
}

func (s *Store) deployment(ctx context.Context, id string) (deploy.Record, int64, bool, error) {
	if id == "" || len(id) > deploy.MaxIDLen {
		return deploy.Record{}, 0, false, nil
	}
	var it deploymentItem
	found, err := s.get(ctx, deployPK(id), deploySK, &it)
	if err != nil {
		return deploy.Record{}, 0, false, fmt.Errorf("read deployment %s: %w", id, err)
	}
	if !found {
		return deploy.Record{}, 0, false, nil
	}
	return it.record(), it.Version, true, nil
}

// maxDeployAttempts bounds the compare-and-set loop of a deployment write.
const maxDeployAttempts = 20

// PutDeployment records r, a valid record (deploy.Validate), with the
// redelivery rule of deploy.Merge, and ships onto it the merged pull
// requests of its commit that arrived before it (deploy.Ship). It returns
// the stored record and whether anything was written: an identical replay,
// or an older state that adds nothing, writes nothing. The write is a
// compare-and-set on the item's version, so concurrent deliveries of one
// deployment never lose a state: the loser reads again and merges anew.
func (s *Store) PutDeployment(ctx context.Context, r deploy.Record) (deploy.Record, bool, error) {
	r, err := deploy.Validate(r)
	if err != nil {
		return deploy.Record{}, false, err
	}
	wrote := false
	for range maxDeployAttempts {
		stored, version, _, err := s.deployment(ctx, r.ID)
		if err != nil {
			return deploy.Record{}, false, err
		}
		next, changed := deploy.Merge(stored, r)
		if next.CommitSHA != "" {
			shipped, err := s.shipPending(ctx, next)
			if err != nil {
				return deploy.Record{}, false, err
			}
			if !shipped.Equal(next) {
				next, changed = shipped, !shipped.Equal(stored)
			}
		}
		if !changed {
			return stored, wrote, nil
		}
		ok, err := s.writeDeployment(ctx, next, version)
		if err != nil {
			return deploy.Record{}, false, err
		}
		if ok {
			wrote = true
			// The pointer was written with the record; a pull request whose
			// item landed since the read above is seen now, or it saw ours.
			// The next round finds Merge and Ship with nothing to add, or
			// ships it.
		}
	}
	return deploy.Record{}, false, fmt.Errorf("write deployment %s: %w", r.ID, errConflictExhausted)
}

var errConflictExhausted = errkind.Conflictf("the deployment changed %d times while it was written; send it again", maxDeployAttempts)

// shipPending applies to r the merged pull requests recorded under its commit.
func (s *Store) shipPending(ctx context.Context, r deploy.Record) (deploy.Record, error) {
	items, err := s.commitItems(ctx, r.CommitSHA, prPrefix)
	if err != nil {
		return deploy.Record{}, err
	}
	for _, it := range items {
		r, _ = deploy.Ship(r, deploy.Change{CommitSHA: it.CommitSHA, PRCreatedAt: utcOrZero(it.PRCreatedAt), PRMergedAt: utcOrZero(it.PRMergedAt)})
	}
	return r, nil
}

// commitItems reads the items of a COMMIT#<sha> partition whose sort key
// starts with prefix, strongly consistent.
func (s *Store) commitItems(ctx context.Context, sha, prefix string) ([]commitItem, error) {
	in, err := s.prefixQuery(commitPK(sha), prefix)
	if err != nil {
		return nil, err
	}
	in.ConsistentRead = aws.Bool(true)
	var out []commitItem
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", sha, err)
		}
		var page []commitItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &page); err != nil {
			return nil, fmt.Errorf("decode commit %s: %w", sha, err)
		}
		out = append(out, page...)
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// writeDeployment writes r as version+1 if the item is still at version (0:
// absent), with its commit pointer; ok is false when another write came
// first.
func (s *Store) writeDeployment(ctx context.Context, r deploy.Record, version int64) (ok bool, err error) {
	cond := expression.AttributeNotExists(expression.Name(PartitionKey))
	if version > 0 {
		cond = expression.Name("version").Equal(expression.Value(version))
	}
	put, err := s.put(newDeploymentItem(r, version+1), &cond)
	if err != nil {
		return false, err
	}
	items := []types.TransactWriteItem{put}
	if r.CommitSHA != "" {
		ptr, err := s.put(commitItem{PK: commitPK(r.CommitSHA), SK: deployPK(r.ID), Type: TypeDeployCommit, DeploymentID: r.ID, CommitSHA: r.CommitSHA}, nil)
		if err != nil {
			return false, err
		}
		items = append(items, ptr)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return true, nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) && canceledByCondition(canceled) {
		return false, nil
	}
	return false, fmt.Errorf("write deployment %s: %w", r.ID, err)
}

// canceledByCondition reports whether a transaction was canceled by a
// failed condition or a conflicting transaction (both: read and try again).
func canceledByCondition(e *types.TransactionCanceledException) bool {
	for _, r := range e.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed", "TransactionConflict":
			return true
		}
	}
	return false
}

// ShipChange records a merged pull request, c (a valid change with its
// merge commit as CommitSHA), under source (e.g. "github:acme/search#214",
// the same for each delivery of that pull request), and ships it onto every
// deployment of its merge commit recorded so far (deploy.Ship); a
// deployment of that commit recorded later ships it as it is written. It
// returns the ids of the deployments it changed. A replay changes nothing.
func (s *Store) ShipChange(ctx context.Context, source string, c deploy.Change) ([]string, error) {
	c, err := deploy.ValidateChange(c)
	if err != nil {
		return nil, err
	}
	if c.CommitSHA == "" {
		return nil, errkind.Invalidf("a merged change needs its merge commit_sha")
	}
	it := commitItem{PK: commitPK(c.CommitSHA), SK: prPrefix + boundedKey(source), Type: TypeMergedChange,
		PRCreatedAt: c.PRCreatedAt, PRMergedAt: c.PRMergedAt, CommitSHA: c.CommitSHA}
	// A one-item transaction rather than PutItem: the api links no PutItem
	// otherwise (README, "Bootstrap size").
	put, err := s.put(it, nil)
	if err != nil {
		return nil, fmt.Errorf("encode merged change %s: %w", source, err)
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put}}); err != nil {
		return nil, fmt.Errorf("record merged change %s: %w", source, err)
	}
	ptrs, err := s.commitItems(ctx, c.CommitSHA, deployPrefix)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, p := range ptrs {
		ok, err := s.shipOnto(ctx, p.DeploymentID, c)
		if err != nil {
			return changed, err
		}
		if ok {
			changed = append(changed, p.DeploymentID)
		}
	}
	return changed, nil
}

// shipOnto applies deploy.Ship(c) to deployment id under its version.
func (s *Store) shipOnto(ctx context.Context, id string, c deploy.Change) (bool, error) {
	for range maxDeployAttempts {
		r, version, found, err := s.deployment(ctx, id)
		if err != nil || !found {
			return false, err
		}
		next, changed := deploy.Ship(r, c)
		if !changed {
			return false, nil
		}
		ok, err := s.writeDeployment(ctx, next, version)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, fmt.Errorf("ship onto deployment %s: %w", id, errConflictExhausted)
}

// DeliveryRecorded reports whether a delivery record of deliveryID exists
// (RecordDelivery): the GitHub webhook's X-GitHub-Delivery check.
func (s *Store) DeliveryRecorded(ctx context.Context, deliveryID string) (bool, error) {
	var d deliveryItem
	found, err := s.get(ctx, deliveryPK(deliveryID), deliverySK, &d)
	if err != nil {
		return false, fmt.Errorf("read delivery %s: %w", deliveryID, err)
	}
	return found, nil
}
