#!/bin/sh
# fuzz/run.sh - build the libFuzzer harnesses (fuzz/fuzz.mk) and run each
# in turn, one at a time, printing TAP: one test per harness, "ok" when it
# ran its time without a crash, timeout, leak or OOM.
#
#   fuzz/run.sh [--smoke] [NAME...]       NAME: json s3xml aead_dec ... (default: all)
#
# Default (`make fuzz`): FUZZ_SECONDS (60) each on build/fuzz/corpus-<name>,
# a copy of fuzz/corpus/<name> that keeps what earlier runs found.
# --smoke (scripts/fuzz-smoke.sh): FUZZ_SMOKE_SECONDS (10) each over the
# committed seeds, which stay untouched (new inputs go to a scratch dir).
# Either way fuzz/crashes/<name>/ (inputs of bugs already fixed) is
# replayed as part of the corpus.  A crash leaves its input under
# build/fuzz/out-<name>/ and the line names it.  Exit status 1 if any
# harness failed, and a missing clang is a failure, never a skip.
set -u
cd "$(dirname "$0")/.."

mode=long
secs=${FUZZ_SECONDS:-60}
if [ "${1:-}" = "--smoke" ]; then
    mode=smoke
    secs=${FUZZ_SMOKE_SECONDS:-10}
    shift
fi
names=${*:-json s3xml aead_dec mustache token keyring passwd jwt httpfmt}
cc=${FUZZ_CC:-clang}
timeout=${FUZZ_TIMEOUT:-10}      # seconds one input may take
count=$(echo $names | wc -w)
echo "1..$count"

fail_all() {
    i=0
    for h in $names; do
        i=$((i + 1))
        echo "not ok $i - fuzz_$h: $1"
    done
    exit 1
}

command -v "$cc" >/dev/null 2>&1 \
    || fail_all "$cc not found (scripts/deps.sh installs clang libclang-rt-14-dev)"
[ -f config.mk ] || fail_all "config.mk missing: run ./configure (or make build) first"
mkdir -p build/fuzz
mk() { make --no-print-directory -s -f fuzz/fuzz.mk FUZZ_CC="$cc" "$@"; }
if ! mk -j2 build/fuzz/libcore.a build/fuzz/pool_shim.o >build/fuzz/build.log 2>&1; then
    sed -n 's/^/# /p' build/fuzz/build.log | tail -20
    fail_all "the core does not build with $cc (build/fuzz/build.log)"
fi

status=0
i=0
for h in $names; do
    i=$((i + 1))
    bin=build/fuzz/fuzz_$h
    out=build/fuzz/out-$h
    seeds=fuzz/corpus/$h
    rm -rf "$out"
    mkdir -p "$out"
    if ! mk "$bin" >"$out/build.log" 2>&1; then
        sed -n 's/^/# /p' "$out/build.log" | tail -10
        echo "not ok $i - fuzz_$h: does not build ($out/build.log)"
        status=1
        continue
    fi
    if [ ! -d "$seeds" ]; then
        echo "not ok $i - fuzz_$h: no seed corpus $seeds"
        status=1
        continue
    fi
    if [ $mode = smoke ]; then
        work=$out/new            # new units land here, the seeds stay as committed
        mkdir -p "$work"
        dirs="$work $seeds"
    else
        work=build/fuzz/corpus-$h
        mkdir -p "$work"
        cp -p "$seeds"/* "$work"/
        dirs=$work
    fi
    [ -d "fuzz/crashes/$h" ] && dirs="$dirs fuzz/crashes/$h"
    dict=
    [ -f "fuzz/$h.dict" ] && dict=-dict=fuzz/$h.dict
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/" $dict $dirs >"$out/log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
    found=$(ls "$out"/crash-* "$out"/timeout-* "$out"/leak-* "$out"/oom-* 2>/dev/null | head -1)
    if [ $rc = 0 ] && [ -z "$found" ] && [ -n "$runs" ]; then
        echo "ok $i - fuzz_$h: $secs s, $runs runs, no crash"
    else
        status=1
        grep -E 'fuzz check failed|ERROR:|SUMMARY:|runtime error' "$out/log" | head -5 | sed 's/^/# /'
        if [ -n "$found" ]; then
            echo "not ok $i - fuzz_$h: crash input $found (replay: $bin $found)"
        else
            echo "not ok $i - fuzz_$h: exit status $rc, see $out/log"
        fi
    fi
done
exit $status
