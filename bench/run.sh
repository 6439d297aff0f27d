#!/usr/bin/env bash
# Switchboard benchmark rig (issue 4): one command that installs what it
# needs, starts every target on loopback, measures them side by side in
# alternation, stops everything it started and writes bench/RESULTS.md.
#
#   bench/run.sh            # full run, about 8 minutes on 2 cores
#   BENCH_ROUNDS=1 BENCH_DURATION=2 BENCH_HOLD_STREAMS=1000 bench/run.sh   # smoke run
#
# Knobs (environment):
#   BENCH_ROUNDS        alternation rounds per scenario (3)
#   BENCH_DURATION      seconds per wrk / SSE measurement (4)
#   BENCH_HOLD_STREAMS  concurrent slow streams for the memory figure (10000)
#   BENCH_HOLD_TARGETS  which proxies get the hold test ("nginx switchboard portkey")
#   BENCH_HOLD_TIMEOUT  seconds a proxy gets to open them all (45)
#   BENCH_CALLGRIND_REQUESTS  requests under callgrind (2000; 0 skips)
#   BENCH_PROFILE       1: also take a perf profile of switchboard at 32 connections (1)
#   BENCH_BUILD_DIR     where switchboard and fake_provider are built (build-bench)
#   BENCH_OUT           report file (bench/RESULTS.md)
#   BENCH_NO_INSTALL    1: never call apt-get / npm
# Every socket is on 127.0.0.1. Nothing here asserts a time: it reports.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
ROUNDS=${BENCH_ROUNDS:-3}
DUR=${BENCH_DURATION:-4}
HOLD_STREAMS=${BENCH_HOLD_STREAMS:-10000}
HOLD_TARGETS=${BENCH_HOLD_TARGETS:-nginx switchboard portkey}
HOLD_TIMEOUT=${BENCH_HOLD_TIMEOUT:-45}
CG_REQUESTS=${BENCH_CALLGRIND_REQUESTS:-2000}
PROFILE=${BENCH_PROFILE:-1}
BUILD_DIR=${BENCH_BUILD_DIR:-$REPO/build-bench}
OUT=${BENCH_OUT:-$BENCH_DIR/RESULTS.md}
WORK=$(mktemp -d /tmp/sb-bench.XXXXXX)
DATA=$WORK/data.tsv          # one line per measurement, read by report.js
T_START=$(date +%s)
: >"$DATA"

