#!/bin/bash
# `make run`: install what is missing, build, start PostgreSQL, Ceph RGW
# (S3), the SMTP sink and httpd with mod_lenz on http://127.0.0.1:8080,
# all under var/dev.  Running it again keeps what runs and reloads httpd.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
port=${LENZ_HTTP_PORT:-8080}
var="$top/var/dev"

scripts/stack.sh var >/dev/null
scripts/build.sh
scripts/stack.sh start dev
# var/ may be a link out of the checkout (scripts/stack.sh): httpd and its
# children are given real paths, and htdocs where www-data can read it.
var=$(cd "$var" && pwd -P)
htdocs=$(scripts/htdocs-dir.sh "$var")
set -a
# shellcheck disable=SC1091
. "$var/stack.env"
set +a

[ -f "$var/master.key" ] || build/lenzctl gen-master-key "$var/master.key"
build/lenzctl -d "$LENZ_PG_CONNINFO" migrate sql

libexec=$(sed -n 's/^APXS_LIBEXECDIR *= *//p' config.mk)
httpd=$(sed -n 's/^HTTPD_BIN *= *//p' config.mk)
modules=""
for m in mpm_event authz_core authz_host authz_user authn_core authn_file auth_basic \
         mime alias dbd socache_shmcb; do
    modules="${modules}LoadModule ${m}_module $libexec/mod_${m}.so\n"
done
mkdir -p "$var/httpd"
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
sed -e "s|@VAR@|$(esc "$var")|g" -e "s|@TOP@|$(esc "$top")|g" -e "s|@PORT@|$port|g" \
    -e "s|@HTDOCS@|$(esc "$htdocs")|g" \
    -e "s|@MODULES@|$modules|" \
    -e "s|@PG_CONNINFO@|$(esc "$LENZ_PG_CONNINFO")|" \
    -e "s|@S3_ENDPOINT@|$(esc "$LENZ_S3_ENDPOINT")|" -e "s|@S3_BUCKET@|$(esc "$LENZ_S3_BUCKET")|" \
    -e "s|@S3_REGION@|$(esc "$LENZ_S3_REGION")|" -e "s|@S3_ACCESS_KEY@|$(esc "$LENZ_S3_ACCESS_KEY")|" \
    -e "s|@S3_SECRET_FILE@|$(esc "$LENZ_S3_SECRET_FILE")|" -e "s|@SMTP_URL@|$(esc "$LENZ_SMTP_URL")|" \
    -e "s|@SMTP_CA_FILE@|$(esc "$LENZ_SMTP_CA_FILE")|" \
    conf/dev.conf.in > "$var/httpd/httpd.conf"

"$httpd" -t -f "$var/httpd/httpd.conf"
pidfile="$var/httpd/httpd.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "httpd: running (pid $(cat "$pidfile")); reloading its configuration"
    "$httpd" -f "$var/httpd/httpd.conf" -k graceful
else
    rm -f "$pidfile"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "httpd: port $port is taken by another program" >&2
        exit 1
    fi
    "$httpd" -f "$var/httpd/httpd.conf" -k start
fi

# A first administrator, once; its password is kept in var/dev/admin.txt.
if [ ! -s "$var/admin.txt" ]; then
    pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
    if printf '%s\n' "$pw" | LENZ_MASTER_KEY_FILE="$var/master.key" \
        build/lenzctl -d "$LENZ_PG_CONNINFO" create-user admin@lenz.local --name Admin --admin \
        --password-stdin >/dev/null; then
        ( umask 077; printf 'admin@lenz.local %s\n' "$pw" > "$var/admin.txt" )
    fi
fi

health=""
for _ in $(seq 1 100); do
    health=$(curl -s -m 5 "http://127.0.0.1:$port/health" || true)
    case "$health" in *'"db":"ok","s3":"ok","smtp":"ok"'*) break ;; esac
    sleep 0.2
done
cat <<INFO

mod_lenz is running: http://127.0.0.1:$port/
  health:   http://127.0.0.1:$port/health   -> $health
  metrics:  http://127.0.0.1:$port/metrics
  mails:    $LENZ_MAIL_DIR (every message the SMTP sink received, one file each)
  logs:     $var/httpd/error_log
  database: psql "$LENZ_PG_CONNINFO"
  S3:       $LENZ_S3_ENDPOINT bucket $LENZ_S3_BUCKET
Sign in:  http://127.0.0.1:$port/account/login as $(cut -d' ' -f1 "$var/admin.txt" 2>/dev/null) with password $(cut -d' ' -f2 "$var/admin.txt" 2>/dev/null)
Upload:   http://127.0.0.1:$port/upload/
Stop everything with: make stop
INFO
