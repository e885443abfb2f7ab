package table

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/horaego/horaedb/wal"
)

// The schema; FORMAT.md documents it.

// formatVersion is stored in <ns>_meta; a namespace written by another
// version is refused.
const formatVersion = 1

// names are the tables of a namespace.
type names struct {
	meta, shards, marks string
	ns                  string
}

func newNames(ns string) names {
	return names{meta: ns + "_meta", shards: ns + "_shards", marks: ns + "_marks", ns: ns}
}

// bucket returns the data table of bucket k.
func (n names) bucket(k int) string { return fmt.Sprintf("%s_data_%03d", n.ns, k) }

func (n names) metaDDL() string {
	return "CREATE TABLE IF NOT EXISTS `" + n.meta + "` (" +
		"k VARCHAR(64) NOT NULL PRIMARY KEY, " +
		"v VARCHAR(255) NOT NULL" +
		") ENGINE=InnoDB"
}

func (n names) shardsDDL() string {
	return "CREATE TABLE IF NOT EXISTS `" + n.shards + "` (" +
		"shard_id INT UNSIGNED NOT NULL PRIMARY KEY, " +
		"next_seq BIGINT UNSIGNED NOT NULL, " +
		"epoch BIGINT UNSIGNED NOT NULL, " +
		"purged BIGINT UNSIGNED NOT NULL" +
		") ENGINE=InnoDB"
}

func (n names) marksDDL() string {
	return "CREATE TABLE IF NOT EXISTS `" + n.marks + "` (" +
		"shard_id INT UNSIGNED NOT NULL, " +
		"table_id BIGINT UNSIGNED NOT NULL, " +
		"below BIGINT UNSIGNED NOT NULL, " +
		"dropped TINYINT NOT NULL, " +
		"PRIMARY KEY (shard_id, table_id)" +
		") ENGINE=InnoDB"
}

func (n names) bucketDDL(k int) string {
	return "CREATE TABLE IF NOT EXISTS `" + n.bucket(k) + "` (" +
		"shard_id INT UNSIGNED NOT NULL, " +
		"seq BIGINT UNSIGNED NOT NULL, " +
		"table_id BIGINT UNSIGNED NOT NULL, " +
		"created_ms BIGINT NOT NULL, " +
		"payload LONGBLOB NOT NULL, " +
		"PRIMARY KEY (shard_id, seq)" +
		") ENGINE=InnoDB"
}

// createTable runs a CREATE TABLE IF NOT EXISTS, retrying as configured.
func (w *WAL) createTable(ctx context.Context, name, ddl string) error {
	var err error
	for try := 0; ; try++ {
		if _, err = w.db.ExecContext(ctx, ddl); err == nil {
			return nil
		}
		if try >= w.opts.CreateTableRetries || ctx.Err() != nil {
			return fmt.Errorf("create table %s: %w", name, dbError(err))
		}
		w.log.Warn("create table failed; retrying", "table", name, "try", try+1, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("create table %s: %w", name, dbError(err))
		case <-time.After(w.opts.CreateTableRetryInterval):
		}
	}
}

// initSchema creates the namespace's tables and checks, or on first use
// records, the format version and the number of buckets.
func (w *WAL) initSchema(ctx context.Context) error {
	n := w.names
	for _, t := range []struct{ name, ddl string }{
		{n.meta, n.metaDDL()}, {n.shards, n.shardsDDL()}, {n.marks, n.marksDDL()},
	} {
		if err := w.createTable(ctx, t.name, t.ddl); err != nil {
			return err
		}
	}
	if _, err := w.db.ExecContext(ctx, "INSERT IGNORE INTO `"+n.meta+"` (k, v) VALUES (?, ?), (?, ?)",
		"format_version", strconv.Itoa(formatVersion), "buckets", strconv.Itoa(w.opts.Buckets)); err != nil {
		return fmt.Errorf("init %s: %w", n.meta, dbError(err))
	}
	rows, err := w.db.QueryContext(ctx, "SELECT k, v FROM `"+n.meta+"`")
	if err != nil {
		return fmt.Errorf("read %s: %w", n.meta, dbError(err))
	}
	defer rows.Close()
	kv := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return fmt.Errorf("read %s: %w", n.meta, dbError(err))
		}
		kv[k] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", n.meta, dbError(err))
	}
	if v := kv["format_version"]; v != strconv.Itoa(formatVersion) {
		return fmt.Errorf("%s: format version %q, want %d: %w", n.meta, v, formatVersion, wal.ErrCorrupt)
	}
	b, err := strconv.Atoi(kv["buckets"])
	if err != nil || b < 1 {
		return fmt.Errorf("%s: buckets %q: %w", n.meta, kv["buckets"], wal.ErrCorrupt)
	}
	if b != w.opts.Buckets {
		w.log.Warn("the namespace was created with another number of buckets; using it",
			"namespace", n.ns, "stored", b, "configured", w.opts.Buckets)
	}
	w.buckets = b
	return nil
}

// dbError classifies an error of the database as wal.ErrUnavailable, the
// driver's (or the context's) error staying in the chain.
func dbError(err error) error {
	if err == nil || errors.Is(err, wal.ErrUnavailable) || errors.Is(err, wal.ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", wal.ErrUnavailable, err)
}
