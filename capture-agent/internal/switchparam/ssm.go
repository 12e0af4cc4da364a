// Reading the switch parameter with ssm:GetParameter, with the task role's credentials.
package switchparam

import (
	"bytes"
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

// ErrNotFound is SSM's ParameterNotFound.
var ErrNotFound = errors.New("parameter not found")

// Client reads one parameter.
type Client struct {
	Region   string
	Endpoint string // "" : https://ssm.<region>.amazonaws.com
	Getenv   func(string) string
	HTTP     *http.Client
	Now      func() time.Time

	mu    sync.Mutex
	creds Credentials
}

// NewClient builds a client from the environment; zone is the task's AZ (to derive the region
// when AWS_REGION is unset).
func NewClient(zone string) *Client {
	c := &Client{Getenv: os.Getenv, HTTP: &http.Client{Timeout: 5 * time.Second}, Now: time.Now}
	c.Region = firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	if c.Region == "" && len(zone) > 1 {
		c.Region = zone[:len(zone)-1] // us-east-1a -> us-east-1
	}
	c.Endpoint = os.Getenv("MIRROR_SSM_ENDPOINT") // tests only
	return c
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// Credentials returns the credentials the client signs with (for other AWS calls of the same
// program, e.g. the receiver's S3 uploads).
func (c *Client) Credentials(ctx context.Context) (Credentials, error) { return c.credentials(ctx) }

// credentials: static keys from the environment, else the ECS container credentials endpoint.
func (c *Client) credentials(ctx context.Context) (Credentials, error) {
	if id := c.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		return Credentials{AccessKeyID: id, SecretAccessKey: c.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: c.Getenv("AWS_SESSION_TOKEN")}, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.creds.AccessKeyID != "" && c.Now().Before(c.creds.Expiration.Add(-5*time.Minute)) {
		return c.creds, nil
	}
	url := c.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if rel := c.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		url = "http://169.254.170.2" + rel
	}
	if url == "" {
		return Credentials{}, errors.New("no AWS credentials (neither AWS_ACCESS_KEY_ID nor container credentials)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Credentials{}, err
	}
	token := c.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
	if f := c.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := c.HTTP.Do(req)
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
	c.creds = Credentials{AccessKeyID: body.AccessKeyID, SecretAccessKey: body.SecretAccessKey, SessionToken: body.Token, Expiration: body.Expiration}
	return c.creds, nil
}

// GetParameter returns the parameter's value.
func (c *Client) GetParameter(ctx context.Context, name string) (string, error) {
	if c.Region == "" {
		return "", errors.New("no AWS region (AWS_REGION unset and the task's zone unknown)")
	}
	creds, err := c.credentials(ctx)
	if err != nil {
		return "", err
	}
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = "https://ssm." + c.Region + ".amazonaws.com"
	}
	body, _ := json.Marshal(map[string]any{"Name": name})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	sign(req, body, creds, c.Region, "ssm", c.Now())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		if strings.HasSuffix(e.Type, "ParameterNotFound") {
			return "", ErrNotFound
		}
		return "", fmt.Errorf("ssm GetParameter: HTTP %d %s %s", resp.StatusCode, e.Type, e.Message)
	}
	var out struct{ Parameter struct{ Value string } }
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("ssm GetParameter: %w", err)
	}
	return out.Parameter.Value, nil
}