log() { printf '[bench %4ss] %s\n' "$(($(date +%s) - T_START))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- processes
PIDS=()
cleanup() {
  local rc=$?
  set +e
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  wait 2>/dev/null
  if [[ $rc -ne 0 ]]; then log "failed (exit $rc); logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # port [seconds]
  local port=$1 deadline=$(($(date +%s) + ${2:-30}))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [[ $(date +%s) -lt $deadline ]] || return 1
    sleep 0.1
  done
}

free_ports() {  # count -> space-separated free loopback ports
  node -e '
    const net = require("net"); const n = +process.argv[1]; const out = []; const ss = [];
    (function next() {
      if (out.length === n) { ss.forEach(s => s.close()); console.log(out.join(" ")); return; }
      const s = net.createServer(); ss.push(s);
      s.listen(0, "127.0.0.1", () => { out.push(s.address().port); next(); });
    })();' "$1"
}

# CPU ticks (utime+stime, in clock ticks) of a process and its children.
cpu_ticks() {
  local pid=$1 sum=0 p kids
  kids=$(cat "/proc/$pid/task/"*/children 2>/dev/null || true)
  for p in $pid $kids; do
    [[ -r /proc/$p/stat ]] || continue
    # Fields after the ")" of comm: utime is field 14, stime 15 of the full line.
    local rest
    rest=$(sed 's/^.*) //' "/proc/$p/stat")
    set -- $rest
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

rss_kb() {  # pid (+children)
  local pid=$1 sum=0 p kids v
  kids=$(cat "/proc/$pid/task/"*/children 2>/dev/null || true)
  for p in $pid $kids; do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# ---------------------------------------------------------------- install
install_deps() {
  local need=()
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
  command -v wrk >/dev/null || need+=(wrk)
  command -v valgrind >/dev/null || need+=(valgrind)
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  command -v cmake >/dev/null || need+=(cmake)
  if ((${#need[@]})); then
    [[ ${BENCH_NO_INSTALL:-0} != 1 ]] || die "missing: ${need[*]}"
    [[ $(id -u) -eq 0 ]] || die "missing ${need[*]}: run as root or apt-get install them"
    log "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    if ! apt-get install -y -q --no-install-recommends "${need[@]}" >"$WORK/apt.log" 2>&1; then
      # nginx-light is gone from newer Debian: the full nginx package does the same here.
      need=("${need[@]/nginx-light/nginx}")
      apt-get install -y -q --no-install-recommends "${need[@]}" >"$WORK/apt.log" 2>&1 ||
        { cat "$WORK/apt.log" >&2; die "apt-get install failed"; }
    fi
    # Debian's package starts a system nginx on port 80; the rig does not use it.
    if command -v service >/dev/null; then service nginx stop >/dev/null 2>&1 || true; fi
  fi
  if ! command -v perf >/dev/null && [[ $PROFILE == 1 && ${BENCH_NO_INSTALL:-0} != 1 && $(id -u) -eq 0 ]]; then
    log "apt-get install linux-perf (optional)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-perf >/dev/null 2>&1 ||
      log "linux-perf unavailable: the profile will come from callgrind only"
  fi
  if [[ ! -f $BENCH_DIR/node_modules/@portkey-ai/gateway/build/start-server.js ]]; then
    [[ ${BENCH_NO_INSTALL:-0} != 1 ]] || die "Portkey missing: npm ci --prefix bench"
    log "npm ci (Portkey gateway, pinned in bench/package-lock.json)"
    (cd "$BENCH_DIR" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) ||
      { cat "$WORK/npm.log" >&2; die "npm ci failed"; }
  fi
}

build_binaries() {
  SB=$BUILD_DIR/switchboard
  FAKE=$BUILD_DIR/tests/fake_provider
  if [[ ! -x $SB || ! -x $FAKE ]]; then
    log "building switchboard and fake_provider (Release) in $BUILD_DIR"
    cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log" 2>&1 ||
      { tail -30 "$WORK/cmake.log" >&2; die "cmake configure failed"; }
    cmake --build "$BUILD_DIR" --target switchboard fake_provider -j"$(nproc)" >>"$WORK/cmake.log" 2>&1 ||
      { tail -30 "$WORK/cmake.log" >&2; die "build failed"; }
  fi
  local bt
  bt=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$BUILD_DIR/CMakeCache.txt")
  [[ $bt == Release ]] || log "WARNING: $BUILD_DIR is a $bt build, not Release"
}

# ---------------------------------------------------------------- start
start_all() {
  read -r P_UP P_FAST P_SLOW P_NG_JSON P_NG_SSE P_NG_SLOW P_SB P_PK P_SB_CG P_SB_SLOW <<<"$(free_ports 10)"
  mkdir -p "$WORK/nginx-up" "$WORK/nginx-proxy" "$WORK/sb" "$WORK/pk"
  local body
  body=$(cat "$BENCH_DIR/upstream_response.json")
  [[ $body != *"'"* && $body != *'$'* ]] || die "upstream_response.json must not hold ' or \$"

  # The upstream for non-streamed requests: nginx answering a fixed 615-byte
  # chat.completion, as cheap an upstream as there is.
  cat >"$WORK/nginx-up/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx-up/nginx.pid;
error_log $WORK/nginx-up/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-up/body;
  proxy_temp_path $WORK/nginx-up/proxy;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$P_UP;
    location / {
      default_type application/json;
      return 200 '$body';
    }
  }
}
EOF
  # The reference proxy: one worker, keep-alive to the upstreams, no buffering
  # of streams.
  local proxy_common='proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_request_buffering off; proxy_read_timeout 300s;'
  cat >"$WORK/nginx-proxy/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid $WORK/nginx-proxy/nginx.pid;
error_log $WORK/nginx-proxy/error.log warn;
events { worker_connections 32768; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-proxy/body;
  proxy_temp_path $WORK/nginx-proxy/proxy;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  upstream json_up { server 127.0.0.1:$P_UP; keepalive 512; keepalive_requests 10000000; }
  upstream sse_up  { server 127.0.0.1:$P_FAST; keepalive 512; keepalive_requests 10000000; }
  upstream slow_up { server 127.0.0.1:$P_SLOW; keepalive 64; }
  server { listen 127.0.0.1:$P_NG_JSON backlog=4096; location / { proxy_pass http://json_up; $proxy_common } }
  server { listen 127.0.0.1:$P_NG_SSE backlog=4096;  location / { proxy_pass http://sse_up;  $proxy_common } }
  server { listen 127.0.0.1:$P_NG_SLOW backlog=4096; location / { proxy_pass http://slow_up; $proxy_common } }
}
EOF
  nginx -p "$WORK/nginx-up" -e "$WORK/nginx-up/error.log" -c "$WORK/nginx-up/nginx.conf" &
  PID_UP=$!; PIDS+=("$PID_UP")
  "$FAKE" --port "$P_FAST" --chunks 20 --no-record --threads 1 >"$WORK/fake-fast.log" 2>&1 &
  PID_FAST=$!; PIDS+=("$PID_FAST")
  # Slow streams for the memory figure: 20 chunks, 3 s apart (a minute each).
  "$FAKE" --port "$P_SLOW" --chunks 20 --chunk-delay-ms 3000 --no-record --threads 1 >"$WORK/fake-slow.log" 2>&1 &
  PID_SLOW=$!; PIDS+=("$PID_SLOW")
  wait_port "$P_UP" || die "upstream nginx did not start: $(cat "$WORK/nginx-up/error.log")"
  wait_port "$P_FAST" || die "fake_provider did not start"
  wait_port "$P_SLOW" || die "slow fake_provider did not start"

  nginx -p "$WORK/nginx-proxy" -e "$WORK/nginx-proxy/error.log" -c "$WORK/nginx-proxy/nginx.conf" &
  PID_NG=$!; PIDS+=("$PID_NG")

  start_switchboard "$P_SB" "$WORK/sb" "$P_FAST"
  PID_SB=$SB_PID

  # portkey_shim.mjs: without it Portkey 1.15.2 on Node 20 fails every stream (see the file).
  (cd "$WORK/pk" && exec node --import "$BENCH_DIR/portkey_shim.mjs" "$BENCH_DIR/node_modules/@portkey-ai/gateway/build/start-server.js" \
    --port="$P_PK" --headless >"$WORK/pk/portkey.log" 2>&1) &
  PID_PK=$!; PIDS+=("$PID_PK")

  wait_port "$P_NG_JSON" || die "nginx proxy did not start: $(cat "$WORK/nginx-proxy/error.log")"
  wait_port "$P_SB" || die "switchboard did not start: $(tail "$WORK/sb/switchboard.log")"
  wait_port "$P_PK" 60 || die "portkey did not start: $(tail "$WORK/pk/portkey.log")"
  log "upstream nginx :$P_UP, fake :$P_FAST (slow :$P_SLOW), nginx proxy :$P_NG_JSON/:$P_NG_SSE/:$P_NG_SLOW, switchboard :$P_SB, portkey :$P_PK"
}

start_switchboard() {  # port dir upstream-for-streams wrapper...
  local port=$1 dir=$2 sse_up=$3
  shift 3
  local wrapper=("$@")
  # Two providers: deepseek -> the nginx upstream (non-streamed, model
  # bench-json), openai -> a fake_provider (streams, model bench-sse).
  # openai carries the streams because a streamed request for a later
  # provider of the chain is first tried on openai (see RESULTS.md notes).
  (cd "$dir" && exec env \
      OPENAI_API_KEY=sk-bench OPENAI_BASE_URL="http://127.0.0.1:$sse_up/v1" LLM_MODEL_OPENAI=bench-sse \
      DEEPSEEK_API_KEY=sk-bench DEEPSEEK_BASE_URL="http://127.0.0.1:$P_UP/v1" LLM_MODEL_DEEPSEEK=bench-json \
      DATABASE_URL="$dir/switchboard.db" \
      "${wrapper[@]}" "$SB" --listen "127.0.0.1:$port" >"$dir/switchboard.log" 2>&1) &
  SB_PID=$!; PIDS+=("$SB_PID")
  # The subshell execs env, which execs the wrapper or switchboard: one pid.
}

# Target table: name -> port for json / sse / slow, headers, pid of the proxy.
target_port() {  # target kind
  case "$1:$2" in
    direct:json) echo "$P_UP" ;;       direct:sse) echo "$P_FAST" ;;     direct:slow) echo "$P_SLOW" ;;
    nginx:json) echo "$P_NG_JSON" ;;   nginx:sse) echo "$P_NG_SSE" ;;    nginx:slow) echo "$P_NG_SLOW" ;;
    switchboard:slow) echo "$P_SB_SLOW" ;;
    switchboard:*) echo "$P_SB" ;;
    portkey:*) echo "$P_PK" ;;
  esac
}
target_pid() {
  case $1 in direct) echo "" ;; nginx) echo "$PID_NG" ;; switchboard) echo "$PID_SB" ;; portkey) echo "$PID_PK" ;; esac
}
target_path() {
  case $1 in direct|nginx) echo /v1/chat/completions ;; *) echo /v1/chat/completions ;; esac
}
# Extra headers, one per line.
target_headers() {  # target kind
  [[ $1 == portkey ]] || return 0
  local up
  case $2 in json) up=$P_UP ;; sse) up=$P_FAST ;; slow) up=$P_SLOW ;; esac
  printf '%s\n' "x-portkey-provider: openai" "x-portkey-custom-host: http://127.0.0.1:$up/v1"
}
body_file() {  # kind
  case $1 in json) echo "$BENCH_DIR/request.json" ;; sse) echo "$BENCH_DIR/request_stream.json" ;; slow) echo "$BENCH_DIR/request_slow.json" ;; esac
}

