package awsauth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// AWS's published example "PUT Object" of Signature Version 4 for S3 (Amazon S3 API
// Reference, "Signature Calculations for the Authorization Header: Transferring Payload in a
// Single Chunk", example credentials and date 2013-05-24).
func TestSignS3PutObjectExample(t *testing.T) {
	body := []byte("Welcome to Amazon S3.")
	req, _ := http.NewRequest(http.MethodPut, "https://examplebucket.s3.amazonaws.com/test$file.text", strings.NewReader(string(body)))
	req.URL.RawPath = S3Path("/test$file.text")
	if req.URL.EscapedPath() != "/test%24file.text" {
		t.Fatalf("escaped path %q", req.URL.EscapedPath())
	}
	hash := SHA256Hex(body)
	if hash != "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072" {
		t.Fatalf("payload hash %s", hash)
	}
	req.Header.Set("Date", "Fri, 24 May 2013 00:00:00 GMT")
	req.Header.Set("x-amz-storage-class", "REDUCED_REDUNDANCY")
	req.Header.Set("x-amz-content-sha256", hash)
	now := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	Sign(req, hash, Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, "us-east-1", "s3", now)
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
		"SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, " +
		"Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
	if got := req.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization\n got %s\nwant %s", got, want)
	}
}

func TestS3Path(t *testing.T) {
	got := S3Path("/bucket/p/vni=42/source=fd00::1/date=2026-12-06/a b+c.pcap")
	want := "/bucket/p/vni%3D42/source%3Dfd00%3A%3A1/date%3D2026-12-06/a%20b%2Bc.pcap"
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}
