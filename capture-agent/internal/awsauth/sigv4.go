// Package awsauth signs the few AWS requests the agent and the receiver make (the switch's SSM
// GetParameter, the receiver's S3 PutObject) with AWS Signature Version 4, and finds the task
// role's credentials. No SDK: it would triple the binaries for three request shapes.
package awsauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Credentials are AWS credentials.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// SignBody adds X-Amz-Date, X-Amz-Security-Token (if any) and Authorization to req, whose body
// is body, whose URL has an empty query and a path that needs no escaping (as the SSM call's "/").
func SignBody(req *http.Request, body []byte, c Credentials, region, service string, now time.Time) {
	Sign(req, sha256Hex(body), c, region, service, now)
}

// Sign is SigV4 for a request whose body hashes to payloadHash (hex SHA-256, or
// "UNSIGNED-PAYLOAD"): it adds X-Amz-Date, X-Amz-Security-Token (if any) and Authorization,
// signing every header already set plus host. The canonical URI is req.URL.EscapedPath() as
// is: callers that need S3's encoding (every byte but A-Z a-z 0-9 - . _ ~ / percent-encoded)
// set URL.RawPath to it (see S3Path). The query must be empty.
func Sign(req *http.Request, payloadHash string, c Credentials, region, service string, now time.Time) {
	amzDate := now.UTC().Format("20060102T150405Z")
	date := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	if c.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", c.SessionToken)
	}
	headers := map[string]string{"host": req.URL.Host}
	for k, v := range req.Header {
		headers[strings.ToLower(k)] = strings.TrimSpace(strings.Join(v, ","))
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var canon strings.Builder
	for _, k := range names {
		canon.WriteString(k + ":" + headers[k] + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonicalRequest := strings.Join([]string{req.Method, path, req.URL.RawQuery, canon.String(), signed, payloadHash}, "\n")
	scope := date + "/" + region + "/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonicalRequest))
	key := hmacSHA256([]byte("AWS4"+c.SecretAccessKey), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.AccessKeyID+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
}

// S3Path percent-encodes an S3 object path the way SigV4 for S3 wants it: each byte except the
// unreserved characters and "/" as %XX (upper-case hex), encoded once.
func S3Path(p string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		}
	}
	return b.String()
}

// SHA256Hex is the hex SHA-256 of b (SigV4's payload hash).
func SHA256Hex(b []byte) string { return sha256Hex(b) }
