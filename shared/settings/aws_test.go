package settings

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/logging"
)

// What Lambda puts in a function's environment (values of the kind it sets).
var lambdaEnv = map[string]string{
	"AWS_REGION":            "eu-west-1",
	"AWS_DEFAULT_REGION":    "eu-west-1",
	"AWS_ACCESS_KEY_ID":     "ASIAEXAMPLEEXAMPLE01",
	"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"AWS_SESSION_TOKEN":     "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
}

func withEnv(base map[string]string, set map[string]string) func(string) string {
	env := map[string]string{}
	for k, v := range base {
		env[k] = v
	}
	for k, v := range set {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestAWSFromEnv(t *testing.T) {
	tests := []struct {
		name        string
		give        map[string]string // changes to lambdaEnv; "" removes
		wantRegion  string
		wantKey     string
		wantSession string
		wantAccount string
		wantErr     string
	}{
		{name: "as Lambda sets it", wantRegion: "eu-west-1", wantKey: "ASIAEXAMPLEEXAMPLE01", wantSession: "IQoJb3JpZ2luX2VjEXAMPLETOKEN"},
		{name: "AWS_DEFAULT_REGION alone", give: map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-east-1"},
			wantRegion: "us-east-1", wantKey: "ASIAEXAMPLEEXAMPLE01", wantSession: "IQoJb3JpZ2luX2VjEXAMPLETOKEN"},
		{name: "long-term keys without a session token (sam local invoke)", give: map[string]string{"AWS_SESSION_TOKEN": ""},
			wantRegion: "eu-west-1", wantKey: "ASIAEXAMPLEEXAMPLE01"},
		{name: "account id when set", give: map[string]string{"AWS_ACCOUNT_ID": "123456789012"},
			wantRegion: "eu-west-1", wantKey: "ASIAEXAMPLEEXAMPLE01", wantSession: "IQoJb3JpZ2luX2VjEXAMPLETOKEN", wantAccount: "123456789012"},
		{name: "no region", give: map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": ""},
			wantErr: "AWS configuration: AWS_REGION not set (Lambda sets them for every function; to run a function elsewhere, set them as Lambda would)"},
		{name: "no credentials", give: map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": " "},
			wantErr: "AWS configuration: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not set (Lambda sets them for every function; to run a function elsewhere, set them as Lambda would)"},
		{name: "nothing", give: map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
			wantErr: "AWS configuration: AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not set (Lambda sets them for every function; to run a function elsewhere, set them as Lambda would)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := AWSFromEnv(withEnv(lambdaEnv, tt.give), nil)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error: got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tt.wantRegion {
				t.Errorf("region: got %q, want %q", cfg.Region, tt.wantRegion)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != tt.wantKey || creds.SecretAccessKey != lambdaEnv["AWS_SECRET_ACCESS_KEY"] ||
				creds.SessionToken != tt.wantSession || creds.AccountID != tt.wantAccount {
				t.Errorf("credentials: got %+v, want key %q, the secret key, session %q, account %q", creds, tt.wantKey, tt.wantSession, tt.wantAccount)
			}
			// Valid for the execution environment's life: nothing to refresh.
			if creds.CanExpire {
				t.Errorf("credentials: got CanExpire, want credentials that hold for the execution environment")
			}
		})
	}
}

// A client built from the configuration signs its requests with Lambda's
// credentials for Lambda's region.
func TestAWSFromEnvClients(t *testing.T) {
	var mu sync.Mutex
	var auth, token string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth, token = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	cfg, err := AWSFromEnv(withEnv(lambdaEnv, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "INC#1"}}
	if _, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "Credential=ASIAEXAMPLEEXAMPLE01/"; !strings.Contains(auth, want) || !strings.Contains(auth, "/eu-west-1/dynamodb/aws4_request") {
		t.Errorf("Authorization: got %q, want it signed with %s… for eu-west-1", auth, want)
	}
	if token != lambdaEnv["AWS_SESSION_TOKEN"] {
		t.Errorf("X-Amz-Security-Token: got %q, want the session token", token)
	}
}

// The SDK's own log lines (warnings) reach the function's JSON log.
func TestAWSFromEnvLogsAsJSON(t *testing.T) {
	var buf bytes.Buffer
	cfg, err := AWSFromEnv(withEnv(lambdaEnv, nil), slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Logf(logging.Warn, "retry quota exceeded, %d retry tokens", 0)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log: got %q, want one JSON line: %v", buf.String(), err)
	}
	if line["level"] != "WARN" || line["msg"] != "retry quota exceeded, 0 retry tokens" || line["source"] != "aws-sdk" {
		t.Errorf("log: got %v, want a WARN line with the SDK's message", line)
	}
}

// Every client the functions build behaves as under config.LoadDefaultConfig
// in the same environment: the same region, retry mode, attempts (DynamoDB's
// own default is 4 with a 25 ms base delay, the others' 3) and credentials.
func TestAWSFromEnvMatchesDefaultConfig(t *testing.T) {
	for k, v := range lambdaEnv {
		t.Setenv(k, v)
	}
	// Nothing of the machine's own AWS configuration.
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	for _, k := range []string{"AWS_PROFILE", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "AWS_ACCOUNT_ID", "AWS_ENDPOINT_URL", "AWS_DEFAULTS_MODE"} {
		t.Setenv(k, "")
	}
	ours, err := AWSFromEnv(withEnv(lambdaEnv, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type client struct {
		mode     aws.RetryMode
		attempts int
		region   string
	}
	clients := map[string]func(aws.Config) client{
		"dynamodb": func(c aws.Config) client {
			o := dynamodb.NewFromConfig(c).Options()
			return client{o.RetryMode, o.Retryer.MaxAttempts(), o.Region}
		},
		"sns": func(c aws.Config) client {
			o := sns.NewFromConfig(c).Options()
			return client{o.RetryMode, o.Retryer.MaxAttempts(), o.Region}
		},
		"sfn": func(c aws.Config) client {
			o := sfn.NewFromConfig(c).Options()
			return client{o.RetryMode, o.Retryer.MaxAttempts(), o.Region}
		},
		"secretsmanager": func(c aws.Config) client {
			o := secretsmanager.NewFromConfig(c).Options()
			return client{o.RetryMode, o.Retryer.MaxAttempts(), o.Region}
		},
		"cloudwatch": func(c aws.Config) client {
			o := cloudwatch.NewFromConfig(c).Options()
			return client{o.RetryMode, o.Retryer.MaxAttempts(), o.Region}
		},
	}
	for name, build := range clients {
		if got, want := build(ours), build(theirs); got != want {
			t.Errorf("%s client: got %+v, want %+v (as under LoadDefaultConfig)", name, got, want)
		}
	}
	got, err := ours.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := theirs.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey ||
		got.SessionToken != want.SessionToken || got.CanExpire != want.CanExpire {
		t.Errorf("credentials: got %+v, want those of LoadDefaultConfig %+v", got, want)
	}
}