TARGETS=(direct nginx switchboard portkey)

# ---------------------------------------------------------------- measure
# wrk run: target kind conns seconds -> "requests p50 p99 errors" and the proxy's CPU ticks
run_wrk() {
  local target=$1 kind=$2 conns=$3 secs=$4
  local port threads hdrs=() line pid c0=0 c1=0
  port=$(target_port "$target" "$kind")
  threads=2; ((conns > 1)) || threads=1
  while IFS= read -r h; do [[ -n $h ]] && hdrs+=(-H "$h"); done < <(target_headers "$target" "$kind")
  pid=$(target_pid "$target")
  [[ -z $pid ]] || c0=$(cpu_ticks "$pid")
  line=$(BENCH_BODY_FILE=$(body_file "$kind") wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency \
           -s "$BENCH_DIR/post.lua" "${hdrs[@]}" "http://127.0.0.1:$port$(target_path "$target")" 2>&1 |
         grep '^BENCH_RESULT' || true)
  [[ -z $pid ]] || c1=$(cpu_ticks "$pid")
  [[ -n $line ]] || { log "wrk gave no result for $target $kind c=$conns"; line="BENCH_RESULT requests=0 duration_us=1 p50_us=0 p99_us=0 mean_us=0 err_connect=0 err_read=0 err_write=0 err_status=0 err_timeout=0"; }
  echo "$line cpu_ticks=$((c1 - c0))"
}

