#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and benchmarks, installing Debian's server if it is missing.
#   scripts/postgres.sh start DIR [PORT]   initdb DIR (if new), start it, create role/database petrel; prints the URL
#   scripts/postgres.sh stop DIR           fast shutdown
# Runs the server as the `postgres` system user (initdb refuses root). Durable settings are PostgreSQL's defaults
# (fsync on, synchronous_commit on): the figures measured against it are for a durable store.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?data directory}
port=${3:-55432}

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(bindir)" ] || [ ! -x "$(bindir)/initdb" ]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
BIN=$(bindir)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        pwfile=$(mktemp); echo postgres > "$pwfile"; chmod 644 "$pwfile"
        as_pg "$BIN/initdb" -D "$dir" -U postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
        rm -f "$pwfile"
        cat >> "$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
# The Swift suite runs its tests at once, many with two nodes, each node a pool: 200 ran out ("remaining
# connection slots are reserved") once the suite passed 400 tests.
max_connections = 1000
shared_buffers = 256MB
CONF
    fi
    if ! as_pg "$BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        as_pg "$BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w start >/dev/null
    fi
    psql() { as_pg "$BIN/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
    if [ "$(psql -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'petrel'")" != 1 ]; then
        psql -d postgres -c "CREATE ROLE petrel LOGIN CREATEDB PASSWORD 'petrel'"
    fi
    if [ "$(psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'petrel'")" != 1 ]; then
        psql -d postgres -c "CREATE DATABASE petrel OWNER petrel"
    fi
    echo "postgres://petrel:petrel@127.0.0.1:$port/petrel"
    ;;
stop)
    as_pg "$BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
*) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
