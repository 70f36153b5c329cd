package customresource_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/incidentd/incidentd/shared/customresource"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// cloudFormation stands for the pre-signed S3 URL CloudFormation waits on:
// it records each answer PUT to it, and answers status.
type cloudFormation struct {
	*httptest.Server
	mu      sync.Mutex
	answers []cfn.Response
	headers []http.Header
	status  int
}

func newCloudFormation(t *testing.T) *cloudFormation {
	c := &cloudFormation{status: http.StatusOK}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var resp cfn.Response
		if r.Method != http.MethodPut || json.Unmarshal(body, &resp) != nil {
			http.Error(w, "want a PUT of a JSON answer", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.answers = append(c.answers, resp)
		c.headers = append(c.headers, r.Header.Clone())
		w.WriteHeader(c.status)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *cloudFormation) last(t *testing.T) cfn.Response {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.answers) == 0 {
		t.Fatal("CloudFormation got no answer")
	}
	return c.answers[len(c.answers)-1]
}

type env struct {
	store   *dynamo.Store
	handler *customresource.Handler
	cf      *cloudFormation
}

func newEnv(t *testing.T) env {
	store := dynamotest.Store(t)
	cf := newCloudFormation(t)
	return env{store: store, cf: cf, handler: &customresource.Handler{
		Services: incident.NewService(store, incident.Rules{}),
		// The test's CloudFormation is a local http server.
		Responder: customresource.HTTPResponder{Client: cf.Client(), Allowed: func(*url.URL) bool { return true }},
		Logger:    slog.New(slog.DiscardHandler),
	}}
}

// fixture reads events/seed-<name>.json, its ResponseURL pointed at cf.
func fixture(t *testing.T, name string, cf *cloudFormation) cfn.Event {
	t.Helper()
	raw, err := os.ReadFile("../../events/seed-" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var ev cfn.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev.ResponseURL = cf.URL + "/answer?X-Amz-Signature=0"
	return ev
}

func managed(t *testing.T, store *dynamo.Store) map[string]incident.ServiceConfig {
	t.Helper()
	all, err := store.ListServiceConfigs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]incident.ServiceConfig{}
	for _, c := range all {
		out[c.Name] = c
	}
	return out
}

// CloudFormation's Create, delivered five times (Lambda's asynchronous
// retries, CloudFormation's own): each answered SUCCESS with the same
// physical id, and the table holds the file's two services, marked.
func TestCreateAppliesTheFile(t *testing.T) {
	e := newEnv(t)
	ev := fixture(t, "create", e.cf)
	for i := range 5 {
		if err := e.handler.Handle(context.Background(), ev); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
		got := e.cf.last(t)
		if got.Status != cfn.StatusSuccess || got.PhysicalResourceID != customresource.PhysicalID ||
			got.RequestID != ev.RequestID || got.LogicalResourceID != "ServicesFile" || got.StackID != ev.StackID {
			t.Errorf("delivery %d: got answer %+v, want SUCCESS for the request, physical id %s", i+1, got, customresource.PhysicalID)
		}
		if got.Data["Written"] != "checkout,payments" {
			t.Errorf("delivery %d: got Data %v, want Written checkout,payments", i+1, got.Data)
		}
	}
	if ct := e.cf.headers[0].Get("Content-Type"); ct != "" {
		t.Errorf("answer's Content-Type: got %q, want none (the URL's signature has none)", ct)
	}
	got := managed(t, e.store)
	want := map[string]incident.ServiceConfig{
		"checkout": {Name: "checkout", Policy: "checkout", DefaultSeverity: incident.SEV2, Alarms: []string{"checkout-*"}, ManagedBy: "infra/services.example.json"},
		"payments": {Name: "payments", DefaultSeverity: incident.SEV1, AutoResolve: true, ManagedBy: "infra/services.example.json"},
	}
	for name, c := range got {
		c.UpdatedAt = want[name].UpdatedAt
		got[name] = c
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("services: got %+v, want %+v", got, want)
	}
}

// An Update whose file dropped payments removes payments' settings; a
// Delete (the stack deleted, or the resource replaced) changes nothing.
func TestUpdateAndDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.handler.Handle(ctx, fixture(t, "create", e.cf)); err != nil {
		t.Fatal(err)
	}
	up := fixture(t, "create", e.cf)
	up.RequestType = cfn.RequestUpdate
	up.PhysicalResourceID = customresource.PhysicalID
	up.ResourceProperties[customresource.PropertyServices] = `[{"name":"checkout","default_severity":"SEV1"}]`
	if err := e.handler.Handle(ctx, up); err != nil {
		t.Fatal(err)
	}
	if got := e.cf.last(t); got.Status != cfn.StatusSuccess || got.Data["Removed"] != "payments" {
		t.Errorf("update: got %+v, want SUCCESS removing payments", got)
	}
	after := managed(t, e.store)
	if _, ok := after["payments"]; ok || after["checkout"].DefaultSeverity != incident.SEV1 {
		t.Errorf("after the update: got %+v, want checkout at SEV1 alone", after)
	}
	if err := e.handler.Handle(ctx, fixture(t, "delete", e.cf)); err != nil {
		t.Fatal(err)
	}
	if got := e.cf.last(t); got.Status != cfn.StatusSuccess || got.PhysicalResourceID != customresource.PhysicalID {
		t.Errorf("delete: got %+v, want SUCCESS", got)
	}
	if got := managed(t, e.store); len(got) != 1 || got["checkout"].ManagedBy == "" {
		t.Errorf("after the delete: got %+v, want checkout kept", got)
	}
}