record() {  # scenario round target key=value...
  local scen=$1 round=$2 target=$3
  shift 3
  printf '%s\t%s\t%s\t%s\n' "$scen" "$round" "$target" "$*" >>"$DATA"
}

scenario_wrk() {  # name kind conns
  local name=$1 kind=$2 conns=$3 r t line
  log "scenario $name: warm-up"
  for t in "${TARGETS[@]}"; do run_wrk "$t" "$kind" "$conns" 1 >/dev/null; done
  for ((r = 1; r <= ROUNDS; r++)); do
    for t in "${TARGETS[@]}"; do
      line=$(run_wrk "$t" "$kind" "$conns" "$DUR")
      record "$name" "$r" "$t" "${line#BENCH_RESULT }"
      log "  $name round $r $t: ${line#BENCH_RESULT }"
    done
  done
}

scenario_ttfb() {  # name conns
  local name=$1 conns=$2 r t out port hdrs pid c0 c1
  log "scenario $name: warm-up"
  for ((r = 0; r <= ROUNDS; r++)); do
    for t in "${TARGETS[@]}"; do
      port=$(target_port "$t" sse)
      hdrs=()
      while IFS= read -r h; do [[ -n $h ]] && hdrs+=(--header "$h"); done < <(target_headers "$t" sse)
      pid=$(target_pid "$t"); c0=0; c1=0
      [[ -z $pid ]] || c0=$(cpu_ticks "$pid")
      out=$(node "$BENCH_DIR/sse_client.js" ttfb --port "$port" --body-file "$(body_file sse)" \
              --header "Authorization: Bearer sk-bench" "${hdrs[@]}" --conns "$conns" \
              --duration-ms $(( r == 0 ? 500 : DUR * 1000 )) --warmup-ms 200)
      [[ -z $pid ]] || c1=$(cpu_ticks "$pid")
      ((r > 0)) || continue
      record "$name" "$r" "$t" "json=$out cpu_ticks=$((c1 - c0))"
      log "  $name round $r $t: $out"
    done
  done
}

