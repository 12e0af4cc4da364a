// Where the programs' AWS credentials come from: static keys in the environment, else the ECS
// container credentials endpoint (the task role), cached until 5 minutes before they expire.
package awsauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Source finds credentials; its zero value needs Getenv, HTTP and Now set (NewSource does).
type Source struct {
	Getenv func(string) string
	HTTP   *http.Client
	Now    func() time.Time

	mu    sync.Mutex
	creds Credentials
}

// NewSource reads the process's environment, with a 5 s timeout for the credentials endpoint.
func NewSource() *Source {
	return &Source{Getenv: os.Getenv, HTTP: &http.Client{Timeout: 5 * time.Second}, Now: time.Now}
}

// Get returns credentials to sign with.
func (s *Source) Get(ctx context.Context) (Credentials, error) {
	if id := s.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		return Credentials{AccessKeyID: id, SecretAccessKey: s.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: s.Getenv("AWS_SESSION_TOKEN")}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.creds.AccessKeyID != "" && s.Now().Before(s.creds.Expiration.Add(-5*time.Minute)) {
		return s.creds, nil
	}
	url := s.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if rel := s.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		url = "http://169.254.170.2" + rel
	}
	if url == "" {
		return Credentials{}, errors.New("no AWS credentials (neither AWS_ACCESS_KEY_ID nor container credentials)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Credentials{}, err
	}
	token := s.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
	if f := s.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return Credentials{}, err
	}
	defer resp.Body.Close()
	var body struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		Token           string
		Expiration      time.Time
	}
	if resp.StatusCode != 200 {
		return Credentials{}, fmt.Errorf("container credentials: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body); err != nil {
		return Credentials{}, fmt.Errorf("container credentials: %w", err)
	}
	s.creds = Credentials{AccessKeyID: body.AccessKeyID, SecretAccessKey: body.SecretAccessKey, SessionToken: body.Token, Expiration: body.Expiration}
	return s.creds, nil
}
