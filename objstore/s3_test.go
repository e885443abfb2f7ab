package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/horaego/horaedb/internal/miniotest"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/objstoretest"
)

// TestS3 runs the S3 backend against a real MinIO.
func TestS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := miniotest.Start(t)
	const bucket = "horaedb"
	srv.CreateBucket(t, bucket)
	opts := func(prefix string) objstore.S3Options {
		return objstore.S3Options{
			Region: miniotest.Region, KeyID: miniotest.AccessKey, KeySecret: miniotest.SecretKey,
			Endpoint: srv.Endpoint, Bucket: bucket, Prefix: prefix,
		}
	}
	var n atomic.Int64
	freshPrefix := func() string { return fmt.Sprintf("/conformance/%d/", n.Add(1)) }

	t.Run("Conformance", func(t *testing.T) {
		t.Parallel()
		objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
			b, err := objstore.OpenS3(ctx, opts(freshPrefix()))
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
	})
	t.Run("ConformanceNoPrefix", func(t *testing.T) {
		t.Parallel()
		// The bucket root: each open gets its own bucket.
		objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
			name := fmt.Sprintf("root%d", n.Add(1))
			srv.CreateBucket(t, name)
			o := opts("")
			o.Bucket = name
			b, err := objstore.OpenS3(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
	})
	t.Run("Stack", func(t *testing.T) {
		t.Parallel()
		objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
			b, err := objstore.OpenS3(ctx, opts(freshPrefix()))
			if err != nil {
				t.Fatal(err)
			}
			return stack(t, b, nil)
		})
	})
	t.Run("PrefixLayout", func(t *testing.T) {
		// The seed's prefix = "{data_dir}" may come with slashes; keys live
		// at <prefix>/<key>, which is also what upstream writes.
		for _, prefix := range []string{"data/horaedb", "/data/horaedb/", "data/horaedb/"} {
			b, err := objstore.OpenS3(ctx, opts(prefix))
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Put(ctx, "tables/1/x", []byte("x")); err != nil {
				t.Fatal(err)
			}
			b.Close()
		}
		out, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("data/")})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		if fmt.Sprint(keys) != "[data/horaedb/tables/1/x]" {
			t.Fatalf("raw keys = %v", keys)
		}
	})
	t.Run("WrongKeyID", func(t *testing.T) {
		o := opts("p")
		o.KeyID = "nosuchkey"
		_, err := objstore.OpenS3(ctx, o)
		if !errors.Is(err, objstore.ErrPermissionDenied) || !strings.Contains(err.Error(), "analytic.storage.object_store.key_id") {
			t.Fatalf("OpenS3 with a wrong key id: %v", err)
		}
	})
	t.Run("WrongSecret", func(t *testing.T) {
		o := opts("p")
		o.KeySecret = "not-the-secret"
		_, err := objstore.OpenS3(ctx, o)
		if !errors.Is(err, objstore.ErrPermissionDenied) || !strings.Contains(err.Error(), "analytic.storage.object_store.key_secret") ||
			strings.Contains(err.Error(), "not-the-secret") {
			t.Fatalf("OpenS3 with a wrong secret: %v", err)
		}
	})
	t.Run("MissingBucket", func(t *testing.T) {
		o := opts("p")
		o.Bucket = "no-such-bucket"
		_, err := objstore.OpenS3(ctx, o)
		if !errors.Is(err, objstore.ErrBucketNotFound) || !strings.Contains(err.Error(), "analytic.storage.object_store.bucket") ||
			!strings.Contains(err.Error(), "no-such-bucket") {
			t.Fatalf("OpenS3 with a missing bucket: %v", err)
		}
	})
	t.Run("EndpointWithoutScheme", func(t *testing.T) {
		// No scheme means https; MinIO here speaks http, so this must fail
		// at open, naming the endpoint.
		o := opts("p")
		o.Endpoint = srv.Addr
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := objstore.OpenS3(ctx, o)
		if err == nil || !strings.Contains(err.Error(), "https://"+srv.Addr) {
			t.Fatalf("OpenS3 with https against an http server: %v", err)
		}
	})
	t.Run("Aliyun", func(t *testing.T) {
		// OSS addressing is virtual-host style: <bucket>.<endpoint>. MinIO
		// serves that for MINIO_DOMAIN=localhost; the dialer sends
		// *.localhost to the server.
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}
		_, port, _ := net.SplitHostPort(srv.Addr)
		var hosts atomic.Value
		open := func(prefix string) (objstore.Bucket, error) {
			return objstore.OpenAliyun(ctx, objstore.AliyunOptions{
				KeyID: miniotest.AccessKey, KeySecret: miniotest.SecretKey,
				Endpoint: "http://" + miniotest.Domain + ":" + port, Bucket: bucket, Prefix: prefix,
				Region: "oss-cn-hangzhou",
				HTTP: objstore.HTTPOptions{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					hosts.Store(addr)
					return dial(ctx, network, addr)
				}},
			})
		}
		objstoretest.Run(t, func(t *testing.T) objstore.Bucket {
			b, err := open(freshPrefix())
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
		if got, want := hosts.Load(), bucket+"."+miniotest.Domain+":"+port; got != want {
			t.Errorf("dialled %v, want virtual-host %s", got, want)
		}
		b, err := open("aliyun")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := b.Put(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		got, err := srv.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("aliyun/k")})
		if err != nil {
			t.Fatalf("object written through the Aliyun path is not at aliyun/k: %v", err)
		}
		got.Body.Close()
	})
	t.Run("DeadStore", func(t *testing.T) {
		// Once the store is gone, operations fail transiently (so WithRetry
		// retries them) and say where they were going.
		srv2 := miniotest.Start(t)
		srv2.CreateBucket(t, "dying")
		o := opts("p")
		o.Endpoint, o.Bucket = srv2.Endpoint, "dying"
		b, err := objstore.OpenS3(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := b.Put(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		srv2.Stop()
		_, err = b.Get(ctx, "k")
		if !objstore.IsTransient(err) || !strings.Contains(err.Error(), "s3://dying/p/") {
			t.Fatalf("Get from a stopped store: %v", err)
		}
		r, err := objstore.WithRetry(b, objstore.RetryOptions{MaxRetries: 2, InitialBackoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Put(ctx, "k", []byte("v")); !objstore.IsTransient(err) || !strings.Contains(err.Error(), "gave up after 3 attempts") {
			t.Fatalf("Put to a stopped store through WithRetry: %v", err)
		}
	})
	t.Run("BigPutIsAtomic", func(t *testing.T) {
		// 40 MiB goes up as a multipart upload; a reader sees all or none.
		b, err := objstore.OpenS3(ctx, opts(freshPrefix()))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		data := objstoretest.Data(3, 40<<20)
		if err := b.Put(ctx, "big", data); err != nil {
			t.Fatal(err)
		}
		got, err := b.Get(ctx, "big")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get: %d bytes, %v", len(got), err)
		}
	})
}

// TestS3Unreachable needs no server: a closed port fails at open, transient,
// naming the endpoint key.
func TestS3Unreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = objstore.OpenS3(context.Background(), objstore.S3Options{
		Endpoint: "http://" + addr, Bucket: "b", KeyID: "k", KeySecret: "s",
	})
	if !objstore.IsTransient(err) || !strings.Contains(err.Error(), "analytic.storage.object_store.endpoint") {
		t.Fatalf("OpenS3 against a closed port: %v", err)
	}
}

func TestS3OptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o    objstore.S3Options
		want string
	}{
		{objstore.S3Options{}, "bucket is required"},
		{objstore.S3Options{Bucket: "b", KeyID: "k"}, "must be set together"},
		{objstore.S3Options{Bucket: "b", Endpoint: "ftp://x"}, "endpoint"},
		{objstore.S3Options{Bucket: "b", Endpoint: "http://x/path"}, "endpoint"},
	} {
		_, err := objstore.OpenS3(context.Background(), tc.o)
		if !errors.Is(err, objstore.ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenS3(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	for _, tc := range []struct {
		o    objstore.AliyunOptions
		want string
	}{
		{objstore.AliyunOptions{Endpoint: "oss-cn-hangzhou.aliyuncs.com", Bucket: "b"}, "key_id"},
		{objstore.AliyunOptions{KeyID: "k", KeySecret: "s", Bucket: "b"}, "endpoint is required"},
		{objstore.AliyunOptions{KeyID: "k", KeySecret: "s", Bucket: "b", Endpoint: "oss.example.com"}, "cannot derive the OSS region"},
		{objstore.AliyunOptions{KeyID: "k", KeySecret: "s", Endpoint: "oss-cn-hangzhou.aliyuncs.com"}, "bucket is required"},
	} {
		_, err := objstore.OpenAliyun(context.Background(), tc.o)
		if !errors.Is(err, objstore.ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenAliyun(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestAliyunRegion(t *testing.T) {
	for host, want := range map[string]string{
		"oss-cn-hangzhou.aliyuncs.com":          "oss-cn-hangzhou",
		"oss-cn-hangzhou-internal.aliyuncs.com": "oss-cn-hangzhou",
		"OSS-US-WEST-1.aliyuncs.com":            "oss-us-west-1",
		"oss-cn-beijing.aliyuncs.com:443":       "oss-cn-beijing",
		"s3.oss-cn-shanghai.aliyuncs.com":       "oss-cn-shanghai",
		"oss-accelerate.aliyuncs.com":           "",
		"oss.example.com":                       "",
		"localhost:9000":                        "",
	} {
		if got := objstore.AliyunRegion(host); got != want {
			t.Errorf("AliyunRegion(%q) = %q, want %q", host, got, want)
		}
	}
}

// TestS3DefaultCredentialChain: without key_id the AWS default chain is
// used (here: the environment), and finding nothing is a clear error.
func TestS3DefaultCredentialChain(t *testing.T) {
	srv := miniotest.Start(t)
	srv.CreateBucket(t, "chain")
	ctx := context.Background()
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", miniotest.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", miniotest.SecretKey)
	o := objstore.S3Options{Endpoint: srv.Endpoint, Bucket: "chain"}
	b, err := objstore.OpenS3(ctx, o)
	if err != nil {
		t.Fatalf("credentials from the environment: %v", err)
	}
	b.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err = objstore.OpenS3(ctx, o)
	if !errors.Is(err, objstore.ErrPermissionDenied) || !strings.Contains(err.Error(), "analytic.storage.object_store.key_id") {
		t.Fatalf("no credentials anywhere: %v", err)
	}
	t.Log(err)
}
