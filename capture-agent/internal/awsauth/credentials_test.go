// The credential source against a local container credentials endpoint (ECS task role), as the
// ECS developer guide describes it: GET the full URI with the authorization token; the answer
// carries AccessKeyId, SecretAccessKey, Token and Expiration.
package awsauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestContainerCredentialsCachedUntilNearExpiry(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Header.Get("Authorization") != "secret-token" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, `{"AccessKeyId":"ASIA%d","SecretAccessKey":"s","Token":"t","Expiration":%q}`, calls, now.Add(time.Hour).Format(time.RFC3339))
	}))
	defer srv.Close()
	env := map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-token"}
	clock := now
	s := &Source{Getenv: func(k string) string { return env[k] }, HTTP: srv.Client(), Now: func() time.Time { return clock }}
	first, err := s.Get(context.Background())
	if err != nil || first.AccessKeyID != "ASIA1" || first.SessionToken != "t" {
		t.Fatalf("first: %+v %v", first, err)
	}
	clock = now.Add(54 * time.Minute)
	if c, _ := s.Get(context.Background()); c.AccessKeyID != "ASIA1" || calls != 1 {
		t.Fatalf("cached until 5 minutes before expiry: %+v after %d calls", c, calls)
	}
	clock = now.Add(56 * time.Minute)
	if c, _ := s.Get(context.Background()); c.AccessKeyID != "ASIA2" || calls != 2 {
		t.Fatalf("refreshed near expiry: %+v after %d calls", c, calls)
	}
	env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong"
	s = &Source{Getenv: func(k string) string { return env[k] }, HTTP: srv.Client(), Now: func() time.Time { return clock }}
	if _, err := s.Get(context.Background()); err == nil {
		t.Fatal("a refused request must be an error")
	}
}

func TestStaticKeysWinAndNoSourceIsAnError(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}
	s := &Source{Getenv: func(k string) string { return env[k] }, HTTP: http.DefaultClient, Now: time.Now}
	if c, err := s.Get(context.Background()); err != nil || c.AccessKeyID != "AKID" || c.SessionToken != "tok" {
		t.Fatalf("%+v %v", c, err)
	}
	s = &Source{Getenv: func(string) string { return "" }, HTTP: http.DefaultClient, Now: time.Now}
	if _, err := s.Get(context.Background()); err == nil {
		t.Fatal("no credentials must be an error")
	}
}
