package s3_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/postmortem"
	"github.com/incidentd/incidentd/shared/s3"
	"github.com/incidentd/incidentd/shared/s3/s3local"
)

// newDocuments serves a versioned bucket with gofakes3 and returns the
// documents over it, and the raw client to count versions with.
func newDocuments(t *testing.T) (*s3.Documents, *awss3.Client) {
	t.Helper()
	srv, err := s3local.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c := s3local.Client(srv.Endpoint)
	if err := s3local.CreateBucket(context.Background(), c, "postmortems"); err != nil {
		t.Fatal(err)
	}
	return s3.New(c, "postmortems"), c
}

func versions(t *testing.T, c *awss3.Client, key string) int {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &awss3.ListObjectVersionsInput{Bucket: aws.String("postmortems"), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Versions)
}

func TestDocuments(t *testing.T) {
	ctx := context.Background()
	docs, c := newDocuments(t)
	key := postmortem.Key("01jabcdefghjkmnpqrstvwxyz0")

	if _, found, err := docs.Head(ctx, key); err != nil || found {
		t.Fatalf("head of nothing: got found %v, %v, want not found", found, err)
	}
	if _, err := docs.Get(ctx, key, ""); !errors.Is(err, errkind.NotFound) {
		t.Fatalf("get of nothing: got %v, want not found", err)
	}
	v1, err := docs.Put(ctx, key, []byte("# one\n"), postmortem.Object{})
	if err != nil {
		t.Fatal(err)
	}
	head, found, err := docs.Head(ctx, key)
	if err != nil || !found || head.SHA256 != postmortem.Digest([]byte("# one\n")) || head.VersionID != v1.VersionID {
		t.Fatalf("head: got %+v %v %v, want version %s with its hash", head, found, err, v1.VersionID)
	}
	// A writer that decided on no document at all lost the race.
	if _, err := docs.Put(ctx, key, []byte("# stale\n"), postmortem.Object{}); !errors.Is(err, errkind.Conflict) {
		t.Errorf("put over an unseen version: got %v, want conflict", err)
	}
	v2, err := docs.Put(ctx, key, []byte("# two\n"), head)
	if err != nil {
		t.Fatal(err)
	}
	if v2.VersionID == v1.VersionID || v2.VersionID == "" {
		t.Errorf("got versions %q and %q, want two different ones", v1.VersionID, v2.VersionID)
	}
	// Writing on the version before the latest is a conflict too.
	if _, err := docs.Put(ctx, key, []byte("# three\n"), head); !errors.Is(err, errkind.Conflict) {
		t.Errorf("put over a replaced version: got %v, want conflict", err)
	}
	got, err := docs.Get(ctx, key, "")
	if err != nil || string(got.Body) != "# two\n" || got.VersionID != v2.VersionID {
		t.Errorf("get latest: got %q %s %v, want # two at %s", got.Body, got.VersionID, err, v2.VersionID)
	}
	old, err := docs.Get(ctx, key, v1.VersionID)
	if err != nil || string(old.Body) != "# one\n" {
		t.Errorf("get version 1: got %q %v, want # one", old.Body, err)
	}
	if n := versions(t, c, key); n != 2 {
		t.Errorf("got %d versions, want 2", n)
	}
}
