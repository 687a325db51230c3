#!/bin/sh
# The C unit tests alone (no servers needed except npm for the SigV4 suite).
set -eu
cd "$(dirname "$0")/.."
scripts/fetch-sigv4-suite.sh >/dev/null
LENZ_TOP=$(pwd) LENZ_TESTS='^unit/test_' exec perl t/run-tests.pl
