#!/bin/sh
# scripts/htdocs-dir.sh STACKDIR - prints the htdocs directory httpd's
# children (User www-data) can serve: the checkout's own when they can read
# it, else (a clone under root's 0700 home) a fresh copy in STACKDIR/htdocs,
# which scripts/stack.sh keeps where they can reach it.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd -P)
stack=$1
if runuser -u www-data -- test -r "$top/htdocs/css/lenz.css" 2>/dev/null; then
    echo "$top/htdocs"
    exit 0
fi
rm -rf "$stack/htdocs.new"
cp -R htdocs "$stack/htdocs.new"
chmod -R a+rX "$stack/htdocs.new"
rm -rf "$stack/htdocs"
mv "$stack/htdocs.new" "$stack/htdocs"
echo "$stack/htdocs"
