#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on 127.0.0.1, in its own folder.
#
#   .ci/postgres.sh start DIR   initdb + start in DIR (created); prints the server's URL
#   .ci/postgres.sh stop DIR    stop the server started in DIR (by its pid) and delete DIR
#
# Uses Debian's binaries (/usr/lib/postgresql/*/bin; `apt-get install postgresql`).
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user
# (created by the Debian package) or, if there is none, as a user `stratlab-pg` made here.
# Password authentication (scram) is on, with a random password in the printed URL.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
  echo "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: apt-get install postgresql" >&2
  exit 3
fi

run_as=""
if [[ $(id -u) -eq 0 ]]; then
  if id postgres >/dev/null 2>&1; then
    run_as=postgres
  else
    id stratlab-pg >/dev/null 2>&1 || useradd --system --no-create-home stratlab-pg
    run_as=stratlab-pg
  fi
fi

as_server_user() {
  if [[ -n "$run_as" ]]; then
    runuser -u "$run_as" -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [[ -n "$run_as" ]] && chown "$run_as" "$dir"
    chmod 700 "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    printf '%s\n' "$password" >"$dir/pwfile"
    [[ -n "$run_as" ]] && chown "$run_as" "$dir/pwfile"
    as_server_user "$bin/initdb" -D "$dir/data" -U stratlab --pwfile="$dir/pwfile" \
      --auth=scram-sha-256 -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql+psycopg://stratlab:${password}@127.0.0.1:${port}/postgres"
    ;;
  stop)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
      pid=$(head -n 1 "$dir/data/postmaster.pid")
      as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
        || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
