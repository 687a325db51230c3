#!/bin/bash
# bench/run.sh (`make bench`, `make bench-upload`, `make bench-download`,
# `make bench-storage`): the harness for the benchmarks that need the whole
# platform.
#
#   bench/run.sh [upload] [download] [aead] [storage] [health] [search] [rooms]
#                                                (no argument: upload download)
#
# It takes the machine-wide test lock (the one scripts/test.sh takes), so a
# benchmark never overlaps a test run; builds; brings up PostgreSQL, Ceph
# RGW (memstore) and the SMTP sink under var/bench on ports of its own;
# applies the migrations; writes a master key; starts one httpd
# (bench/httpd.conf.in: event MPM, ServerLimit 1, ThreadsPerChild 32) with
# mod_lenz from build/; runs the benches; and stops everything it started,
# by PID, on success, failure or Ctrl-C.
#
# Benchmarks are not tests: a missed goal is printed, never an exit status.
# The exit status is non-zero only when a bench could not run (or measured
# a broken path: a download whose SHA-256 differs from the upload's).
#
# Settings (environment):
#   BENCH_SIZE          file size in bytes or with K/M/G (default 1G)
#   BENCH_PART_SIZE     LenzUploadPartSize (default 8M, the server default)
#   BENCH_CEPH_STORE    memstore (default) or bluestore (on a sparse file under
#                       var/bench: for files larger than RAM allows, e.g. 5G)
#   BENCH_CEPH_BYTES    memstore RAM cap (default 5G: the kept 1 GiB file,
#                       a 1 GiB upload under way, RGW's not yet collected parts)
#   BENCH_RGW_NODELAY   1 (default): RGW's beast frontend with tcp_nodelay=1;
#                       0: RGW as scripts/stack.sh runs it for dev and test,
#                       whose Nagle + the reader's delayed ACK stall the end
#                       of some responses by 40 ms (docs/bench.md)
#   BENCH_HTTP_PORT     httpd port (default 28080); PostgreSQL 28432, S3 28000
#                       (Ceph 28100-28149), SMTP 28025, 28465 and 28026 through
#                       LENZ_PG_PORT, LENZ_S3_PORT, LENZ_SMTP_PORT,
#                       LENZ_SMTPS_PORT, LENZ_SMTP_PLAIN_PORT as for
#                       scripts/stack.sh (a kept bench stack once held the
#                       test stack's smtps and plain ports)
#   BENCH_DIGEST=1      bench/upload sends X-Part-SHA256 with every part, as
#                       the upload page does (default 0: no digest is made)
#   BENCH_PERF=1        record where httpd's CPU goes (perf record -e cpu-clock,
#                       DWARF call graphs, httpd's child only) during each
#                       bench; summaries in var/bench/perf-BENCH.txt.  The
#                       figures of such a run are slowed by perf itself.
#   BENCH_KEEP=1        leave the stack and httpd running afterwards (for
#                       profiling by hand; `scripts/stack.sh stop var/bench`)
#   LENZ_TEST_LOCK      the lock file (default /tmp/lenz-test.lock, as test.sh)
#
# Results: a table per bench on stdout, and one JSON file per bench run in
# var/bench/results/ (bench/median.py turns several into a table of medians).
#
# aead: bench/aead.sh (`make bench-aead`, AES-GCM segments vs `openssl
# speed`) needs no stack; it runs here under the same lock when asked for.
# `make bench` leaves it out for now; add "aead" to BENCHES in the Makefile
# to make it part of every run.
#
# storage: bench/storage.py (`make bench-storage`, not in `make bench`):
# one member's folder of 100,000 files (lenzctl fill-folder), listed,
# sorted and searched through httpd's API against the same SQL in psql,
# and the /files page's first row in Chromium (bench/storage_page.mjs,
# under Debian's Node 18 from scripts/node18.sh, puppeteer-core from
# scripts/fetch-browser-deps.sh).  httpd then also mounts the API, the
# pages and /static.  BENCH_STORAGE_FILES (default 100000) and
# BENCH_STORAGE_SAMPLES (default 200) change its sizes.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd -P)
PY=/usr/bin/python3             # Debian's python (botocore), never pyenv's
export PYTHONDONTWRITEBYTECODE=1

