package table

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/horaego/horaedb/wal"
)

// ObkvDSN turns upstream's Obkv settings (analytic.wal.obkv: full_user_name,
// password, param_url) into the DSN of a MySQL-protocol endpoint of the
// same OceanBase cluster, which this WAL uses instead of the table API.
// param_url is one of:
//
//   - "mysql://host:port/database" or "host:port/database": the endpoint
//     itself (an OBProxy, an observer's SQL port, or any MySQL-protocol
//     database); the user is full_user_name as it is
//     ("user@tenant#cluster" is what OBProxy takes);
//   - an http(s) URL of the cluster's config server (upstream's usual
//     value, answering ObRootServiceInfo): the first observer of its RsList,
//     at its sql_port, with the database named by the URL's "database"
//     parameter; the user is full_user_name without "#cluster", which
//     observers do not take.
//
// client, if nil, is http.DefaultClient.
func ObkvDSN(ctx context.Context, client *http.Client, fullUser, password, paramURL string) (string, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = fullUser, password, "tcp"
	u, err := url.Parse(paramURL)
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https"):
		addr, err := observerAddr(ctx, client, paramURL)
		if err != nil {
			return "", err
		}
		cfg.Addr = addr
		cfg.DBName = u.Query().Get("database")
		if user, _, ok := strings.Cut(fullUser, "#"); ok {
			cfg.User = user
		}
	case err == nil && u.Scheme == "mysql":
		cfg.Addr = u.Host
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
	default:
		addr, db, _ := strings.Cut(paramURL, "/")
		cfg.Addr, cfg.DBName = addr, db
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return "", fmt.Errorf("wal/table: obkv param_url %q: no host:port: %w", paramURL, wal.ErrInvalid)
	}
	if cfg.DBName == "" {
		return "", fmt.Errorf("wal/table: obkv param_url %q names no database (\"mysql://host:port/database\", "+
			"or a config server URL with database=...): %w", paramURL, wal.ErrInvalid)
	}
	return cfg.FormatDSN(), nil
}

// rootServiceInfo is the answer of OceanBase's config server.
type rootServiceInfo struct {
	Code    int    `json:"Code"`
	Message string `json:"Message"`
	Data    struct {
		RsList []struct {
			Address string `json:"address"`
			Role    string `json:"role"`
			SQLPort int    `json:"sql_port"`
		} `json:"RsList"`
	} `json:"Data"`
}

// observerAddr asks the config server for the cluster's observers and
// returns the SQL address of the leader (or the first).
func observerAddr(ctx context.Context, client *http.Client, paramURL string) (string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, paramURL, nil)
	if err != nil {
		return "", fmt.Errorf("wal/table: obkv param_url: %w: %w", wal.ErrInvalid, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("wal/table: obkv config server: %w: %w", wal.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("wal/table: obkv config server: %s %v: %w", resp.Status, err, wal.ErrUnavailable)
	}
	var info rootServiceInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("wal/table: obkv config server answer: %w: %w", wal.ErrInvalid, err)
	}
	if info.Code != 0 && info.Code != http.StatusOK {
		return "", fmt.Errorf("wal/table: obkv config server: code %d %s: %w", info.Code, info.Message, wal.ErrUnavailable)
	}
	for _, leaderOnly := range []bool{true, false} {
		for _, rs := range info.Data.RsList {
			if leaderOnly && rs.Role != "LEADER" {
				continue
			}
			host, _, err := net.SplitHostPort(rs.Address)
			if err != nil || rs.SQLPort <= 0 {
				continue
			}
			return net.JoinHostPort(host, strconv.Itoa(rs.SQLPort)), nil
		}
	}
	return "", errors.Join(wal.ErrUnavailable, fmt.Errorf("wal/table: obkv config server lists no observer with a sql_port"))
}
