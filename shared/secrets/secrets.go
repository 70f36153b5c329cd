// Package secrets reads the platform's secrets from AWS Secrets Manager.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// GetSecretValueAPI is the part of the Secrets Manager client this package uses.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Slack is the Slack app's secret. An empty BotToken turns Slack off for the
// escalation functions; an empty SigningSecret turns the API's Slack routes off.
type Slack struct {
	BotToken      string `json:"bot_token"`
	SigningSecret string `json:"signing_secret"`
}

// LoadSlack reads the Slack secret arn, a JSON object {"bot_token",
// "signing_secret"}. Missing fields are empty; other fields are ignored, so
// that operators may keep notes beside the values.
func LoadSlack(ctx context.Context, client GetSecretValueAPI, arn string) (Slack, error) {
	if strings.TrimSpace(arn) == "" {
		return Slack{}, fmt.Errorf("read Slack secret: no secret ARN")
	}
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return Slack{}, fmt.Errorf("read Slack secret %s: %w", arn, err)
	}
	if out == nil || out.SecretString == nil {
		return Slack{}, fmt.Errorf("read Slack secret %s: no string value (binary secrets are not supported)", arn)
	}
	var s Slack
	// The decoder's errors name offsets and types, never the secret's text.
	if err := json.Unmarshal([]byte(*out.SecretString), &s); err != nil {
		return Slack{}, fmt.Errorf(`read Slack secret %s: not a JSON object {"bot_token","signing_secret"} of strings: %w`, arn, err)
	}
	// A token pasted with a trailing newline still works; the signing secret is
	// an HMAC key and is used exactly as given.
	s.BotToken = strings.TrimSpace(s.BotToken)
	return s, nil
}

// NewClient returns the Secrets Manager client of an AWS configuration. Only
// the functions that read a secret (api, escalate, warroom, stream) call it,
// so only their bootstraps link the client.
func NewClient(cfg aws.Config) *secretsmanager.Client { return secretsmanager.NewFromConfig(cfg) }

// SlackReader reads the Slack secret with client (LoadSlack), as
// settings.SlackSecretReader: the bot token and the signing secret.
func SlackReader(client GetSecretValueAPI) func(ctx context.Context, arn string) (botToken, signingSecret string, err error) {
	return func(ctx context.Context, arn string) (string, string, error) {
		s, err := LoadSlack(ctx, client, arn)
		return s.BotToken, s.SigningSecret, err
	}
}

// GitHub is the GitHub webhook's secret, the key github_webhook_secret of
// the platform's secret (beside the Slack app's values; absent or empty:
// the webhook is off).
type GitHub struct {
	WebhookSecret string `json:"github_webhook_secret"`
}

// LoadGitHub reads github_webhook_secret of the secret arn, a JSON object
// (other fields are ignored).
func LoadGitHub(ctx context.Context, client GetSecretValueAPI, arn string) (GitHub, error) {
	if strings.TrimSpace(arn) == "" {
		return GitHub{}, fmt.Errorf("read GitHub secret: no secret ARN")
	}
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return GitHub{}, fmt.Errorf("read GitHub secret %s: %w", arn, err)
	}
	if out == nil || out.SecretString == nil {
		return GitHub{}, fmt.Errorf("read GitHub secret %s: no string value (binary secrets are not supported)", arn)
	}
	var g GitHub
	if err := json.Unmarshal([]byte(*out.SecretString), &g); err != nil {
		return GitHub{}, fmt.Errorf(`read GitHub secret %s: not a JSON object {"github_webhook_secret": ...} of strings: %w`, arn, err)
	}
	return g, nil
}

// GitHubReader reads the GitHub secret with client (LoadGitHub), as
// settings.GitHubSecretReader.
func GitHubReader(client GetSecretValueAPI) func(ctx context.Context, arn string) (string, error) {
	return func(ctx context.Context, arn string) (string, error) {
		g, err := LoadGitHub(ctx, client, arn)
		return g.WebhookSecret, err
	}
}

// AckLink is the key of the acknowledge links of SNS pages, the key
// ack_link_key of the platform's secret (README, "Acknowledge from the
// page"; absent or empty: pages carry no link).
type AckLink struct {
	Key string `json:"ack_link_key"`
}

// LoadAckLink reads ack_link_key of the secret arn, a JSON object (other
// fields are ignored).
func LoadAckLink(ctx context.Context, client GetSecretValueAPI, arn string) (AckLink, error) {
	if strings.TrimSpace(arn) == "" {
		return AckLink{}, fmt.Errorf("read ack link secret: no secret ARN")
	}
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return AckLink{}, fmt.Errorf("read ack link secret %s: %w", arn, err)
	}
	if out == nil || out.SecretString == nil {
		return AckLink{}, fmt.Errorf("read ack link secret %s: no string value (binary secrets are not supported)", arn)
	}
	var a AckLink
	if err := json.Unmarshal([]byte(*out.SecretString), &a); err != nil {
		return AckLink{}, fmt.Errorf(`read ack link secret %s: not a JSON object {"ack_link_key": ...} of strings: %w`, arn, err)
	}
	return a, nil
}

// AckLinkReader reads the ack link key with client (LoadAckLink), as
// settings.AckLinkSecretReader.
func AckLinkReader(client GetSecretValueAPI) func(ctx context.Context, arn string) (string, error) {
	return func(ctx context.Context, arn string) (string, error) {
		a, err := LoadAckLink(ctx, client, arn)
		return a.Key, err
	}
}
