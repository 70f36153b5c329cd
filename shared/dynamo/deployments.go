package dynamo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
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
//	                                                      r_pk=DEPLOY#<environment>, r_sk=<finished_at>#<id>
//	commit pointer  COMMIT#<sha>      DEPLOY#<id>         type=deploy_commit: the deployment ships commit <sha>
//	merged PR       COMMIT#<sha>      PR#<source>         type=merged_change, the change (pr_created_at, pr_merged_at)
//
// The window reads overload two incident indexes, both keys-only
// (schema.go): resolved_by_service holds a finished deployment under its
// service × environment, resolved under its environment, each by finish
// time. An incident's partition there is a service name or RESOLVED, which
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

// deployEnvPK is a deployment's partition in resolved.
func deployEnvPK(environment string) string { return deployPrefix + environment }

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
		it.EnvPK, it.EnvSK = deployEnvPK(r.Environment), pos
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

// DeploymentWindow selects the finished deployments of an environment (of
// one service, or of all when Service is empty) with From ≤ finished_at < To.
type DeploymentWindow struct {
	Service     string
	Environment string
	From, To    time.Time
}

// MaxDeploymentPage is the largest page FinishedDeployments returns.
const MaxDeploymentPage = batchGetLimit

// FinishedDeployments reads one page (at most limit, 1 to
// MaxDeploymentPage) of the deployments of w, oldest first, and the cursor
// of the next page ("" after the last). It is one Query of a keys-only
// index over the window's key range (resolved_by_service for one service,
// resolved for all) and one BatchGetItem of the page's records: nothing
// outside the window is read. cursor is "" for the first page.
func (s *Store) FinishedDeployments(ctx context.Context, w DeploymentWindow, limit int, cursor string) ([]deploy.Record, string, error) {
	if w.Environment == "" {
		w.Environment = dora.DefaultEnvironment
	}
	if limit <= 0 || limit > MaxDeploymentPage {
		limit = MaxDeploymentPage
	}
	if !w.From.Before(w.To) {
		return nil, "", nil
	}
	index, pkAttr, skAttr, pk := IndexResolved, resolvedPartitionKey, resolvedSortKey, deployEnvPK(w.Environment)
	if w.Service != "" {
		index, pkAttr, skAttr, pk = IndexServiceResolved, svcResolvedPartitionKey, svcResolvedSortKey, deployServicePK(w.Service, w.Environment)
	}
	// [From, To): a position is "<finished_at>#<id>", so every position at
	// To sorts after the bare time and before it does every one at From.
	keyCond := expression.Key(pkAttr).Equal(expression.Value(pk)).
		And(expression.Key(skAttr).Between(expression.Value(sortableTime(w.From)), expression.Value(sortableTime(w.To))))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, "", fmt.Errorf("build deployment query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(index),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		Limit: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		pos, err := base64.RawURLEncoding.DecodeString(cursor)
		_, id, ok := strings.Cut(string(pos), "#")
		if err != nil || !ok || id == "" {
			return nil, "", errkind.Invalidf("cursor %q is not a deployment cursor", cursor)
		}
		in.ExclusiveStartKey = key(deployPK(id), deploySK)
		in.ExclusiveStartKey[pkAttr] = &types.AttributeValueMemberS{Value: pk}
		in.ExclusiveStartKey[skAttr] = &types.AttributeValueMemberS{Value: string(pos)}
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("read deployments of %s %s: %w", w.Service, w.Environment, err)
	}
	var keys []map[string]types.AttributeValue
	order := map[string]int{}
	for i, item := range res.Items {
		pkv, _ := item[PartitionKey].(*types.AttributeValueMemberS)
		if pkv == nil {
			continue
		}
		order[pkv.Value] = i
		keys = append(keys, key(pkv.Value, deploySK))
	}
	out := make([]deploy.Record, len(res.Items))
	got := make([]bool, len(res.Items))
	if len(keys) > 0 {
		err = s.batchGet(ctx, types.KeysAndAttributes{Keys: keys}, func(item map[string]types.AttributeValue) error {
			var it deploymentItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return fmt.Errorf("decode deployment: %w", err)
			}
			i := order[it.PK]
			out[i], got[i] = it.record(), true
			return nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("read deployments of %s %s: %w", w.Service, w.Environment, err)
		}
	}
	records := make([]deploy.Record, 0, len(out))
	for i, r := range out {
		// An entry whose item changed since (the index trails the table)
		// is left out of a window it no longer falls in.
		if got[i] && !r.FinishedAt.Before(w.From) && r.FinishedAt.Before(w.To) {
			records = append(records, r)
		}
	}
	next := ""
	if res.LastEvaluatedKey != nil {
		if v, ok := res.LastEvaluatedKey[skAttr].(*types.AttributeValueMemberS); ok {
			next = base64.RawURLEncoding.EncodeToString([]byte(v.Value))
		}
	}
	return records, next, nil
}

// EachFinishedDeployment calls fn with every deployment of w, oldest first,
// page by page (what the DORA job reads for a window).
func (s *Store) EachFinishedDeployment(ctx context.Context, w DeploymentWindow, fn func(deploy.Record) error) error {
	cursor := ""
	for {
		page, next, err := s.FinishedDeployments(ctx, w, MaxDeploymentPage, cursor)
		if err != nil {
			return err
		}
		for _, r := range slices.Clip(page) {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
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
