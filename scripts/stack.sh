#!/bin/bash
# Bring up / tear down mod_lenz's real backing services on loopback:
# PostgreSQL 15, Ceph RADOS Gateway (S3) and an SMTP sink, all under one
# private directory, never touching system clusters, /etc/ceph, /var/lib/ceph
# or /var/lib/postgresql.  Run as root on Debian 12 (scripts/deps.sh).
#
#   scripts/stack.sh start  PROFILE        PROFILE: dev (var/dev) | test (var/test)
#   scripts/stack.sh stop   PROFILE|DIR    stops what start started (and DIR/httpd/httpd.pid)
#   scripts/stack.sh status PROFILE|DIR    up/down per component; non-zero if any is down
#   scripts/stack.sh var                   makes var/ (a link to /var/tmp/lenz-HASH when
#                                          postgres or www-data cannot reach the checkout)
#                                          and prints its real path
#
# Ports (dev / test): PostgreSQL 8432 / 18432, S3 8000 / 18000, SMTP 8025 / 18025
# (STARTTLS offered), SMTPS 8465 / 18465 (implicit TLS), plain SMTP without
# STARTTLS 8026 / 18026, Ceph mon S3+100 and S3+101 (8100-8101 / 18100-18101),
# Ceph OSD S3+110..S3+149.
# Overrides: LENZ_STACK_DIR, LENZ_PG_PORT, LENZ_S3_PORT, LENZ_SMTP_PORT,
# LENZ_SMTPS_PORT, LENZ_SMTP_PLAIN_PORT,
# LENZ_CEPH_MON_PORT, LENZ_CORS_ORIGINS (space separated), LENZ_CEPH_STORE
# (memstore|bluestore), LENZ_CEPH_BYTES (memstore RAM cap / bluestore sparse file size),
# LENZ_RGW_FRONTEND_OPTS (more beast options; default tcp_nodelay=1: without it RGW
# holds the short tail of a response for the client's delayed ACK, 40 ms).
#
# On success start writes DIR/stack.env: KEY=value lines whose values never
# need quoting, so it is both sourceable (set -a; . DIR/stack.env) and trivial
# to parse.
#
# Ceph: the dev profile uses bluestore on a sparse file and keeps its data
# across stop/start.  The test profile uses memstore (RAM): its data cannot
# outlive the processes, so every start of a stopped test stack wipes DIR/ceph
# and builds a fresh cluster (S3 keys in DIR/s3 are kept and reused).
set -eu

cd "$(dirname "$0")/.."
TOP=$(pwd -P)
umask 022

# A caller's PG*/CEPH_* settings would silently redirect our psql/ceph calls.
for v in $(compgen -e); do
    case $v in PG*|CEPH_ARGS|CEPH_CONF) unset "$v" ;; esac
done

PGBIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3              # Debian's python (botocore, aiosmtpd), not pyenv's
S3_REGION=us-east-1
S3_USER=lenz

# ---------------------------------------------------------------- helpers

msg() { echo "$1: $2"; }
die() { echo "$1: ERROR: $2" >&2; exit 1; }

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }   # any locale decimal mark
# since START_US: seconds elapsed, e.g. 1.23s
since() { local d=$(( $(now_us) - $1 )); printf '%d.%02ds' $((d / 1000000)) $((d % 1000000 / 10000)); }

# Close every inherited descriptor above 2: a daemon holding the caller's pipe
# (or our lock fd) would make `out=$(stack.sh start test)` hang forever.
close_fds() {
    local fd
    for fd in "/proc/$BASHPID/fd/"*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    return 0
}

# spawn LOG PIDFILE CMD...: run CMD as a daemon in its own session (a Ctrl-C in
# the caller's terminal must not reach it), stdio to LOG, and record its pid.
# The subshell is never a process-group leader, so setsid execs in place and
# $! is the daemon's own pid.
spawn() {
    local log=$1 pidfile=$2
    shift 2
    ( close_fds; exec setsid "$@" </dev/null >>"$log" 2>&1 ) &
    echo $! >"$pidfile"
}

# pid_live PID [MATCH]: PID is a live process (a zombie counts as gone) whose
# command line contains MATCH.  The match guards against a recycled pid.
pid_live() {
    local pid=$1 match=${2:-} st
    [ -r "/proc/$pid/stat" ] || return 1
    st=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$st" != Z ] || return 1
    [ -z "$match" ] && return 0
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match"
}

# pidfile_pid FILE: print the pid recorded in FILE (first line), if any.
pidfile_pid() {
    local p
    [ -f "$1" ] || return 1
    p=$(head -n 1 "$1" 2>/dev/null) || return 1
    case $p in '' | *[!0-9]*) return 1 ;; esac
    echo "$p"
}

# running FILE MATCH: the pid file names a live process of ours (sets RPID).
running() {
    RPID=$(pidfile_pid "$1") && pid_live "$RPID" "$2"
}

# clean_stale NAME FILE MATCH: drop a pid file that names no process of ours.
clean_stale() {
    if [ -f "$2" ] && ! running "$2" "$3"; then
        msg "$1" "removing stale pid file $2"
        rm -f "$2"
    fi
}

# wait_gone PID SECONDS: poll until PID has exited (or is a zombie).
wait_gone() {
    local pid=$1 n=$(($2 * 20))
    while pid_live "$pid"; do
        n=$((n - 1))
        [ $n -gt 0 ] || return 1
        sleep 0.05
    done
}

