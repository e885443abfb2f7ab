// Command bench runs the Time Series Benchmark Suite's cpu-only use case
// against a horaedb binary through its InfluxDB API, unmodified: it
// generates the data and the queries with TSBS's own tools, starts horaedb
// with a bench config in a temporary directory, loads with
// tsbs_load_influx, runs every cpu-only query type with
// tsbs_run_queries_influx, checks the answers for sanity, and prints one
// summary. `make bench-tsbs` builds the tools and runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// queryTypes are TSBS's cpu-only query types and the rows one query of
// each answers (-1: depends on the data), for hosts h. A query's time
// window need not start on a bucket boundary: then each series has one
// bucket more, as in InfluxDB.
var queryTypes = []struct {
	name string
	rows func(hosts int) int
}{
	{"single-groupby-1-1-1", func(int) int { return 60 }},
	{"single-groupby-1-1-12", func(int) int { return 720 }},
	{"single-groupby-1-8-1", func(int) int { return 60 }},
	{"single-groupby-5-1-1", func(int) int { return 60 }},
	{"single-groupby-5-1-12", func(int) int { return 720 }},
	{"single-groupby-5-8-1", func(int) int { return 60 }},
	{"cpu-max-all-1", func(int) int { return 8 }},
	{"cpu-max-all-8", func(int) int { return 8 }},
	{"double-groupby-1", func(h int) int { return 12 * h }},
	{"double-groupby-5", func(h int) int { return 12 * h }},
	{"double-groupby-all", func(h int) int { return 12 * h }},
	{"high-cpu-1", func(int) int { return -1 }},
	{"high-cpu-all", func(int) int { return -1 }},
	{"lastpoint", func(h int) int { return h }},
	{"groupby-orderby-limit", func(int) int { return 5 }},
}

type config struct {
	bin, tools, dir      string
	hosts                int
	duration             time.Duration
	workers, batch       int
	queries, queryWorker int
	only                 string
	keep                 bool
}

func main() {
	var c config
	flag.StringVar(&c.bin, "horaedb", "bin/horaedb", "the horaedb binary")
	flag.StringVar(&c.tools, "tools", ".cache/tools", "where the tsbs_* binaries are")
	flag.StringVar(&c.dir, "dir", "", "working directory (default: a new temporary one, removed at the end)")
	flag.IntVar(&c.hosts, "hosts", 100, "TSBS scale: number of hosts")
	flag.DurationVar(&c.duration, "duration", 24*time.Hour, "time span of the data, from 2016-01-01T00:00:00Z")
	flag.IntVar(&c.workers, "workers", 2, "loader workers")
	flag.IntVar(&c.batch, "batch", 10000, "loader batch size (lines)")
	flag.IntVar(&c.queries, "queries", 100, "queries per query type")
	flag.IntVar(&c.queryWorker, "query-workers", 1, "query runner workers")
	flag.StringVar(&c.only, "only", "", "comma-separated query types to run (default: all)")
	flag.BoolVar(&c.keep, "keep", false, "keep the working directory")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench-tsbs:", err)
		os.Exit(1)
	}
}

const start = "2016-01-01T00:00:00Z"

