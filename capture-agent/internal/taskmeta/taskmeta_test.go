// Tests reading the task metadata endpoint.
package taskmeta

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/abc/task" {
			w.WriteHeader(404)
			return
		}
		io.WriteString(w, `{"Cluster":"c","TaskARN":"arn:aws:ecs:us-east-1:111122223333:task/c/0123abcd","AvailabilityZone":"us-east-1b"}`)
	}))
	defer srv.Close()
	task, err := Fetch(context.Background(), srv.URL+"/v4/abc")
	if err != nil || task.ID != "0123abcd" || task.Zone != "us-east-1b" {
		t.Fatalf("%+v %v", task, err)
	}
	if task, err := Fetch(context.Background(), ""); err != nil || task.ID != "" {
		t.Fatalf("no endpoint: %+v %v", task, err)
	}
	if TaskID("abc") != "abc" || TaskID("arn:aws:ecs:r:a:task/id1") != "id1" {
		t.Fatal("TaskID")
	}
}

// The container's own metadata (the endpoint itself, not /task) carries RestartCount when the
// container has a restart policy (ECS task metadata endpoint v4, "Container metadata response").
func TestRestartCount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v4/restarted":
			io.WriteString(w, `{"Name":"traffic-capture","RestartCount":2,"DockerId":"x"}`)
		case "/v4/fresh":
			io.WriteString(w, `{"Name":"traffic-capture"}`)
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if n := RestartCount(ctx, srv.URL+"/v4/restarted"); n != 2 {
		t.Fatalf("restarted: %d", n)
	}
	if n := RestartCount(ctx, srv.URL+"/v4/fresh"); n != 0 {
		t.Fatalf("fresh: %d", n)
	}
	if n := RestartCount(ctx, srv.URL+"/v4/missing"); n != 0 {
		t.Fatalf("missing: %d", n)
	}
	if n := RestartCount(ctx, ""); n != 0 {
		t.Fatalf("no endpoint: %d", n)
	}
}