benches=${*:-upload download}
for b in $benches; do
    case $b in upload | download | aead | storage | health | search | rooms) ;;
        *) echo "bench: unknown bench '$b' (want upload, download, aead, storage, health, search, rooms)" >&2; exit 2 ;;
    esac
done
need_stack=0
case " $benches " in *" upload "* | *" download "* | *" storage "* | *" health "* | *" search "* | *" rooms "*) need_stack=1 ;; esac
rooms=0
case " $benches " in *" rooms "*) rooms=1 ;; esac
health=0
case " $benches " in *" health "*) health=1 ;; esac
storage=0
case " $benches " in *" storage "* | *" search "*) storage=1 ;; esac

# var/ may be a link out of the checkout (scripts/stack.sh var): real paths.
var="$(scripts/stack.sh var)/bench"
port=${BENCH_HTTP_PORT:-28080}
export LENZ_STACK_DIR="$var"
export LENZ_PG_PORT=${LENZ_PG_PORT:-28432}
export LENZ_S3_PORT=${LENZ_S3_PORT:-28000}
export LENZ_SMTP_PORT=${LENZ_SMTP_PORT:-28025}
export LENZ_SMTPS_PORT=${LENZ_SMTPS_PORT:-28465}
export LENZ_SMTP_PLAIN_PORT=${LENZ_SMTP_PLAIN_PORT:-28026}
export LENZ_CEPH_MON_PORT=${LENZ_CEPH_MON_PORT:-$((LENZ_S3_PORT + 100))}
export LENZ_CEPH_STORE=${BENCH_CEPH_STORE:-memstore}
export LENZ_CEPH_BYTES=${BENCH_CEPH_BYTES:-$((5 << 30))}
export LENZ_CORS_ORIGINS="http://127.0.0.1:$port"
export BENCH_RGW_NODELAY=${BENCH_RGW_NODELAY:-1}
if [ "$BENCH_RGW_NODELAY" = 1 ]; then export LENZ_RGW_FRONTEND_OPTS=tcp_nodelay=1; else export LENZ_RGW_FRONTEND_OPTS=; fi
part_size=${BENCH_PART_SIZE:-8M}

httpd_pid=""
perf_pid=""
stack_started=0
status=1

log() { echo "bench: $*" >&2; }

# stop_httpd: SIGTERM the httpd we started (its parent, by the PID we
# recorded) and wait for it; SIGKILL if it outstays 30 s.
stop_httpd() {
    local n=300
    [ -n "$httpd_pid" ] || return 0
    if kill -0 "$httpd_pid" 2>/dev/null; then
        kill -TERM "$httpd_pid" 2>/dev/null || true
        while kill -0 "$httpd_pid" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
        if kill -0 "$httpd_pid" 2>/dev/null; then
            log "httpd (pid $httpd_pid) still there after 30 s, sending SIGKILL"
            kill -KILL "$httpd_pid" 2>/dev/null || true
        fi
    fi
    rm -f "$var/httpd/httpd.pid"
    httpd_pid=""
}

finish() {
    trap - EXIT INT TERM
    if [ "${BENCH_KEEP:-0}" = 1 ] && [ $stack_started = 1 ]; then
        log "BENCH_KEEP=1: httpd on http://127.0.0.1:$port and the stack in $var are left running;"
        log "stop them with: scripts/stack.sh stop $var"
    else
        [ -z "$perf_pid" ] || kill -INT "$perf_pid" 2>/dev/null || true
        stop_httpd
        if [ $stack_started = 1 ]; then
            scripts/stack.sh stop "$var" >"$var/stack-stop.log" 2>&1 ||
                { log "stopping the stack failed:"; cat "$var/stack-stop.log" >&2; }
        fi
    fi
    exit $status
}
trap finish EXIT
trap 'log "interrupted"; status=130; exit' INT TERM