func run(c config) error {
	if c.dir == "" {
		d, err := os.MkdirTemp("", "tsbs-")
		if err != nil {
			return err
		}
		c.dir = d
		if !c.keep {
			defer os.RemoveAll(d)
		}
	}
	end := mustTime(start).Add(c.duration).Format(time.RFC3339)
	tool := func(name string) string { return filepath.Join(c.tools, name) }

	// 1. Data, generated before the clock starts.
	dataFile := filepath.Join(c.dir, fmt.Sprintf("cpu-only-%d-%s.influx", c.hosts, c.duration))
	fmt.Printf("== generating %d hosts × %s of cpu-only data\n", c.hosts, c.duration)
	if err := runTo(dataFile, tool("tsbs_generate_data"), "--use-case=cpu-only", "--seed=123",
		"--scale="+strconv.Itoa(c.hosts), "--timestamp-start="+start, "--timestamp-end="+end,
		"--log-interval=10s", "--format=influx"); err != nil {
		return err
	}

	// 2. The server.
	srv, err := startServer(c)
	if err != nil {
		return err
	}
	defer srv.stop()
	base := "http://" + srv.addr + "/influxdb/v1"

	// 3. Load.
	fmt.Printf("== loading with %d workers, batches of %d\n", c.workers, c.batch)
	cpu0 := srv.cpu()
	t0 := time.Now()
	loadOut, err := output(tool("tsbs_load_influx"), "--file="+dataFile, "--urls="+base, "--db-name=benchmark",
		"--workers="+strconv.Itoa(c.workers), "--batch-size="+strconv.Itoa(c.batch), "--do-create-db=true",
		"--reporting-period=0s")
	if err != nil {
		return fmt.Errorf("load: %w\n%s", err, loadOut)
	}
	loadTime := time.Since(t0)
	loadCPU := srv.cpu() - cpu0
	metricsRate := grab(loadOut, `loaded (\d+) metrics in [\d.]+sec with \d+ workers \(mean rate ([\d.]+) metrics/sec\)`)
	rowsRate := grab(loadOut, `loaded (\d+) rows in [\d.]+sec with \d+ workers \(mean rate ([\d.]+) rows/sec\)`)
	if metricsRate == nil || rowsRate == nil {
		return fmt.Errorf("cannot read the loader's summary:\n%s", loadOut)
	}
	metrics, _ := strconv.ParseFloat(metricsRate[1], 64)

	// 4. Flush and compact, then measure the disk.
	for _, path := range []string{"/debug/flush_memtable", "/debug/compact_table"} {
		if err := srv.post(path); err != nil {
			return err
		}
	}
	store := dirSize(filepath.Join(c.dir, "data", "store"))

	// 5. Queries: sanity first, then timing.
	fmt.Printf("== queries: %d per type\n", c.queries)
	type timing struct {
		name              string
		mean, median, qps float64
		rows              int
	}
	var timings []timing
	for _, qt := range queryTypes {
		if c.only != "" && !strings.Contains(","+c.only+",", ","+qt.name+",") {
			continue
		}
		qfile := filepath.Join(c.dir, qt.name+".queries")
		if err := runTo(qfile, tool("tsbs_generate_queries"), "--use-case=cpu-only", "--seed=123",
			"--scale="+strconv.Itoa(c.hosts), "--timestamp-start="+start, "--timestamp-end="+end,
			"--queries="+strconv.Itoa(c.queries), "--query-type="+qt.name, "--format=influx"); err != nil {
			return err
		}
		rows, err := sanity(tool("tsbs_run_queries_influx"), qfile, base, qt.rows(c.hosts))
		if err != nil {
			return fmt.Errorf("%s: %w", qt.name, err)
		}
		out, err := output(tool("tsbs_run_queries_influx"), "--file="+qfile, "--urls="+base, "--db-name=benchmark",
			"--workers="+strconv.Itoa(c.queryWorker), "--print-interval=0")
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", qt.name, err, out)
		}
		m := grab(out, `all queries\s*:\s*\n\s*min:\s*[\d.]+ms, med:\s*([\d.]+)ms, mean:\s*([\d.]+)ms`)
		q := grab(out, `Overall query rate ([\d.]+) queries/sec`)
		if m == nil || q == nil {
			return fmt.Errorf("%s: cannot read the runner's summary:\n%s", qt.name, out)
		}
		med, _ := strconv.ParseFloat(m[1], 64)
		mean, _ := strconv.ParseFloat(m[2], 64)
		qps, _ := strconv.ParseFloat(q[1], 64)
		timings = append(timings, timing{qt.name, mean, med, qps, rows})
		fmt.Printf("   %-24s median %9.2f ms  mean %9.2f ms  (%d rows)\n", qt.name, med, mean, rows)
	}
	rss := srv.peakRSS()

	// 6. Summary.
	fmt.Printf("\n== TSBS cpu-only, %d hosts, %s at 10s: %.0f metrics (%s rows)\n", c.hosts, c.duration, metrics, rowsRate[1])
	fmt.Printf("load:    %s metrics/s, %s rows/s (%s, %d workers, batch %d); server CPU %.2f µs/metric\n",
		metricsRate[2], rowsRate[2], loadTime.Round(time.Millisecond), c.workers, c.batch,
		float64(loadCPU.Microseconds())/metrics)
	fmt.Printf("disk:    %d bytes of SSTs and manifests after compaction: %.3f bytes/metric\n", store, float64(store)/metrics)
	fmt.Printf("memory:  peak RSS %.1f MiB\n", float64(rss)/(1<<20))
	fmt.Printf("queries: %-24s %10s %10s %8s\n", "type", "median ms", "mean ms", "q/s")
	for _, t := range timings {
		fmt.Printf("         %-24s %10.2f %10.2f %8.1f\n", t.name, t.median, t.mean, t.qps)
	}
	return nil
}

