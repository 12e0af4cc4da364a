// Package taskmeta reads the task's id and Availability Zone from the ECS task metadata endpoint v4.
package taskmeta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Task is what the agent needs to know about its task.
type Task struct {
	ARN  string
	ID   string // the ARN's last segment; "" when unknown
	Zone string // "" when unknown
}

// Fetch reads <uri>/task, trying a few times: the endpoint may lag the container's start.
func Fetch(ctx context.Context, uri string) (Task, error) {
	if uri == "" {
		return Task{}, nil
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return Task{}, ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		t, err := fetchOnce(ctx, uri)
		if err == nil {
			return t, nil
		}
		lastErr = err
	}
	return Task{}, lastErr
}

func fetchOnce(ctx context.Context, uri string) (Task, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(uri, "/")+"/task", nil)
	if err != nil {
		return Task{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Task{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return Task{}, fmt.Errorf("task metadata: HTTP %d", resp.StatusCode)
	}
	var body struct {
		TaskARN          string
		AvailabilityZone string
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return Task{}, fmt.Errorf("task metadata: %w", err)
	}
	return Task{ARN: body.TaskARN, ID: TaskID(body.TaskARN), Zone: body.AvailabilityZone}, nil
}

// TaskID is the last segment of a task ARN (arn:aws:ecs:r:a:task/cluster/id, or the old
// arn:aws:ecs:r:a:task/id), or the id itself.
func TaskID(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// RestartCount reads <uri> (this container's own metadata) and returns its RestartCount, which
// ECS reports for a container with a restart policy; 0 when absent or unreadable.
func RestartCount(ctx context.Context, uri string) uint64 {
	if uri == "" {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(uri, "/"), nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var body struct{ RestartCount uint64 }
	if resp.StatusCode != 200 || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body) != nil {
		return 0
	}
	return body.RestartCount
}