# One run at a time on this machine, and never next to a test suite: the
# same lock as scripts/test.sh, held until we exit.  Children that outlive
# us (the stack's daemons, httpd) must not inherit it: stack.sh closes its
# descriptors, and httpd is started with 9>&-.
exec 9>"${LENZ_TEST_LOCK:-/tmp/lenz-test.lock}"
if ! flock -n 9; then
    log "a test or bench run holds ${LENZ_TEST_LOCK:-/tmp/lenz-test.lock}; waiting"
    flock 9
fi

scripts/build.sh
make --no-print-directory -s -f bench/bench.mk     # build/bench/relay: the floor lines
san=$(sed -n 's/^SAN_CFLAGS *= *//p' config.mk)
[ -z "$san" ] || log "WARNING: built with sanitizers ($san); the figures are not representative"

run_aead() {
    log "running bench/aead.sh"
    bench/aead.sh
}

if [ $need_stack = 0 ]; then
    run_aead
    status=0
    exit
fi

mkdir -p "$var" "$var/httpd" "$var/results"
# A previous run that was killed hard may have left httpd behind.
if [ -f "$var/httpd/httpd.pid" ]; then
    old=$(head -n 1 "$var/httpd/httpd.pid")
    if [ -n "$old" ] && grep -qs -- "$var/httpd/httpd.conf" "/proc/$old/cmdline"; then
        log "stopping the httpd a previous run left (pid $old)"
        httpd_pid=$old
        stop_httpd
    fi
    rm -f "$var/httpd/httpd.pid"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    log "port $port is taken by another program; set BENCH_HTTP_PORT"
    exit
fi

stack_started=1
scripts/stack.sh start test >"$var/stack-start.log" 2>&1 ||
    { cat "$var/stack-start.log" >&2; log "the stack did not start"; exit; }
set -a
# shellcheck disable=SC1091
. "$var/stack.env"
set +a

[ -f "$var/master.key" ] || build/lenzctl gen-master-key "$var/master.key" >/dev/null
build/lenzctl -d "$LENZ_PG_CONNINFO" migrate sql >"$var/migrate.log" 2>&1 ||
    { cat "$var/migrate.log" >&2; log "migrations failed"; exit; }

libexec=$(sed -n 's/^APXS_LIBEXECDIR *= *//p' config.mk)
httpd=$(sed -n 's/^HTTPD_BIN *= *//p' config.mk)
modules=""
for m in mpm_event authz_core authz_host mime alias dbd socache_shmcb; do
    modules="${modules}LoadModule ${m}_module $libexec/mod_${m}.so\n"
done
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
htdocs=$(scripts/htdocs-dir.sh "$var")
sed -e "s|@VAR@|$(esc "$var")|g" -e "s|@TOP@|$(esc "$top")|g" -e "s|@PORT@|$port|g" \
    -e "s|@HTDOCS@|$(esc "$htdocs")|g" \
    -e "s|@MODULES@|$modules|" -e "s|@PART_SIZE@|$(esc "$part_size")|" \
    -e "s|@PG_CONNINFO@|$(esc "$LENZ_PG_CONNINFO")|" \
    -e "s|@S3_ENDPOINT@|$(esc "$LENZ_S3_ENDPOINT")|" -e "s|@S3_BUCKET@|$(esc "$LENZ_S3_BUCKET")|" \
    -e "s|@S3_REGION@|$(esc "$LENZ_S3_REGION")|" -e "s|@S3_ACCESS_KEY@|$(esc "$LENZ_S3_ACCESS_KEY")|" \
    -e "s|@S3_SECRET_FILE@|$(esc "$LENZ_S3_SECRET_FILE")|" -e "s|@SMTP_URL@|$(esc "$LENZ_SMTP_URL")|" \
    -e "s|@SMTP_CA_FILE@|$(esc "$LENZ_SMTP_CA_FILE")|" \
    bench/httpd.conf.in >"$var/httpd/httpd.conf"