idle_rss() {
  local t pid
  for t in nginx switchboard portkey; do
    pid=$(target_pid "$t")
    record idle_rss 0 "$t" "rss_kb=$(rss_kb "$pid")"
  done
}

hold_streams() {
  local t port hdrs pid out
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  for t in $HOLD_TARGETS; do
    port=$(target_port "$t" slow)
    pid=$(target_pid "$t")
    if [[ $t == switchboard ]]; then
      # A fresh instance whose stream provider is the slow fake.
      mkdir -p "$WORK/sb-slow"
      start_switchboard "$P_SB_SLOW" "$WORK/sb-slow" "$P_SLOW"
      pid=$SB_PID
      wait_port "$P_SB_SLOW" || die "second switchboard did not start"
      sleep 1
    fi
    hdrs=()
    while IFS= read -r h; do [[ -n $h ]] && hdrs+=(--header "$h"); done < <(target_headers "$t" slow)
    log "holding $HOLD_STREAMS slow streams through $t"
    out=$(node "$BENCH_DIR/sse_client.js" hold --port "$port" --body-file "$(body_file slow)" \
            --header "Authorization: Bearer sk-bench" "${hdrs[@]}" --conns "$HOLD_STREAMS" \
            --pids "$pid" --timeout-ms "$((HOLD_TIMEOUT * 1000))" --hold-ms 2000) || out='{"error":"client failed"}'
    record hold "$HOLD_STREAMS" "$t" "json=$out"
    log "  $t: $out"
    # Let the proxy notice the closes and the slow fake drop its streams.
    sleep 3
    record hold_after "$HOLD_STREAMS" "$t" "rss_kb=$(rss_kb "$pid")"
    [[ $t != switchboard ]] || kill -TERM "$pid" 2>/dev/null || true
  done
}

# Instructions per request: switchboard under callgrind, counters zeroed after
# a warm-up, then a fixed number of requests from one connection.
callgrind_run() {
  ((CG_REQUESTS > 0)) || return 0
  command -v valgrind >/dev/null || { log "no valgrind: skipping the instruction count"; return 0; }
  local dir=$WORK/cg kind out f ir
  mkdir -p "$dir"
  start_switchboard "$P_SB_CG" "$dir" "$P_FAST" valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p"
  local pid=$SB_PID
  wait_port "$P_SB_CG" 120 || { log "switchboard under callgrind did not start"; return 0; }
  for kind in json sse; do
    node "$BENCH_DIR/sse_client.js" count --port "$P_SB_CG" --body-file "$(body_file "$kind")" \
      --header "Authorization: Bearer sk-bench" --requests 100 >/dev/null || true
    callgrind_control -z "$pid" >/dev/null 2>&1 || { log "callgrind_control -z failed"; return 0; }
    log "callgrind: $CG_REQUESTS $kind requests"
    out=$(node "$BENCH_DIR/sse_client.js" count --port "$P_SB_CG" --body-file "$(body_file "$kind")" \
            --header "Authorization: Bearer sk-bench" --requests "$CG_REQUESTS") || out='{"error":"client failed"}'
    callgrind_control -d "cg-$kind" "$pid" >/dev/null 2>&1 || { log "callgrind_control -d failed"; return 0; }
    sleep 1
    f=$(ls -t "$dir"/callgrind.out.* 2>/dev/null | head -1)
    ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
    cp "$f" "$WORK/callgrind-$kind.out"
    record callgrind "$CG_REQUESTS" switchboard "kind=$kind ir=$ir client=$out"
    log "  $kind: $ir instructions for $CG_REQUESTS requests ($out)"
    node "$BENCH_DIR/cg_top.js" "$f" "$CG_REQUESTS" 25 >"$WORK/cg-$kind-top.txt" 2>&1 || true
    [[ -z ${BENCH_KEEP_PROFILES:-} ]] || cp "$f" "$BENCH_KEEP_PROFILES/callgrind-$kind.out"
  done
  kill -TERM "$pid" 2>/dev/null || true
}

