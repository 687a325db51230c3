#!/bin/sh
# A short run of every libFuzzer harness over its committed seeds, as TAP
# for t/run-tests.pl: "ok N - fuzz_<name>: S s, R runs, no crash", or
# "not ok" naming the crash input.  FUZZ_SMOKE_SECONDS (default 10) each,
# one harness at a time.  Needs clang (a missing clang is a failure, not a
# skip) and config.mk.  `make fuzz` is the long run; see docs/fuzzing.md.
cd "$(dirname "$0")/.." || exit 1
exec fuzz/run.sh --smoke "$@"