# bench/rooms holds thousands of streams, each a worker thread on this
# httpd (issue 17): one child with 2,100 threads, the streams' caps raised
# to match, and descriptors for them.
if [ $rooms = 1 ]; then
    sed -i -e 's/^ThreadLimit .*/ThreadLimit             2100/' -e 's/^ThreadsPerChild .*/ThreadsPerChild         2100/' \
        -e 's/^MaxRequestWorkers .*/MaxRequestWorkers       2100/' -e 's/^MaxSpareThreads .*/MaxSpareThreads         4200/' \
        -e 's/^DBDMax .*/DBDMax 32/' "$var/httpd/httpd.conf"
    cat >>"$var/httpd/httpd.conf" <<EOF

# Added by bench/run.sh for bench/rooms.
LenzEventStreams 2050 250
LenzCollabLimits posts=1000
<Location /api/v1>
    SetHandler lenz-api
    LenzBase /api/v1
    Require all granted
</Location>
<Location /events>
    SetHandler lenz-events
    LenzBase /events
    Require all granted
</Location>
EOF
    ulimit -n 8192 2>/dev/null || log "ulimit -n 8192 refused: httpd keeps $(ulimit -n) descriptors"
fi
# bench/health compares /health with a static file of the same httpd.
if [ $health = 1 ] && [ $storage = 0 ]; then
    cat >>"$var/httpd/httpd.conf" <<EOF

# Added by bench/run.sh for bench/health.
Alias /static "$htdocs"
<Directory "$htdocs">
    Require all granted
</Directory>
EOF
fi
# bench/storage also needs the members' API, the pages (sign-in, /files)
# and their static files, mounted as conf/dev.conf.in mounts them.
if [ $storage = 1 ]; then
    cat >>"$var/httpd/httpd.conf" <<EOF

# Added by bench/run.sh for bench/storage.
Alias /static "$htdocs"
<Directory "$htdocs">
    Require all granted
</Directory>
<Location /api/v1>
    SetHandler lenz-api
    LenzBase /api/v1
    Require all granted
</Location>
<Location /files>
    SetHandler lenz-files
    LenzBase /files
    Require all granted
</Location>
<Location /account>
    SetHandler lenz-account
    LenzBase /account
    Require all granted
</Location>
EOF
fi

"$httpd" -t -f "$var/httpd/httpd.conf" 2>&1 | grep -v '^Syntax OK$' >&2 || true
rm -f "$var/httpd/error_log"
"$httpd" -f "$var/httpd/httpd.conf" -k start 9>&- ||
    { tail -n 20 "$var/httpd/error_log" >&2 2>/dev/null; log "httpd did not start"; exit; }
for _ in $(seq 1 100); do
    [ -s "$var/httpd/httpd.pid" ] && break
    sleep 0.1
done
httpd_pid=$(head -n 1 "$var/httpd/httpd.pid" 2>/dev/null || true)
[ -n "$httpd_pid" ] || { log "httpd wrote no pid file"; exit; }
health=""
for _ in $(seq 1 100); do
    health=$(curl -s -m 5 "http://127.0.0.1:$port/health" || true)
    case "$health" in *'"db":"ok","s3":"ok","smtp":"ok"'*) break ;; esac
    sleep 0.2
done
case "$health" in *'"db":"ok","s3":"ok","smtp":"ok"'*) ;;
    *) log "httpd is not healthy: $health"; tail -n 20 "$var/httpd/error_log" >&2; exit ;; esac

