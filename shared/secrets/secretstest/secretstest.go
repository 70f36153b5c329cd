// Package secretstest holds a recording double of the Secrets Manager client.
// There is no local emulator of Secrets Manager, so tests of code that reads
// secrets use this instead.
package secretstest

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Client answers GetSecretValue from Values (string secrets) or Binary
// (binary secrets), by secret id, and records every secret id asked for. Err,
// when set, is returned for every call.
type Client struct {
	Values map[string]string
	Binary map[string][]byte
	Err    error

	mu    sync.Mutex
	calls []string
}

// GetSecretValue implements secrets.GetSecretValueAPI.
func (c *Client) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	id := ""
	if in.SecretId != nil {
		id = *in.SecretId
	}
	c.mu.Lock()
	c.calls = append(c.calls, id)
	c.mu.Unlock()
	if c.Err != nil {
		return nil, c.Err
	}
	if b, ok := c.Binary[id]; ok {
		return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretBinary: b}, nil
	}
	v, ok := c.Values[id]
	if !ok {
		// The shape of Secrets Manager's answer for an unknown secret.
		return nil, fmt.Errorf("ResourceNotFoundException: Secrets Manager can't find the specified secret")
	}
	return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretString: &v}, nil
}

// Calls returns the secret ids asked for, in order.
func (c *Client) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}
