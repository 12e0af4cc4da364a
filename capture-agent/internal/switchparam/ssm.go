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

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/awsauth"
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

	once  sync.Once
	creds *awsauth.Source
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

// source is where the client's credentials come from, built once from its fields.
func (c *Client) source() *awsauth.Source {
	c.once.Do(func() { c.creds = &awsauth.Source{Getenv: c.Getenv, HTTP: c.HTTP, Now: c.Now} })
	return c.creds
}

// GetParameter returns the parameter's value.
func (c *Client) GetParameter(ctx context.Context, name string) (string, error) {
	if c.Region == "" {
		return "", errors.New("no AWS region (AWS_REGION unset and the task's zone unknown)")
	}
	creds, err := c.source().Get(ctx)
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
	awsauth.SignBody(req, body, creds, c.Region, "ssm", c.Now())
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