export BENCH_HTTPD_URL="http://127.0.0.1:$port"
export BENCH_HTTPD_PIDFILE="$var/httpd/httpd.pid"
export BENCH_HTTPD_CONF="$var/httpd/httpd.conf"
export BENCH_RESULTS_DIR="$var/results"
export BENCH_STATE_FILE="$var/bench-file.json"
rm -f "$BENCH_STATE_FILE"
if [ $storage = 1 ] || [ $rooms = 1 ]; then
    export BENCH_LENZCTL="$top/build/lenzctl" BENCH_MASTER_KEY="$var/master.key"
fi
if [ $storage = 1 ]; then
    export BENCH_LENZCTL="$top/build/lenzctl" BENCH_MASTER_KEY="$var/master.key"
    # The page half: Debian 12's Node 18 and the pinned puppeteer-core, as
    # t/pages.t has them (fetched once; nothing is fetched when present).
    # Missing, bench/storage measures the API and says why it could not
    # measure the page (and exits 1).
    BENCH_NODE=$(scripts/node18.sh 2>"$var/node18.log") ||
        { log "scripts/node18.sh failed (var/bench/node18.log); the page will not be measured"; BENCH_NODE=; }
    BENCH_BROWSER_MODULES=$(scripts/fetch-browser-deps.sh 2>"$var/browser-deps.log") ||
        { log "scripts/fetch-browser-deps.sh failed (var/bench/browser-deps.log)"; BENCH_BROWSER_MODULES=; }
    export BENCH_NODE BENCH_BROWSER_MODULES
fi
log "httpd (pid $httpd_pid) on $BENCH_HTTPD_URL, S3 $LENZ_S3_ENDPOINT ($LENZ_CEPH_STORE), stack in $var"

# perf_start BENCH / perf_stop BENCH: BENCH_PERF=1's profile of httpd's
# child (the parent only accepts and supervises).
perf_start() {
    local kids
    [ "${BENCH_PERF:-0}" = 1 ] || return 0
    command -v perf >/dev/null || { log "BENCH_PERF=1 but no perf"; return 0; }
    kids=$(cat /proc/"$httpd_pid"/task/*/children 2>/dev/null | tr -s ' \n' ',' | sed 's/,$//')
    [ -n "$kids" ] || return 0
    log "BENCH_PERF=1: recording httpd (pid $kids); these figures include perf's own cost"
    perf record -q -e cpu-clock -F 999 --call-graph dwarf,16384 -p "$kids" \
        -o "$var/perf-$1.data" >"$var/perf-$1.log" 2>&1 9>&- &
    perf_pid=$!
    sleep 0.5
}
perf_stop() {
    [ -n "$perf_pid" ] || return 0
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf_pid=""
    {
        echo "# perf report: httpd's child during bench/$1 (cpu-clock samples)"
        echo "## by shared object"
        perf report -i "$var/perf-$1.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
        echo "## by function, children included (callers carry their callees' time)"
        perf report -i "$var/perf-$1.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | grep -v ' 0x0000' | head -60
    } >"$var/perf-$1.txt"
    log "profile: $var/perf-$1.txt"
}

rc=0
for b in $benches; do
    case $b in
        aead) run_aead || rc=1 ;;
        *) perf_start "$b"; "$PY" "bench/$b.py" || rc=1; perf_stop "$b" ;;
    esac
done
# A LENZ warning or error, or a crashed child, during a run makes its
# figures suspect (notices, such as the start-up line of the streams' caps,
# do not).
bad='\[(lenz:)?(warn|error|crit|alert|emerg)\].*LENZ[0-9]+: |AH00052|Segmentation fault'
if grep -E "$bad" "$var/httpd/error_log" >/dev/null 2>&1; then
    log "httpd's error log has errors (they may have skewed the figures):"
    grep -E "$bad" "$var/httpd/error_log" | tail -n 10 >&2
fi
status=$rc
