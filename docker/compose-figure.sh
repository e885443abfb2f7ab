#!/bin/bash
# Time from `docker-compose up -d` to the first successful write through
# :5440 (docs/benchmarks.md). Needs the images of `make image`.
set -u
cd "$(dirname "$0")"
P=horaedbfig
dc() { docker-compose -p $P -f docker-compose.yaml "$@"; }
dc down -v >/dev/null 2>&1
start=$(date +%s.%N)
dc up -d >/dev/null 2>&1
created=""
while :; do
  if [ -z "$created" ]; then
    out=$(curl -s -m 2 127.0.0.1:5440/sql -d '{"query":"CREATE TABLE IF NOT EXISTS fig (h string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t))"}')
    case "$out" in *affected_rows*) created=1;; esac
  fi
  if [ -n "$created" ]; then
    out=$(curl -s -m 2 127.0.0.1:5440/sql -d "INSERT INTO fig (h, v, t) VALUES ('a', 1, 1000)")
    case "$out" in *'"affected_rows":1'*) break;; esac
  fi
  sleep 0.05
done
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN { printf "up -> first write: %.2f s\n", b - a }'
dc down -v >/dev/null 2>&1