# stop_proc NAME PIDFILE MATCH SIGNAL SECONDS: signal the process named by
# PIDFILE, wait for it to go (SIGKILL if it outstays SECONDS), drop the file.
stop_proc() {
    local name=$1 file=$2 match=$3 sig=$4 secs=$5 t
    t=$(now_us)
    if running "$file" "$match"; then
        kill -s "$sig" "$RPID" 2>/dev/null || true
        if ! wait_gone "$RPID" "$secs"; then
            msg "$name" "still there after ${secs}s of SIG$sig, sending SIGKILL"
            kill -s KILL "$RPID" 2>/dev/null || true
            wait_gone "$RPID" 10 || die "$name" "pid $RPID survives SIGKILL"
        fi
        msg "$name" "stopped (pid $RPID) in $(since "$t")"
    else
        msg "$name" "not running"
    fi
    rm -f "$file"
}

# port_busy PORT: something already answers on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# need_port NAME PORT VAR: fail clearly when a foreign process holds PORT.
need_port() {
    port_busy "$2" || return 0
    local who=""
    command -v ss >/dev/null &&
        who=$(ss -Hltnp "sport = :$2" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/ (\1, pid \2)/p' | head -n 1)
    die "$1" "port 127.0.0.1:$2 is already taken by another process$who; stop it or set $3"
}

# wait_port NAME PORT PID SECONDS: until PORT answers; fail early if PID dies.
wait_port() {
    local n=$(($4 * 20))
    until port_busy "$2"; do
        pid_live "$3" || return 1
        n=$((n - 1))
        [ $n -gt 0 ] || return 1
        sleep 0.05
    done
}

# tail_log NAME FILE: show the end of a log after a failure.
tail_log() { [ -f "$2" ] && { echo "$1: --- last lines of $2:" >&2; tail -n 15 "$2" >&2; }; return 0; }

# urlenc STRING: percent-encode for a libpq URI (host given as a socket path).
urlenc() {
    local s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in [A-Za-z0-9._~-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
    done
    echo "$out"
}

# secret_file PATH VALUE: write VALUE (no newline) readable by root only.
secret_file() { ( umask 077; printf '%s' "$2" >"$1.tmp" ) && mv -f "$1.tmp" "$1"; }

# ---------------------------------------------------------------- profile / dir

# profile PROFILE: set DIR, ports, Ceph store and CORS origins.
profile() {
    local d pg s3 smtp smtps plain store web
    case $1 in
        dev)  d=var/dev  pg=8432  s3=8000  smtp=8025  smtps=8465  plain=8026  store=bluestore web=8080 ;;
        test) d=var/test pg=18432 s3=18000 smtp=18025 smtps=18465 plain=18026 store=memstore  web=8529 ;;
        *) die stack "unknown profile '$1' (want dev or test)" ;;
    esac
    PROFILE=$1
    DIR=${LENZ_STACK_DIR:-$TOP/$d}
    PG_PORT=${LENZ_PG_PORT:-$pg}
    S3_PORT=${LENZ_S3_PORT:-$s3}
    SMTP_PORT=${LENZ_SMTP_PORT:-$smtp}
    SMTPS_PORT=${LENZ_SMTPS_PORT:-$smtps}
    SMTP_PLAIN_PORT=${LENZ_SMTP_PLAIN_PORT:-$plain}
    MON_PORT=${LENZ_CEPH_MON_PORT:-$((S3_PORT + 100))}
    CEPH_STORE=${LENZ_CEPH_STORE:-$store}
    CORS_ORIGINS=${LENZ_CORS_ORIGINS:-http://127.0.0.1:$web http://localhost:$web}
    case $CEPH_STORE in memstore) : "${LENZ_CEPH_BYTES:=$((2 << 30))}" ;;
                        bluestore) : "${LENZ_CEPH_BYTES:=$((32 << 30))}" ;;
                        *) die ceph "LENZ_CEPH_STORE must be memstore or bluestore" ;; esac
    CEPH_BYTES=$LENZ_CEPH_BYTES
}

# target ARG: a profile name or a directory, for stop and status.
target() {
    case $1 in
        dev | test) profile "$1" ;;
        *) DIR=$1; PROFILE="" ;;
    esac
}

# ensure_var: TOP/var, where the dev, test and bench stacks live.  When the
# postgres or www-data user cannot traverse TOP (a clone under root's 0700
# home), PostgreSQL could not reach its cluster there nor httpd's children
# the files they read: then TOP/var is a link to /var/tmp/lenz-<hash of
# TOP> (0755), which they can reach.  `make distclean` removes both.
ensure_var() {
    local v=$TOP/var h real
    [ -e "$v" ] && return 0
    if runuser -u postgres -- test -x "$TOP" 2>/dev/null &&
        runuser -u www-data -- test -x "$TOP" 2>/dev/null; then
        mkdir -p "$v"
        return 0
    fi
    h=$(printf '%s' "$TOP" | sha256sum | cut -c1-12)
    real=/var/tmp/lenz-$h
    mkdir -p "$real"
    chmod 0755 "$real"
    ln -sfn "$real" "$v"
    msg stack "postgres and www-data cannot reach $TOP: the stacks live in $real ($v links there)"
}