// A request the file's rules refuse is answered FAILED with the reason
// (CloudFormation shows it and rolls back), and writes nothing.
func TestBadRequestsAnswerFailed(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*cfn.Event)
		wantReason string
	}{
		{"bad severity", func(ev *cfn.Event) {
			ev.ResourceProperties[customresource.PropertyServices] = `[{"name":"checkout"},{"name":"payments","default_severity":"SEV9"}]`
		}, "payments"},
		{"not JSON", func(ev *cfn.Event) { ev.ResourceProperties[customresource.PropertyServices] = `[{` }, "property Services"},
		{"unknown setting", func(ev *cfn.Event) {
			ev.ResourceProperties[customresource.PropertyServices] = `[{"name":"checkout","polcy":"x"}]`
		}, `unknown field "polcy"`},
		{"no file", func(ev *cfn.Event) { delete(ev.ResourceProperties, customresource.PropertyFile) }, "property File"},
		{"bad name", func(ev *cfn.Event) { ev.ResourceProperties[customresource.PropertyServices] = `[{"name":"Check Out"}]` }, "not a valid name"},
		{"unknown request type", func(ev *cfn.Event) { ev.RequestType = "Replace" }, `request type "Replace"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ev := fixture(t, "create", e.cf)
			tt.edit(&ev)
			if err := e.handler.Handle(context.Background(), ev); err != nil {
				t.Fatalf("Handle: got %v, want the failure answered", err)
			}
			got := e.cf.last(t)
			if got.Status != cfn.StatusFailed || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("got %s %q, want FAILED naming %q", got.Status, got.Reason, tt.wantReason)
			}
			if all := managed(t, e.store); len(all) != 0 {
				t.Errorf("written after a refused request: %+v", all)
			}
		})
	}
}

// An answer CloudFormation's URL refuses fails the invocation, so that
// Lambda retries it (then keeps it in the failure queue).
func TestUndeliveredAnswerFails(t *testing.T) {
	e := newEnv(t)
	e.cf.status = http.StatusForbidden
	err := e.handler.Handle(context.Background(), fixture(t, "create", e.cf))
	if err == nil || !strings.Contains(err.Error(), "status 403") {
		t.Errorf("got %v, want an error naming status 403", err)
	}
	noURL := fixture(t, "create", e.cf)
	noURL.ResponseURL = ""
	if err := e.handler.Handle(context.Background(), noURL); !errors.Is(err, customresource.ErrNoResponseURL) {
		t.Errorf("no ResponseURL: got %v, want ErrNoResponseURL", err)
	}
}

// The API cannot change what the file wrote (409 naming the file).
func TestAppliedServicesRefuseTheAPI(t *testing.T) {
	e := newEnv(t)
	if err := e.handler.Handle(context.Background(), fixture(t, "create", e.cf)); err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(e.store, incident.Rules{})
	_, err := svc.PutServiceConfig(context.Background(), incident.ServiceConfig{Name: "payments"})
	if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), "infra/services.example.json") {
		t.Errorf("PUT of a managed service: got %v, want a conflict naming the file", err)
	}
}

func TestPropertiesRoundTrip(t *testing.T) {
	give := []incident.ServiceConfig{
		{Name: "checkout", Policy: "checkout", DefaultSeverity: incident.SEV2, AutoResolve: true,
			PagingSeverities: []incident.Severity{incident.SEV1}, Alarms: []string{"a-*"}, ReportThreshold: 2,
			ReportWindowMinutes: 10, ReportSeverity: incident.SEV1},
		{Name: "payments"},
	}
	props, err := customresource.Properties("infra/services.json", give)
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as the template and CloudFormation carry them.
	b, _ := json.Marshal(props)
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	file, got, err := customresource.DecodeProperties(back)
	if err != nil || file != "infra/services.json" || !reflect.DeepEqual(got, give) {
		t.Errorf("got %q %+v %v, want infra/services.json %+v", file, got, err, give)
	}
}

func FuzzDecodeProperties(f *testing.F) {
	f.Add("infra/services.json", `[{"name":"checkout","policy":"checkout","default_severity":"SEV2"}]`)
	f.Add("x", `[{"name":"","paging_severities":["SEV9"],"report_threshold":-1}]`)
	f.Add("x", `null`)
	f.Fuzz(func(t *testing.T, file, services string) {
		_, configs, err := customresource.DecodeProperties(map[string]any{
			customresource.PropertyFile: file, customresource.PropertyServices: services,
		})
		if err == nil {
			for _, c := range configs {
				_ = c.Validate() // must not panic
			}
		}
	})
}

// Answers go to CloudFormation's S3 URLs alone, and follow no redirect:
// whoever may invoke the seed function cannot aim its PUT elsewhere.
func TestResponderAnswersCloudFormationAlone(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want bool
	}{
		{"https://cloudformation-custom-resource-response-eucentral1.s3.eu-central-1.amazonaws.com/arn?X-Amz-Signature=x", true},
		{"https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/arn", true},
		{"http://cloudformation-custom-resource-response-eucentral1.s3.eu-central-1.amazonaws.com/arn", false},
		{"https://169.254.169.254/latest/meta-data/", false},
		{"https://amazonaws.com.evil.example/x", false},
		{"https://user@bucket.s3.amazonaws.com/x", false},
	} {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := customresource.CloudFormationURL(u); got != tt.want {
			t.Errorf("CloudFormationURL(%s) = %v, want %v", tt.url, got, tt.want)
		}
	}
	hit := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer target.Close()
	if err := (customresource.HTTPResponder{}).Respond(context.Background(), target.URL+"/x", []byte("{}")); !errors.Is(err, customresource.ErrBadResponseURL) || hit {
		t.Errorf("a local URL: got %v (reached: %v), want ErrBadResponseURL and no request", err, hit)
	}
	redirect := httptest.NewServer(http.RedirectHandler(target.URL+"/elsewhere", http.StatusTemporaryRedirect))
	defer redirect.Close()
	all := customresource.HTTPResponder{Allowed: func(*url.URL) bool { return true }}
	if err := all.Respond(context.Background(), redirect.URL+"/answer", []byte("{}")); err == nil || hit {
		t.Errorf("a redirect: got %v (followed: %v), want an error and no request to the target", err, hit)
	}
}
