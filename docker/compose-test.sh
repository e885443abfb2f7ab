#!/bin/sh
# compose-test.sh: bring docker-compose.yaml up, run SQL through the first
# node's published HTTP port, SIGKILL and restart that node, check the data,
# and tear everything down (also on failure, printing the containers' logs).
# Needs the images of `make image`, curl, and docker compose v2 or
# docker-compose v1 (COMPOSE overrides the choice). Run by `make compose-test`.
set -eu
cd "$(dirname "$0")"

if [ -z "${COMPOSE:-}" ]; then
  if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then COMPOSE=docker-compose
  else echo "compose-test: neither 'docker compose' nor docker-compose is installed" >&2; exit 1
  fi
fi
PROJECT=${COMPOSE_PROJECT:-horaedbcomposetest}
HTTP_PORT=${HORAEDB_HTTP_PORT:-5440}
export HORAEDB_HTTP_PORT=$HTTP_PORT
URL="http://127.0.0.1:$HTTP_PORT"
TIMEOUT=${TIMEOUT:-120} # seconds for each wait

dc() { $COMPOSE -p "$PROJECT" -f docker-compose.yaml "$@"; }
log() { echo "compose-test: $*"; }
fail() { echo "compose-test: FAIL: $*" >&2; exit 1; }

cleanup() {
  rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ]; then
    dc ps || true
    dc logs --no-color --tail=100 || true
  fi
  dc down -v --remove-orphans >/dev/null 2>&1 || dc down -v --remove-orphans || true
  log "torn down (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT INT TERM

# sql STATEMENT: POST it to /sql; prints the body; fails unless HTTP 200.
sql() {
  body=$(printf '%s' "$1" | jq -Rs '{query: .}')
  out=$(curl -sS --max-time 30 -w '\n%{http_code}' -H 'Content-Type: application/json' -d "$body" "$URL/sql") || return 1
  code=$(printf '%s' "$out" | tail -n 1)
  printf '%s\n' "$out" | sed '$d'
  [ "$code" = 200 ]
}

# wait_healthy SERVICE...: until docker reports every service healthy.
wait_healthy() {
  for svc in "$@"; do
    deadline=$(( $(date +%s) + TIMEOUT ))
    while :; do
      id=$(dc ps -q "$svc")
      st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null || true)
      [ "$st" = healthy ] && break
      [ "$(date +%s)" -lt "$deadline" ] || fail "$svc not healthy within ${TIMEOUT}s (status '$st')"
      sleep 1
    done
  done
}

# retry SECONDS STATEMENT: run it until it succeeds or time runs out.
retry() {
  deadline=$(( $(date +%s) + $1 ))
  until out=$(sql "$2"); do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$out" >&2; fail "$2"; }
    sleep 1
  done
  printf '%s\n' "$out"
}

start=$(date +%s)
dc down -v --remove-orphans >/dev/null 2>&1 || true
dc up -d
wait_healthy horaemeta horaedb0 horaedb1 horaedb2
log "all healthy after $(( $(date +%s) - start ))s"

# DDL waits for the cluster to be Stable (every shard open).
TS=1700000000000
retry "$TIMEOUT" "CREATE TABLE compose_probe (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) ENGINE=Analytic" >/dev/null
log "cluster stable, DDL works"

# HoraeMeta places tables on shards: create tables until one is served by
# horaedb0 (asked with the horaectl of the horaemeta image), so that the
# test does not depend on requests being forwarded to owners, and the node
# restarted below is the one that holds the rows.
table=""
for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
  t="compose_t$i"
  sql "CREATE TABLE $t (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) ENGINE=Analytic WITH (enable_ttl='false')" >/dev/null \
    || fail "CREATE TABLE $t"
  owner=$(dc exec -T horaemeta /horaectl --json route "$t" | jq -r '.routes[0].endpoint')
  if [ "$owner" = "horaedb0:8831" ]; then table=$t; break; fi
  log "table $t is served by $owner"
done
[ -n "$table" ] || fail "none of 16 tables is served by horaedb0"
sql "INSERT INTO $table (host, v, t) VALUES ('a', 1.5, $TS), ('b', 2.5, $((TS + 1))), ('c', 3.5, $((TS + 2)))" >/dev/null \
  || fail "INSERT INTO $table"
log "table $table served by horaedb0"

check() {
  out=$(retry "$TIMEOUT" "SELECT host, v FROM $table ORDER BY t")
  got=$(printf '%s' "$out" | jq -c '[.rows[] | [.host, .v]]')
  [ "$got" = '[["a",1.5],["b",2.5],["c",3.5]]' ] || fail "SELECT after $1: got $got ($out)"
  log "SELECT after $1: $got"
}
check "INSERT"

dc kill -s SIGKILL horaedb0
dc start horaedb0
wait_healthy horaedb0
check "SIGKILL and restart of horaedb0"

log "PASS in $(( $(date +%s) - start ))s"
