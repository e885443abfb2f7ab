package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/horaego/horaedb/proto/metapb"
)

// Admin calls HoraeMeta's admin HTTP API (any member; followers forward to
// the leader).
type Admin struct {
	base string
	hc   *http.Client
}

// NewAdmin returns a client of the admin API at addr ("host:port" or
// "http://host:port"); timeout bounds each request (0: 30s).
func NewAdmin(addr string, timeout time.Duration) (*Admin, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("meta admin address %q: want host:port or http://host:port", addr)
	}
	return &Admin{base: strings.TrimRight(u.String(), "/"), hc: &http.Client{Timeout: timeout}}, nil
}

// do sends a request and decodes the envelope's data into out.
func (a *Admin) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "horaectl")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("meta admin: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("meta admin: %s %s: %w", method, path, err)
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
		Msg    string          `json:"msg"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("meta admin: %s %s: HTTP %d, not a HoraeMeta answer: %.200s", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode/100 != 2 || env.Status != "success" {
		if r, ok := metapb.Reason_value[env.Error]; ok {
			return Errorf(metapb.Reason(r), "%s", env.Msg)
		}
		return fmt.Errorf("meta admin: %s %s: HTTP %d %s: %s", method, path, resp.StatusCode, env.Error, env.Msg)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("meta admin: %s %s: %w", method, path, err)
		}
	}
	return nil
}

func clusterPath(cluster, rest string) string {
	return "/api/v1/clusters/" + url.PathEscape(cluster) + rest
}

// Health returns the member's view of the leadership.
func (a *Admin) Health(ctx context.Context) (Health, error) {
	var h Health
	return h, a.do(ctx, http.MethodGet, "/api/v1/health", nil, &h)
}

// Clusters lists the clusters.
func (a *Admin) Clusters(ctx context.Context) ([]Cluster, error) {
	var out []Cluster
	return out, a.do(ctx, http.MethodGet, "/api/v1/clusters", nil, &out)
}

// CreateCluster creates a cluster.
func (a *Admin) CreateCluster(ctx context.Context, req CreateClusterRequest) (Cluster, error) {
	var out Cluster
	return out, a.do(ctx, http.MethodPost, "/api/v1/clusters", req, &out)
}

// Nodes lists a cluster's data nodes.
func (a *Admin) Nodes(ctx context.Context, cluster string) ([]Node, error) {
	var out []Node
	return out, a.do(ctx, http.MethodGet, clusterPath(cluster, "/nodes"), nil, &out)
}

// Shards lists a cluster's shards, with their tables if tables is set.
func (a *Admin) Shards(ctx context.Context, cluster string, tables bool) ([]Shard, error) {
	var out []Shard
	q := ""
	if tables {
		q = "?tables=true"
	}
	return out, a.do(ctx, http.MethodGet, clusterPath(cluster, "/shards"+q), nil, &out)
}

// Tables lists a cluster's tables of schema ("" for all).
func (a *Admin) Tables(ctx context.Context, cluster, schema string) ([]Table, error) {
	var out []Table
	q := ""
	if schema != "" {
		q = "?schema=" + url.QueryEscape(schema)
	}
	return out, a.do(ctx, http.MethodGet, clusterPath(cluster, "/tables"+q), nil, &out)
}

// Route says where tables live.
func (a *Admin) Route(ctx context.Context, cluster, schema string, tables []string) (RouteResult, error) {
	var out RouteResult
	return out, a.do(ctx, http.MethodPost, "/api/v1/route", RouteRequest{ClusterName: cluster, SchemaName: schema, Tables: tables}, &out)
}

// TransferLeader moves a shard to another node and waits for it.
func (a *Admin) TransferLeader(ctx context.Context, req TransferLeaderRequest) (Procedure, error) {
	var out Procedure
	return out, a.do(ctx, http.MethodPost, "/api/v1/transferLeader", req, &out)
}

// Diagnose reports what is wrong with a cluster.
func (a *Admin) Diagnose(ctx context.Context, cluster string) (Diagnosis, error) {
	var out Diagnosis
	return out, a.do(ctx, http.MethodGet, clusterPath(cluster, "/diagnose"), nil, &out)
}

// Schedule says whether a cluster's scheduler is on.
func (a *Admin) Schedule(ctx context.Context, cluster string) (bool, error) {
	var out Schedule
	err := a.do(ctx, http.MethodGet, clusterPath(cluster, "/enableSchedule"), nil, &out)
	return out.Enable, err
}

// SetSchedule turns a cluster's scheduler on or off.
func (a *Admin) SetSchedule(ctx context.Context, cluster string, on bool) error {
	return a.do(ctx, http.MethodPut, clusterPath(cluster, "/enableSchedule"), Schedule{Enable: on}, nil)
}

// Procedures lists a cluster's running and recent procedures.
func (a *Admin) Procedures(ctx context.Context, cluster string) ([]Procedure, error) {
	var out []Procedure
	return out, a.do(ctx, http.MethodGet, clusterPath(cluster, "/procedures"), nil, &out)
}