// sanity runs the first query of a file with the responses printed and
// checks that it answered the expected number of rows (want < 0: any).
func sanity(runner, qfile, base string, want int) (int, error) {
	out, err := output(runner, "--file="+qfile, "--urls="+base, "--db-name=benchmark", "--workers=1",
		"--max-queries=1", "--print-responses=true", "--print-interval=0")
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, out)
	}
	i := strings.Index(out, "{")
	j := strings.LastIndex(out, "}")
	if i < 0 || j < i {
		return 0, fmt.Errorf("no response printed:\n%s", out)
	}
	var body struct {
		Response struct {
			Results []struct {
				Error  string
				Series []struct{ Values [][]any }
			}
		}
	}
	// The runner prefixes every line of the JSON with "ID n: ".
	var clean strings.Builder
	for _, line := range strings.Split(out[i:j+1], "\n") {
		if k := strings.Index(line, ": "); k >= 0 && strings.HasPrefix(line, "ID ") {
			line = line[k+2:]
		}
		clean.WriteString(line + "\n")
	}
	if err := json.Unmarshal([]byte(clean.String()), &body); err != nil {
		return 0, fmt.Errorf("the response is not JSON: %v\n%s", err, out)
	}
	rows := 0
	for _, r := range body.Response.Results {
		if r.Error != "" {
			return 0, fmt.Errorf("the query failed: %s", r.Error)
		}
		for _, s := range r.Series {
			rows += len(s.Values)
		}
	}
	series := 0
	for _, r := range body.Response.Results {
		series += len(r.Series)
	}
	if want >= 0 && rows != want && rows != want+series {
		return rows, fmt.Errorf("answered %d rows in %d series, want %d (or one more per series)", rows, series, want)
	}
	return rows, nil
}

type server struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startServer(c config) (*server, error) {
	ports := make([]int, 4)
	var lns []net.Listener // held until all are picked, so that they differ
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		lns = append(lns, ln)
	}
	for _, ln := range lns {
		ln.Close()
	}
	cfg := fmt.Sprintf(`[server]
bind_addr = "127.0.0.1"
http_port = %d
grpc_port = %d
mysql_port = %d
postgresql_port = %d

[server.default_schema_config]
default_timestamp_column_name = "time"

[logger]
level = "warn"

# TSBS data is from 2016: no TTL.
[analytic.table_opts]
enable_ttl = false
`, ports[0], ports[1], ports[2], ports[3])
	path := filepath.Join(c.dir, "horaedb.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(c.dir, "horaedb.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(c.bin, "--config", path, "--data-dir", filepath.Join(c.dir, "data"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.addr + "/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("horaedb exited; see %s", logf.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return nil, errors.New("horaedb did not answer within a minute")
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) post(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+s.addr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"failed":[]`)) {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return nil
}

// cpu is the server's user+system CPU time so far.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// peakRSS reads VmHWM.
func (s *server) peakRSS() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func runTo(file, bin string, args ...string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout = f
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(bin), err, stderr.String())
	}
	return nil
}

func output(bin string, args ...string) (string, error) {
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func grab(s, re string) []string { return regexp.MustCompile(re).FindStringSubmatch(s) }

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