# set_paths: every path below DIR, kept in one place.  DIR is made real
# (var may be a link), since postgres and httpd's children are given it.
set_paths() {
    case $DIR in /*) ;; *) DIR=$TOP/$DIR ;; esac
    if [ -d "$(dirname "$DIR")" ]; then
        DIR=$(cd "$(dirname "$DIR")" && pwd -P)/$(basename "$DIR")
    fi
    # Values go into stack.env unquoted and into socket paths: keep them plain.
    case $DIR in *[!A-Za-z0-9_./-]*) die stack "directory '$DIR' has characters other than A-Za-z0-9_./-" ;; esac
    [ ${#DIR} -le 70 ] || die stack "directory '$DIR' is too long for unix socket paths (max 70 chars)"
    PGD=$DIR/pg                  # owned by postgres
    PGDATA_DIR=$PGD/data
    PG_SOCK=$PGD/run
    PG_PIDFILE=$PGDATA_DIR/postmaster.pid   # postgres' own pid file
    PG_MATCH="postgres -D $PGDATA_DIR"
    CEPHD=$DIR/ceph
    CONF=$CEPHD/ceph.conf
    MON_PIDFILE=$CEPHD/run/mon.a.pid
    OSD_PIDFILE=$CEPHD/run/osd.pid
    RGW_PIDFILE=$CEPHD/run/rgw.pid
    S3D=$DIR/s3
    SMTPD=$DIR/smtp
    SMTP_PIDFILE=$SMTPD/smtp.pid
    SMTP_MATCH="--pid-file $SMTP_PIDFILE"
    SMTP_TLSD=$SMTPD/tls
    MAIL_DIR=$DIR/mail
    HTTPD_PIDFILE=$DIR/httpd/httpd.pid
    ENV_FILE=$DIR/stack.env
}

# lock: one start/stop at a time per stack directory.
lock() {
    exec 9>>"$DIR/.lock"
    flock -w 600 9 || die stack "another stack.sh holds $DIR/.lock"
}

# env_get KEY: a value from the previous stack.env (empty if none).
env_get() { [ -f "$ENV_FILE" ] && sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1; return 0; }

# same_port NAME KEY WANTED: a component already running must be on the port asked for.
same_port() {
    local had
    had=$(env_get "$2")
    [ -z "$had" ] || [ "$had" = "$3" ] ||
        die "$1" "already running on port $had, not $3; stop the stack first"
}

# ---------------------------------------------------------------- PostgreSQL

pg_run() { runuser -u postgres -- "$@"; }
# pg_write FILE: stdin into FILE, as the postgres user (it owns the data dir).
pg_write() { pg_run tee "$1" >/dev/null; }
psql_super() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres "$@"; }

# pg_init: a new cluster in DIR/pg/data, owned by the postgres user (initdb
# refuses root).  Local superuser access by peer auth for OS root/postgres
# only; everything over TCP needs a scram-sha-256 password.
pg_init() {
    local t
    t=$(now_us)
    rm -rf "$PGDATA_DIR"                 # a half-made cluster from a failed init
    mkdir -p "$PG_SOCK"
    chown -R postgres:postgres "$PGD"
    chmod 0755 "$PGD" "$PG_SOCK"
    pg_run test -x "$PGD" || die pg "user postgres cannot reach $PGD (make its parents traversable)"
    # --no-sync: a throwaway/dev cluster need not wait for the disk.
    # C collation (stable sort order in tests), UTF-8 ctype (lower()/citext on non-ASCII).
    pg_run "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C --lc-ctype=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 --no-sync --no-instructions \
        >"$PGD/initdb.log" 2>&1 || { tail_log pg "$PGD/initdb.log"; die pg "initdb failed"; }
    pg_write "$PGDATA_DIR/pg_hba.conf" <<'EOF'
# written by scripts/stack.sh
# TYPE  DATABASE USER     ADDRESS       METHOD
local   all      postgres               peer map=super
local   all      all                    scram-sha-256
host    all      all      127.0.0.1/32  scram-sha-256
EOF
    pg_write "$PGDATA_DIR/pg_ident.conf" <<'EOF'
# MAP   OS user   PG user   (root runs stack.sh; nobody else gets the superuser)
super   root      postgres
super   postgres  postgres
EOF
    echo "include_if_exists = 'lenz-stack.conf'" | pg_run tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
    msg pg "initdb in $(since "$t")"
}

# pg_settings: rewritten on every start so port overrides take effect.
pg_settings() {
    local fast=""
    [ "$PROFILE" = test ] && fast="
# test data is throwaway: do not wait for the disk
fsync = off
synchronous_commit = off
full_page_writes = off"
    pg_write "$PGDATA_DIR/lenz-stack.conf" <<EOF
# written by scripts/stack.sh start $PROFILE on each start
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
password_encryption = scram-sha-256
max_connections = 200
shared_buffers = $([ "$PROFILE" = test ] && echo 32MB || echo 128MB)
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
$fast
EOF
}

# pg_role: role lenz (random password, kept in DIR/pg/lenz.password) and its
# database.  CREATE DATABASE must run alone, hence \gexec.
pg_role() {
    local pw
    [ -s "$PGD/lenz.password" ] || secret_file "$PGD/lenz.password" "$(openssl rand -hex 24)"
    pw=$(cat "$PGD/lenz.password")
    psql_super -v pw="$pw" <<'EOF' || die pg "creating role/database lenz failed"
SELECT 'CREATE ROLE lenz LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lenz') \gexec
ALTER ROLE lenz WITH LOGIN PASSWORD :'pw';
SELECT 'CREATE DATABASE lenz OWNER lenz' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'lenz') \gexec
EOF
    PG_PASSWORD=$pw
}

pg_start() {
    local t
    if running "$PG_PIDFILE" "$PG_MATCH"; then
        same_port pg LENZ_PG_PORT "$PG_PORT"
        msg pg "already running (pid $RPID)"
    else
        clean_stale pg "$PG_PIDFILE" "$PG_MATCH"
        need_port pg "$PG_PORT" LENZ_PG_PORT
        [ -f "$PGDATA_DIR/PG_VERSION" ] || pg_init
        pg_settings
        t=$(now_us)
        # pg_ctl -w returns once the server accepts connections; its own
        # session keeps the postmaster away from the caller's terminal.
        ( close_fds; exec setsid runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" \
            -l "$PGD/log" -w -t 60 -s start ) </dev/null >>"$PGD/pg_ctl.out" 2>&1 ||
            { tail_log pg "$PGD/log"; die pg "pg_ctl start failed"; }
        "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 30 || die pg "pg_isready says no"
        running "$PG_PIDFILE" "$PG_MATCH" || die pg "postmaster not found after start"
        msg pg "started (pid $RPID) in $(since "$t")"
    fi
    t=$(now_us)
    pg_role
    PG_CONNINFO="postgresql://lenz:$PG_PASSWORD@127.0.0.1:$PG_PORT/lenz"
    PG_SUPER_CONNINFO="postgresql://postgres@$(urlenc "$PG_SOCK"):$PG_PORT/postgres"
    [ "$("$PGBIN/psql" -X -At -d "$PG_CONNINFO" -c 'SELECT 1')" = 1 ] ||
        die pg "lenz cannot log in over TCP"
    msg pg "ready on 127.0.0.1:$PG_PORT, role/database lenz checked in $(since "$t")"
}

# ---------------------------------------------------------------- Ceph RGW

ceph_cli() { timeout 120 ceph -c "$CONF" --connect-timeout 60 "$@"; }

# ceph_conf: the whole cluster's configuration, private to DIR/ceph.
ceph_conf() {
    local store
    if [ "$CEPH_STORE" = memstore ]; then
        store="# RAM object store: fast start, data gone with the process.
osd objectstore = memstore
memstore device bytes = $CEPH_BYTES"
    else
        store="# bluestore on a sparse file in the OSD directory: persists across restarts.
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $CEPH_BYTES
# Skip the consistency check at every start (slow; the data is a dev stack's).
bluestore fsck on mount = false
# The default 4 GiB cache target is too much for a dev machine.
osd memory target = 1073741824"
    fi
    cat >"$CONF" <<EOF
# written by scripts/stack.sh: a one-mon, one-osd, one-radosgw cluster on loopback.
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$((MON_PORT + 1))]
# Loopback only, and no cephx keys to create or distribute.
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
# Without this radosgw never opens its port (get_initial_auth_request returned -13).
ms mon client mode = crc
# OSD ports in a per-stack range, so dev and test stacks can run side by side.
ms bind port min = $((S3_PORT + 110))
ms bind port max = $((S3_PORT + 149))
# Everything under DIR/ceph, nothing under /var/run/ceph, /var/log/ceph, /var/lib/ceph.
run dir = $CEPHD/run
crash dir = $CEPHD/crash
log file = $CEPHD/log/\$name.log
log to syslog = false
# Otherwise the mon writes /var/log/ceph/ceph.log despite the private log file.
mon cluster log to file = false
# A single OSD: one copy, few PGs, no autoscaler, no warnings about it.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# Lets a developer drop a pool by hand.
mon allow pool delete = true
# A nearly full disk must not stop the mon (defaults: warn 30%, crit 5% free).
mon data avail warn = 2
mon data avail crit = 1

[mon]
mon data = $CEPHD/mon/\$cluster-\$id
# Commit paxos proposals after 0.1 s instead of 1 s: RGW creates its pools one
# after another, each waiting for a commit; start-up drops from ~15 s to ~2.5 s.
paxos propose interval = 0.1

[osd]
osd data = $CEPHD/osd/\$cluster-\$id
$store

[client.rgw.a]
rgw data = $CEPHD/rgw
# A fixed name (clients default to one with pid and a counter in it).
admin socket = $CEPHD/run/\$cluster-\$name.asok
# Beast is asynchronous; 512 threads (default) only cost memory on a 2-core box.
rgw thread pool size = 64
# Reclaim the space of deleted objects after minutes, not hours (memstore is RAM).
rgw gc obj min wait = 300
rgw gc processor period = 300
EOF
}

# ceph_kill: stop the Ceph daemons of this stack, radosgw first.
# radosgw gets SIGTERM: it exits in ~0.1 s and unregisters its watches on the
# control objects.  A SIGKILLed radosgw leaves them in the OSD (persisted, so
# they survive an OSD restart too) and the next radosgw then waits out
# 30 s watch timeouts: ~10 s before opening its port, ~30 s on the first
# metadata write (e.g. PUT ?cors).  SIGKILL only if it outstays 10 s.
# OSD and mon get SIGKILL (as the notes say): memstore data is throwaway,
# bluestore and the mon's RocksDB are crash-safe, a clean shutdown only costs time.
ceph_kill() {
    stop_proc radosgw "$RGW_PIDFILE" "radosgw -c $CONF" TERM 10
    stop_proc ceph-osd "$OSD_PIDFILE" "ceph-osd -c $CONF" KILL 10
    stop_proc ceph-mon "$MON_PIDFILE" "ceph-mon -c $CONF" KILL 10
    rm -f "$CEPHD"/run/*.asok        # SIGKILLed daemons leave their admin sockets
}

# ceph_init: a brand-new cluster in an empty DIR/ceph.
ceph_init() {
    local t fsid
    t=$(now_us)
    rm -rf "$CEPHD"
    mkdir -p "$CEPHD"/run "$CEPHD"/log "$CEPHD"/crash "$CEPHD"/mon "$CEPHD"/osd "$CEPHD"/rgw
    ceph_conf
    echo "$CEPH_STORE" >"$CEPHD/store"
    fsid=$(sed -n 's/^fsid = //p' "$CONF")
    monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$((MON_PORT + 1))]" \
        "$CEPHD/monmap" >"$CEPHD/log/init.out" 2>&1 || { tail_log ceph "$CEPHD/log/init.out"; die ceph "monmaptool failed"; }
    ceph-mon -c "$CONF" -i a --mkfs --monmap "$CEPHD/monmap" >>"$CEPHD/log/init.out" 2>&1 ||
        { tail_log ceph "$CEPHD/log/init.out"; die ceph "ceph-mon --mkfs failed"; }
    msg ceph "new cluster ($CEPH_STORE) prepared in $(since "$t")"
}

mon_start() {
    local t
    if running "$MON_PIDFILE" "ceph-mon -c $CONF"; then msg ceph-mon "already running (pid $RPID)"; return; fi
    clean_stale ceph-mon "$MON_PIDFILE" "ceph-mon -c $CONF"
    need_port ceph-mon "$MON_PORT" LENZ_CEPH_MON_PORT
    need_port ceph-mon "$((MON_PORT + 1))" LENZ_CEPH_MON_PORT
    t=$(now_us)
    spawn "$CEPHD/log/mon.a.out" "$MON_PIDFILE" /usr/bin/ceph-mon -c "$CONF" -i a -f
    running "$MON_PIDFILE" "" || true
    wait_port ceph-mon "$MON_PORT" "$RPID" 30 || { tail_log ceph-mon "$CEPHD/log/mon.a.log"; die ceph-mon "did not start"; }
    msg ceph-mon "started (pid $RPID) on 127.0.0.1:$MON_PORT in $(since "$t")"
}

# osd_create: register OSD 0 with the mon and make its object store.
osd_create() {
    local t uuid id
    t=$(now_us)
    uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$(ceph_cli osd new "$uuid" 2>>"$CEPHD/log/init.out") || { tail_log ceph "$CEPHD/log/init.out"; die ceph-osd "'ceph osd new' failed"; }
    mkdir -p "$CEPHD/osd/ceph-$id"
    ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >>"$CEPHD/log/init.out" 2>&1 ||
        { tail_log ceph "$CEPHD/log/init.out"; die ceph-osd "ceph-osd --mkfs failed"; }
    echo "$id" >"$CEPHD/osd_id"
    msg ceph-osd "osd.$id created ($CEPH_STORE) in $(since "$t")"
}

osd_start() {
    local t id
    if running "$OSD_PIDFILE" "ceph-osd -c $CONF"; then msg ceph-osd "already running (pid $RPID)"; return; fi
    clean_stale ceph-osd "$OSD_PIDFILE" "ceph-osd -c $CONF"
    [ -s "$CEPHD/osd_id" ] || osd_create
    id=$(cat "$CEPHD/osd_id")
    t=$(now_us)
    spawn "$CEPHD/log/osd.$id.out" "$OSD_PIDFILE" /usr/bin/ceph-osd -c "$CONF" -i "$id" -f
    RPID=$(cat "$OSD_PIDFILE")
    osd_wait_active "$id" "$RPID" || { tail_log ceph-osd "$CEPHD/log/osd.$id.log"; die ceph-osd "osd.$id did not become active"; }
    msg ceph-osd "osd.$id active (pid $RPID) in $(since "$t")"
}

# osd_wait_active ID PID: until the OSD says (admin socket) it has booted.
# radosgw must not start before: after a restart the mon still lists the old,
# SIGKILLed OSD's address, radosgw's first op goes there and its objecter only
# asks for a newer map when the op turns laggy, 10 s later.
osd_wait_active() {
    local n=600
    until timeout 10 ceph --admin-daemon "$CEPHD/run/ceph-osd.$1.asok" status 2>/dev/null |
        grep -q '"state": "active"'; do
        pid_live "$2" || return 1
        n=$((n - 1))
        [ $n -gt 0 ] || return 1
        sleep 0.1
    done
}

# s3_user: the RGW user whose keys go into stack.env.  Keys are generated
# once and kept in DIR/s3, so a re-initialised test cluster gets the same ones.
s3_user() {
    local t
    mkdir -p "$S3D"
    chmod 0755 "$S3D"
    [ -s "$S3D/access_key" ] || echo "LENZ$(openssl rand -hex 8 | tr a-f A-F)" >"$S3D/access_key"
    [ -s "$S3D/secret" ] || secret_file "$S3D/secret" "$(openssl rand -hex 20)"
    chmod 0600 "$S3D/secret"
    S3_ACCESS_KEY=$(cat "$S3D/access_key")
    [ -f "$CEPHD/user-created" ] && return 0
    t=$(now_us)
    # The first radosgw-admin call also creates the realm/zone and RGW's pools;
    # it blocks until the OSD is up and the pools' PGs are active.
    timeout 180 radosgw-admin -c "$CONF" user create --uid "$S3_USER" --display-name "mod_lenz $PROFILE" \
        --access-key "$S3_ACCESS_KEY" --secret-key "$(cat "$S3D/secret")" >"$CEPHD/log/user.out" 2>&1 ||
        { tail_log ceph-osd "$CEPHD/log/osd.$(cat "$CEPHD/osd_id").log"; tail_log radosgw-admin "$CEPHD/log/user.out"; die s3 "radosgw-admin user create failed"; }
    touch "$CEPHD/user-created"
    msg s3 "user $S3_USER created (pools ready) in $(since "$t")"
}

rgw_start() {
    local t
    if running "$RGW_PIDFILE" "radosgw -c $CONF"; then
        same_port radosgw LENZ_S3_PORT "$S3_PORT"
        msg radosgw "already running (pid $RPID)"
        return
    fi
    clean_stale radosgw "$RGW_PIDFILE" "radosgw -c $CONF"
    need_port radosgw "$S3_PORT" LENZ_S3_PORT
    t=$(now_us)
    spawn "$CEPHD/log/rgw.out" "$RGW_PIDFILE" /usr/bin/radosgw -c "$CONF" -n client.rgw.a -f \
        --rgw-frontends "beast endpoint=127.0.0.1:$S3_PORT ${LENZ_RGW_FRONTEND_OPTS-tcp_nodelay=1}"
    running "$RGW_PIDFILE" "" || true
    wait_port radosgw "$S3_PORT" "$RPID" 120 || { tail_log radosgw "$CEPHD/log/client.rgw.a.log"; die radosgw "did not open port $S3_PORT"; }
    msg radosgw "started (pid $RPID) on 127.0.0.1:$S3_PORT in $(since "$t")"
}

# s3_env: the variables s3-admin.py reads.
s3_env() {
    export LENZ_S3_ENDPOINT=http://127.0.0.1:$S3_PORT LENZ_S3_REGION=$S3_REGION LENZ_S3_BUCKET=lenz \
        LENZ_S3_ACCESS_KEY=$S3_ACCESS_KEY LENZ_S3_SECRET_FILE=$S3D/secret
}

# ceph_any_up: at least one daemon live.
ceph_any_up() {
    running "$MON_PIDFILE" "ceph-mon -c $CONF" || running "$OSD_PIDFILE" "ceph-osd -c $CONF" ||
        running "$RGW_PIDFILE" "radosgw -c $CONF"
}

# ceph_all_up: all three daemons live.
ceph_all_up() {
    running "$MON_PIDFILE" "ceph-mon -c $CONF" && running "$OSD_PIDFILE" "ceph-osd -c $CONF" &&
        running "$RGW_PIDFILE" "radosgw -c $CONF"
}

ceph_start() {
    local t0 t
    t0=$(now_us)
    if [ -f "$CONF" ] && ceph_all_up; then
        same_port radosgw LENZ_S3_PORT "$S3_PORT"
        msg ceph "already running (mon, osd, radosgw)"
    else
        # memstore loses everything with the OSD process, a cluster whose
        # init never finished is unusable, and one on another store than the
        # one asked for (LENZ_CEPH_STORE, e.g. a bench run with
        # BENCH_CEPH_STORE=bluestore before this one) is not what the caller
        # measures: in all three cases start from scratch.
        local had
        had=$(cat "$CEPHD/store" 2>/dev/null) || had=
        if [ ! -f "$CEPHD/initialized" ] || [ "$had" = memstore ] || [ "$had" != "$CEPH_STORE" ]; then
            [ -z "$had" ] || [ "$had" = "$CEPH_STORE" ] ||
                msg ceph "the cluster in $CEPHD is on $had, $CEPH_STORE asked for: a new one"
            if [ -f "$CONF" ] && ceph_any_up; then ceph_kill; fi
            ceph_init
        fi
        mon_start
        osd_start
        s3_user
        rgw_start
    fi
    S3_ACCESS_KEY=$(cat "$S3D/access_key")
    s3_env
    t=$(now_us)
    # One python process: wait for a signed ListBuckets, create bucket, set CORS.
    # shellcheck disable=SC2086  # one origin per word
    "$PY" "$TOP/scripts/s3-admin.py" setup --timeout 60 $CORS_ORIGINS ||
        { tail_log radosgw "$CEPHD/log/client.rgw.a.log"; die s3 "S3 set-up failed"; }
    touch "$CEPHD/initialized"
    msg s3 "signed requests answered, bucket lenz + CORS set in $(since "$t")"
    msg s3 "ready at $LENZ_S3_ENDPOINT ($CEPH_STORE) in $(since "$t0") total"
}

# ---------------------------------------------------------------- SMTP sink

smtp_greets() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" || return 1
    read -r -t 5 line <&3 || line=""
    printf 'QUIT\r\n' >&3 2>/dev/null || true
    exec 3<&-
    case $line in 220*) return 0 ;; *) return 1 ;; esac
}

# tls_conf FILE CN EXTENSIONS...: an openssl req configuration (no system
# openssl.cnf involved) for a certificate named CN with these v3 extensions.
tls_conf() {
    local f=$1 cn=$2
    shift 2
    { printf '[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n'
      printf '[dn]\nCN = %s\n[ext]\n' "$cn"
      printf '%s\n' "$@"; } >"$f"
}

# smtp_tls: certificates for the sink in DIR/smtp/tls - a throwaway CA
# (ca.pem), a server certificate it signed for 127.0.0.1 and localhost
# (server.pem, server.key 0600), and a second CA that signed nothing
# (other-ca.pem, for clients that trust the wrong CA).  Both CA keys are
# deleted once used, so nothing else can ever be signed by them.  Kept while
# they are valid for 7 more days; SMTP_TLS_NEW=1 when made anew.
smtp_tls() {
    local d=$SMTP_TLSD t tmp log=$SMTPD/openssl.log
    SMTP_TLS_NEW=0
    if [ -s "$d/ca.pem" ] && [ -s "$d/other-ca.pem" ] && [ -s "$d/server.key" ] &&
        openssl x509 -in "$d/ca.pem" -noout -checkend 604800 >/dev/null 2>&1 &&
        openssl x509 -in "$d/server.pem" -noout -checkend 604800 >/dev/null 2>&1; then
        return 0
    fi
    t=$(now_us)
    rm -rf "$d"
    mkdir -p "$d"
    chmod 0755 "$d"                  # the CA certificate is read by httpd's User
    tmp=$(mktemp -d "$d/.new.XXXXXX")  # 0700: the CA keys live only here
    tls_conf "$tmp/ca.cnf" "mod_lenz $PROFILE SMTP sink CA" \
        "basicConstraints = critical,CA:TRUE" "keyUsage = critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier = hash"
    tls_conf "$tmp/other.cnf" "mod_lenz $PROFILE unrelated CA" \
        "basicConstraints = critical,CA:TRUE" "keyUsage = critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier = hash"
    tls_conf "$tmp/server.cnf" localhost \
        "basicConstraints = critical,CA:FALSE" "keyUsage = critical,digitalSignature" \
        "extendedKeyUsage = serverAuth" "subjectAltName = IP:127.0.0.1,DNS:localhost" \
        "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid"
    ( umask 077
      for c in ca other; do
          openssl req -x509 -config "$tmp/$c.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
              -nodes -keyout "$tmp/$c.key" -out "$tmp/$c.pem" -days 90 || exit 1
      done
      openssl req -x509 -config "$tmp/server.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
          -nodes -keyout "$tmp/server.key" -out "$tmp/server.pem" -days 90 \
          -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" &&
      openssl verify -CAfile "$tmp/ca.pem" "$tmp/server.pem" ) >"$log" 2>&1 ||
        { rm -rf "$tmp"; tail_log openssl "$log"; die smtp "cannot make the TLS certificates"; }
    chmod 0644 "$tmp/ca.pem" "$tmp/other.pem" "$tmp/server.pem"
    mv "$tmp/server.key" "$tmp/server.pem" "$d/"
    mv "$tmp/other.pem" "$d/other-ca.pem"
    mv "$tmp/ca.pem" "$d/ca.pem"
    rm -rf "$tmp"
    SMTP_TLS_NEW=1
    msg smtp "new CA and server certificate for 127.0.0.1/localhost in $d in $(since "$t")"
}

# smtp_args: the sink's command line for this stack's ports and certificates.
smtp_args() {
    SMTP_ARGS=("$TOP/scripts/smtp-sink.py" --port "$SMTP_PORT" --smtps-port "$SMTPS_PORT"
               --plain-port "$SMTP_PLAIN_PORT" --tls-cert "$SMTP_TLSD/server.pem"
               --tls-key "$SMTP_TLSD/server.key" --auth-require-tls
               --mail-dir "$MAIL_DIR" --log "$SMTPD/log" --pid-file "$SMTP_PIDFILE")
}

smtp_start() {
    local t n p
    mkdir -p "$SMTPD" "$MAIL_DIR"
    chmod 0755 "$SMTPD"
    smtp_tls
    smtp_args
    if running "$SMTP_PIDFILE" "$SMTP_MATCH"; then
        # A sink started with other ports or flags (an older stack.sh), or
        # holding certificates just replaced, is restarted: it keeps no state.
        if [ "$SMTP_TLS_NEW" = 0 ] && pid_live "$RPID" "${SMTP_ARGS[*]}"; then
            msg smtp "already running (pid $RPID)"
            return
        fi
        msg smtp "restarting (other settings or new certificates)"
        stop_proc smtp "$SMTP_PIDFILE" "$SMTP_MATCH" TERM 10
    fi
    clean_stale smtp "$SMTP_PIDFILE" "$SMTP_MATCH"
    need_port smtp "$SMTP_PORT" LENZ_SMTP_PORT
    need_port smtps "$SMTPS_PORT" LENZ_SMTPS_PORT
    need_port smtp "$SMTP_PLAIN_PORT" LENZ_SMTP_PLAIN_PORT
    t=$(now_us)
    # The sink writes its own pid file once it listens; ours is replaced by the same pid.
    spawn "$SMTPD/log" "$SMTP_PIDFILE" "$PY" "${SMTP_ARGS[@]}"
    RPID=$(cat "$SMTP_PIDFILE")
    for p in "$SMTP_PORT" "$SMTPS_PORT" "$SMTP_PLAIN_PORT"; do
        wait_port smtp "$p" "$RPID" 30 || { tail_log smtp "$SMTPD/log"; die smtp "did not open port $p"; }
    done
    n=0
    until smtp_greets; do
        n=$((n + 1)); [ $n -lt 50 ] || die smtp "no 220 greeting on port $SMTP_PORT"; sleep 0.1
    done
    msg smtp "started (pid $RPID) on 127.0.0.1:$SMTP_PORT (STARTTLS), :$SMTPS_PORT (smtps), :$SMTP_PLAIN_PORT (plain) in $(since "$t"), mail in $MAIL_DIR"
}

# ---------------------------------------------------------------- env file

write_env() {
    cat >"$ENV_FILE.tmp" <<EOF
LENZ_PROFILE=$PROFILE
LENZ_STACK_DIR=$DIR
LENZ_PG_HOST=127.0.0.1
LENZ_PG_PORT=$PG_PORT
LENZ_PG_DB=lenz
LENZ_PG_USER=lenz
LENZ_PG_PASSWORD=$PG_PASSWORD
LENZ_PG_CONNINFO=$PG_CONNINFO
LENZ_PG_SUPER_CONNINFO=$PG_SUPER_CONNINFO
LENZ_PG_SOCKET_DIR=$PG_SOCK
LENZ_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
LENZ_S3_PORT=$S3_PORT
LENZ_S3_REGION=$S3_REGION
LENZ_S3_BUCKET=lenz
LENZ_S3_ACCESS_KEY=$S3_ACCESS_KEY
LENZ_S3_SECRET_FILE=$S3D/secret
LENZ_SMTP_HOST=127.0.0.1
LENZ_SMTP_PORT=$SMTP_PORT
LENZ_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
LENZ_SMTPS_PORT=$SMTPS_PORT
LENZ_SMTPS_URL=smtps://127.0.0.1:$SMTPS_PORT
LENZ_SMTP_PLAIN_PORT=$SMTP_PLAIN_PORT
LENZ_SMTP_PLAIN_URL=smtp://127.0.0.1:$SMTP_PLAIN_PORT
LENZ_SMTP_CA_FILE=$SMTP_TLSD/ca.pem
LENZ_SMTP_OTHER_CA_FILE=$SMTP_TLSD/other-ca.pem
LENZ_MAIL_DIR=$MAIL_DIR
EOF
    chmod 0600 "$ENV_FILE.tmp"       # holds the database password
    mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- commands

# preflight: every port a component still to be started needs must be free,
# checked before anything starts so a clash does not leave a half-built stack.
preflight() {
    running "$PG_PIDFILE" "$PG_MATCH" || need_port pg "$PG_PORT" LENZ_PG_PORT
    if ! running "$SMTP_PIDFILE" "$SMTP_MATCH"; then
        need_port smtp "$SMTP_PORT" LENZ_SMTP_PORT
        need_port smtps "$SMTPS_PORT" LENZ_SMTPS_PORT
        need_port smtp "$SMTP_PLAIN_PORT" LENZ_SMTP_PLAIN_PORT
    fi
    if ! running "$MON_PIDFILE" "ceph-mon -c $CONF"; then
        need_port ceph-mon "$MON_PORT" LENZ_CEPH_MON_PORT
        need_port ceph-mon "$((MON_PORT + 1))" LENZ_CEPH_MON_PORT
    fi
    running "$RGW_PIDFILE" "radosgw -c $CONF" || need_port radosgw "$S3_PORT" LENZ_S3_PORT
}

cmd_start() {
    local t
    t=$(now_us)
    [ "$(id -u)" = 0 ] || die stack "run as root (initdb runs as postgres via runuser)"
    mkdir -p "$DIR"
    chmod a+x "$DIR"                 # the postgres user must traverse it
    lock
    msg stack "starting $PROFILE in $DIR"
    preflight
    pg_start
    smtp_start
    ceph_start
    write_env
    msg stack "up in $(since "$t"); settings in $ENV_FILE"
}

cmd_stop() {
    local t
    t=$(now_us)
    if [ ! -d "$DIR" ]; then msg stack "nothing at $DIR"; return 0; fi
    lock
    # httpd first: it uses everything else.  Started by someone else's script.
    if [ -f "$HTTPD_PIDFILE" ]; then
        if RPID=$(pidfile_pid "$HTTPD_PIDFILE") && pid_live "$RPID" &&
            { pid_live "$RPID" "$DIR" || grep -qxE 'httpd|apache2' "/proc/$RPID/comm"; }; then
            stop_proc httpd "$HTTPD_PIDFILE" "" TERM 30
        else
            msg httpd "not running"; rm -f "$HTTPD_PIDFILE"
        fi
    fi
    stop_proc smtp "$SMTP_PIDFILE" "$SMTP_MATCH" TERM 10
    ceph_kill
    # SIGINT = PostgreSQL's "fast" shutdown: abort sessions, checkpoint, exit.
    stop_proc pg "$PG_PIDFILE" "$PG_MATCH" INT 60
    msg stack "stopped in $(since "$t"); data kept in $DIR"
}

# status_line NAME PIDFILE MATCH [PORT]: print up/down; returns 1 when down.
status_line() {
    if running "$2" "$3" && { [ -z "${4:-}" ] || port_busy "$4"; }; then
        printf '%-9s up    pid %s%s\n' "$1" "$RPID" "${4:+ port $4}"
    else
        printf '%-9s down\n' "$1"; return 1
    fi
}

cmd_status() {
    local rc=0
    if [ ! -d "$DIR" ]; then echo "stack: nothing at $DIR"; return 1; fi
    status_line postgres "$PG_PIDFILE" "$PG_MATCH" "$(env_get LENZ_PG_PORT)" || rc=1
    status_line ceph-mon "$MON_PIDFILE" "ceph-mon -c $CONF" || rc=1
    status_line ceph-osd "$OSD_PIDFILE" "ceph-osd -c $CONF" || rc=1
    status_line radosgw "$RGW_PIDFILE" "radosgw -c $CONF" "$(env_get LENZ_S3_PORT)" || rc=1
    status_line smtp "$SMTP_PIDFILE" "$SMTP_MATCH" "$(env_get LENZ_SMTP_PORT)" || rc=1
    status_line smtps "$SMTP_PIDFILE" "$SMTP_MATCH" "$(env_get LENZ_SMTPS_PORT)" || rc=1
    # httpd is someone else's; shown when its pid file exists, not counted.
    [ ! -f "$HTTPD_PIDFILE" ] || status_line httpd "$HTTPD_PIDFILE" "" || true
    return $rc
}

usage() {
    echo "usage: $0 start dev|test | stop dev|test|DIR | status dev|test|DIR | var" >&2
    exit 2
}

# `stack.sh var`: makes TOP/var (see ensure_var) and prints its real path.
if [ "${1:-}" = var ] && [ $# -eq 1 ]; then
    ensure_var >&2
    cd "$TOP/var" && pwd -P
    exit 0
fi
[ $# -eq 2 ] || usage
case $1 in
    start) profile "$2"; ensure_var; set_paths; cmd_start ;;
    stop) target "$2"; set_paths; cmd_stop ;;
    status) target "$2"; set_paths; cmd_status ;;
    *) usage ;;
esac
