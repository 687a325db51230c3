#!/bin/sh
# Install what is missing, configure when needed, build module, tool and tests.
# CONFIGURE_FLAGS (e.g. --enable-werror) is passed to ./configure; a change
# of flags reconfigures.
set -eu
cd "$(dirname "$0")/.."
# One build at a time on this machine (2 cores), whichever checkout: a
# build inside `make test` and one by hand wait for each other.
exec 8>"${LENZ_BUILD_LOCK:-/tmp/lenz-build.lock}"
flock 8

scripts/deps.sh

flags="${CONFIGURE_FLAGS:-}"
stamp=build/.configure-flags
want_reconf=0
[ -f config.mk ] || want_reconf=1
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$flags" ] || want_reconf=1
[ configure.ac -nt configure ] 2>/dev/null && want_reconf=1
[ config.mk.in -nt config.mk ] 2>/dev/null && want_reconf=1

if [ $want_reconf = 1 ]; then
    if [ ! -x configure ] || [ configure.ac -nt configure ]; then
        autoreconf -fi >/dev/null
    fi
    # shellcheck disable=SC2086
    ./configure $flags >build.configure.log 2>&1 || {
        tail -20 build.configure.log >&2
        echo "build: ./configure $flags failed (full log: build.configure.log)" >&2
        exit 1
    }
    rm -rf build
    mkdir -p build
    printf '%s' "$flags" > "$stamp"
    mv build.configure.log build/configure.log
fi

jobs=$(nproc 2>/dev/null || echo 2)
make --no-print-directory -s -j"$jobs" -f apxs.mk all
