// Package s3local serves an S3 bucket in process for `make local` and the
// tests: gofakes3's S3 protocol server (in-memory, with versioning) on a
// loopback port, reached with the same SDK client the Lambda uses.
package s3local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is a running in-process S3.
type Server struct {
	// Endpoint is its URL, http://127.0.0.1:<port>.
	Endpoint string
	srv      *http.Server
}

// Start serves S3 on addr ("127.0.0.1:0" picks a free port) until Close.
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("local S3 on %s: %w", addr, err)
	}
	faker := gofakes3.New(s3mem.New())
	s := &Server{Endpoint: "http://" + ln.Addr().String(), srv: &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener closed under it: Close was called
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Client is an S3 client of the server at endpoint (path-style addressing,
// static local credentials).
func Client(endpoint string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		UsePathStyle: true,
	})
}

// CreateBucket creates bucket with versioning on, as the stack's bucket
// (an existing bucket is kept).
func CreateBucket(ctx context.Context, c *awss3.Client, bucket string) error {
	_, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	_, err = c.PutBucketVersioning(ctx, &awss3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return fmt.Errorf("turn on versioning of %s: %w", bucket, err)
	}
	return nil
}
