// Package s3 keeps post-mortem documents in an S3 bucket with versioning
// (README "Post-mortems"): one key per incident (postmortem.Key), each
// rendering that differs from the stored one a new version. The SHA-256 of
// each version's content is kept in its metadata (x-amz-meta-sha256), so a
// rendering that is already stored is recognised by a HeadObject and not
// written again, and every write is conditional on the version it replaces
// (If-Match its ETag, or If-None-Match * for the first), so that two
// writers cannot both believe theirs is the latest.
//
// Locally and in the tests the bucket is gofakes3's S3 protocol server
// (package s3local), driven by the same SDK client.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/postmortem"
)

// Client is the part of the S3 API the documents use (*s3.Client is one).
type Client interface {
	HeadObject(ctx context.Context, in *awss3.HeadObjectInput, opts ...func(*awss3.Options)) (*awss3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *awss3.GetObjectInput, opts ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *awss3.PutObjectInput, opts ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
}

// NewClient is the S3 client of a function's main.
func NewClient(cfg aws.Config) *awss3.Client { return awss3.NewFromConfig(cfg) }

// hashKey is the metadata key of the content's SHA-256 (x-amz-meta-sha256).
const hashKey = "sha256"

// ContentType is the documents' content type.
const ContentType = "text/markdown; charset=utf-8"

// Documents is the bucket of post-mortems.
type Documents struct {
	c      Client
	bucket string
}

// New returns the documents of bucket.
func New(c Client, bucket string) *Documents { return &Documents{c: c, bucket: bucket} }

// Head returns the latest version of key without its body; found is false
// when there is none.
func (d *Documents) Head(ctx context.Context, key string) (obj postmortem.Object, found bool, err error) {
	out, err := d.c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(key)})
	if notFound(err) {
		return postmortem.Object{}, false, nil
	}
	if err != nil {
		return postmortem.Object{}, false, fmt.Errorf("head %s: %w", key, err)
	}
	return postmortem.Object{Key: key, VersionID: aws.ToString(out.VersionId), ETag: aws.ToString(out.ETag),
		SHA256: out.Metadata[hashKey]}, true, nil
}

// Get reads a version of key (versionID "" is the latest); a key or
// version that does not exist is errkind.NotFound.
func (d *Documents) Get(ctx context.Context, key, versionID string) (postmortem.Object, error) {
	in := &awss3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := d.c.GetObject(ctx, in)
	// S3 answers 400 InvalidArgument for a version id it never issued.
	if notFound(err) || versionID != "" && status(err) == http.StatusBadRequest {
		return postmortem.Object{}, errkind.NotFoundf("post-mortem %s not found", key)
	}
	if err != nil {
		return postmortem.Object{}, fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return postmortem.Object{}, fmt.Errorf("read %s: %w", key, err)
	}
	return postmortem.Object{Key: key, VersionID: aws.ToString(out.VersionId), ETag: aws.ToString(out.ETag),
		SHA256: out.Metadata[hashKey], Body: body}, nil
}

// Put writes body as the new latest version of key, provided the latest is
// still prev (the zero Object: there is none yet). Another writer having
// come between is errkind.Conflict: read again and decide again.
func (d *Documents) Put(ctx context.Context, key string, body []byte, prev postmortem.Object) (postmortem.Object, error) {
	sum := postmortem.Digest(body)
	in := &awss3.PutObjectInput{
		Bucket: aws.String(d.bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String(ContentType), ContentLength: aws.Int64(int64(len(body))),
		Metadata: map[string]string{hashKey: sum},
	}
	if prev.ETag != "" {
		in.IfMatch = aws.String(prev.ETag)
	} else {
		in.IfNoneMatch = aws.String("*")
	}
	out, err := d.c.PutObject(ctx, in)
	if conditionFailed(err) {
		return postmortem.Object{}, fmt.Errorf("put %s: %w", key, errkind.Conflictf("post-mortem %s changed while it was written", key))
	}
	if err != nil {
		return postmortem.Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	return postmortem.Object{Key: key, VersionID: aws.ToString(out.VersionId), ETag: aws.ToString(out.ETag), SHA256: sum}, nil
}

func notFound(err error) bool {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nk) || errors.As(err, &nf) || status(err) == http.StatusNotFound
}

// conditionFailed: the If-Match or If-None-Match did not hold (412), or a
// concurrent conditional write won (409 ConditionalRequestConflict).
func conditionFailed(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict") {
		return true
	}
	return status(err) == http.StatusPreconditionFailed
}

func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
