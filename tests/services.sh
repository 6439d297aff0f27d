#!/usr/bin/env bash
# Real Redis and PostgreSQL for the tests, on loopback ports of their own.
# Meant to be sourced (tests/run-all.sh, or by hand):
#
#   source tests/services.sh
#   start_redis && start_postgres   # exports SB_TEST_REDIS_URL, SB_TEST_DATABASE_URL
#   ...run tests...
#   stop_services
#
# Nothing is installed or started system-wide: each server lives in one temp
# folder (data, socket, log) removed by stop_services. PostgreSQL refuses to
# run as root, so as root it runs as the `postgres` system user (else
# `nobody`) through runuser.

_sb_services_dir=""
_sb_redis_pid=""
_sb_pg_data=""
_sb_pg_user=""
_sb_pg_bin=""

# Not through $(...): the folder must be remembered by this shell.
_sb_ensure_services_dir() {
  if [ -z "$_sb_services_dir" ]; then
    _sb_services_dir=$(mktemp -d /tmp/switchboard-services.XXXXXX)
    chmod 755 "$_sb_services_dir"
  fi
}

# A loopback port nobody listens on now (ephemeral range, so it does not
# collide with the fixed ports of manual runs).
_sb_free_port() {
  local port tries=0
  while [ $tries -lt 50 ]; do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  echo "services.sh: no free port found" >&2
  return 1
}

# As root, run a command as the PostgreSQL user; otherwise as ourselves.
_sb_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$_sb_pg_user" -- "$@"
  else
    "$@"
  fi
}

start_redis() {
  local port attempt dir
  command -v redis-server >/dev/null || { echo "services.sh: redis-server not installed" >&2; return 1; }
  _sb_ensure_services_dir
  dir="$_sb_services_dir/redis"
  mkdir -p "$dir"
  for attempt in 1 2 3; do
    port=$(_sb_free_port) || return 1
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize no --dir "$dir" --logfile "$dir/redis.log" &
    _sb_redis_pid=$!
    local i
    for i in $(seq 1 50); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        export SB_TEST_REDIS_URL="redis://127.0.0.1:$port"
        export SB_TEST_REDIS_PORT="$port"
        echo "services.sh: redis on 127.0.0.1:$port (pid $_sb_redis_pid)" >&2
        return 0
      fi
      kill -0 "$_sb_redis_pid" 2>/dev/null || break   # lost the port race: try another
      sleep 0.1
    done
    kill "$_sb_redis_pid" 2>/dev/null || true
    wait "$_sb_redis_pid" 2>/dev/null || true
    _sb_redis_pid=""
  done
  echo "services.sh: redis did not start; log:" >&2
  cat "$dir/redis.log" >&2 2>/dev/null || true
  return 1
}

start_postgres() {
  local port attempt dir
  _sb_pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$_sb_pg_bin" ] || [ ! -x "$_sb_pg_bin/initdb" ]; then
    echo "services.sh: PostgreSQL server binaries not found under /usr/lib/postgresql" >&2
    return 1
  fi
  if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then _sb_pg_user=postgres; else _sb_pg_user=nobody; fi
  else
    _sb_pg_user=$(id -un)
  fi
  _sb_ensure_services_dir
  dir="$_sb_services_dir/postgres"
  mkdir -p "$dir/sock"
  [ "$(id -u)" -eq 0 ] && chown -R "$_sb_pg_user" "$dir"
  _sb_pg_data="$dir/data"
  # trust auth on loopback only: a throwaway cluster for tests. --no-sync and
  # fsync=off: nothing here needs to survive a machine crash.
  if ! _sb_as_pg "$_sb_pg_bin/initdb" -D "$_sb_pg_data" -U postgres --auth=trust \
      -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
    echo "services.sh: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    return 1
  fi
  for attempt in 1 2 3; do
    port=$(_sb_free_port) || return 1
    if _sb_as_pg "$_sb_pg_bin/pg_ctl" -D "$_sb_pg_data" -l "$dir/postgres.log" -w -t 30 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1; then
      if _sb_as_pg "$_sb_pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres switchboard_test \
          >>"$dir/postgres.log" 2>&1; then
        export SB_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/switchboard_test"
        export SB_TEST_PG_PORT="$port"
        echo "services.sh: postgres on 127.0.0.1:$port (data $_sb_pg_data)" >&2
        return 0
      fi
      _sb_as_pg "$_sb_pg_bin/pg_ctl" -D "$_sb_pg_data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  echo "services.sh: postgres did not start; log:" >&2
  cat "$dir/postgres.log" >&2 2>/dev/null || true
  return 1
}

stop_services() {
  if [ -n "$_sb_redis_pid" ]; then
    kill "$_sb_redis_pid" 2>/dev/null || true
    wait "$_sb_redis_pid" 2>/dev/null || true
    _sb_redis_pid=""
  fi
  if [ -n "$_sb_pg_data" ] && [ -f "$_sb_pg_data/postmaster.pid" ]; then
    _sb_as_pg "$_sb_pg_bin/pg_ctl" -D "$_sb_pg_data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  _sb_pg_data=""
  if [ -n "$_sb_services_dir" ]; then
    rm -rf "$_sb_services_dir"
    _sb_services_dir=""
  fi
  unset SB_TEST_REDIS_URL SB_TEST_REDIS_PORT SB_TEST_DATABASE_URL SB_TEST_PG_PORT
}
