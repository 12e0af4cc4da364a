// Tests of switch values and the SSM client.
package switchparam

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]bool{
		"on": true, " ON ": true, "off": false, "Off": false,
		"on until 2030-01-01T13:00:00Z": true, "on until 2030-01-01T11:00:00Z": false,
		"ON UNTIL 2030-01-01t13:00:00+01:00": false, "on until 2030-01-02": true,
		"maybe": true, "": true, "on until tomorrow": true,
	} {
		if got := Parse(v).Active(now); got != want {
			t.Errorf("%q: %v", v, got)
		}
	}
	if !Parse("maybe").Unknown || Parse("off").Unknown {
		t.Error("unknown flag")
	}
}

func TestGetParameter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AK/") {
			w.WriteHeader(403)
			return
		}
		if strings.Contains(string(b), `"missing"`) {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"ParameterNotFound","message":""}`)
			return
		}
		io.WriteString(w, `{"Parameter":{"Name":"p","Value":"off","Version":1}}`)
	}))
	defer srv.Close()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "S"}
	c := &Client{Region: "us-east-1", Endpoint: srv.URL, Getenv: func(k string) string { return env[k] }, HTTP: srv.Client(), Now: time.Now}
	if v, err := c.GetParameter(context.Background(), "p"); err != nil || v != "off" {
		t.Fatalf("%q %v", v, err)
	}
	if _, err := c.GetParameter(context.Background(), "missing"); err != ErrNotFound {
		t.Fatalf("not found: %v", err)
	}
	env = map[string]string{}
	if _, err := c.GetParameter(context.Background(), "p"); err == nil {
		t.Fatal("no credentials but no error")
	}
}