perf_profile() {
  [[ $PROFILE == 1 ]] || return 0
  command -v perf >/dev/null || return 0
  log "perf profile of switchboard at 32 connections"
  perf record -e cpu-clock -F 1999 -o "$WORK/perf.data" -p "$PID_SB" -- sleep "$DUR" >"$WORK/perf.log" 2>&1 &
  local perf_pid=$!
  sleep 0.3
  run_wrk switchboard json 32 "$DUR" >/dev/null
  wait "$perf_pid" 2>/dev/null || true
  perf report -i "$WORK/perf.data" --no-children --stdio --sort dso,symbol 2>/dev/null |
    grep -v '^#' | grep '%' | head -45 | node "$BENCH_DIR/cg_top.js" --shorten >"$WORK/perf-self.txt" || true
  [[ -s $WORK/perf-self.txt ]] || log "perf gave no profile: $(tail -2 "$WORK/perf.log")"
}

machine_info() {
  {
    echo "nproc=$(nproc)"
    echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "kernel=$(uname -sr)"
    echo "mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "nginx=$(nginx -v 2>&1 | sed 's/.*: //')"
    echo "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
    echo "node=$(node --version)"
    echo "valgrind=$(valgrind --version 2>/dev/null || echo none)"
    echo "commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo '+dirty')"
    echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
    echo "ticks=$(getconf CLK_TCK)"
    echo "rounds=$ROUNDS"
    echo "duration=$DUR"
  } >"$WORK/machine.txt"
}

smoke_check() {  # every target answers 200 on both kinds before we measure
  local t kind port code hdrs
  for t in "${TARGETS[@]}"; do
    for kind in json sse; do
      port=$(target_port "$t" "$kind")
      hdrs=()
      while IFS= read -r h; do [[ -n $h ]] && hdrs+=(-H "$h"); done < <(target_headers "$t" "$kind")
      code=$(curl -s -o "$WORK/smoke-$t-$kind.txt" -w '%{http_code}' -H 'Content-Type: application/json' \
               -H 'Authorization: Bearer sk-bench' "${hdrs[@]}" --data-binary "@$(body_file "$kind")" \
               "http://127.0.0.1:$port/v1/chat/completions" || true)
      [[ $code == 200 ]] || die "$t ($kind) answered $code: $(head -c 400 "$WORK/smoke-$t-$kind.txt")"
    done
  done
  log "every target answers 200"
}

# ---------------------------------------------------------------- main
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
install_deps
build_binaries
machine_info
start_all
smoke_check
sleep 1
idle_rss
scenario_wrk c1 json 1
scenario_wrk c32 json 32
scenario_wrk c256 json 256
scenario_wrk sse32 sse 32
scenario_ttfb ttfb1 1
hold_streams
perf_profile
callgrind_run
log "writing $OUT"
echo "elapsed=$(($(date +%s) - T_START))" >>"$WORK/machine.txt"
node "$BENCH_DIR/report.js" "$WORK" "$OUT" "bench/run.sh${*:+ $*}"
log "done in $(($(date +%s) - T_START)) s"
