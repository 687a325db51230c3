# mod_lenz - the two commands are `make run` and `make test` (see README).
# This file only drives scripts/; the build rules live in apxs.mk.

CONFIGURE_FLAGS ?=
export CONFIGURE_FLAGS
FUZZ_SECONDS ?= 60
export FUZZ_SECONDS
SOAK_SECONDS ?= 60

.PHONY: all build deps run stop test test-asan test-valgrind unit fuzz bench bench-upload bench-download \
	bench-storage bench-health bench-search bench-rooms bench-aead soak install clean distclean

all build:
	@scripts/build.sh

deps:
	@scripts/deps.sh

# Bring the whole platform up on loopback (PostgreSQL, Ceph RGW, SMTP sink,
# httpd on http://127.0.0.1:8080).  Safe to run again.
run:
	@scripts/run.sh

# Stop exactly what `make run` started, by PID.
stop:
	@scripts/stack.sh stop var/dev

# Everything: unit tests and the Apache::Test suite against real servers.
test:
	@scripts/test.sh

# The whole suite with module, lenzctl and unit tests built with ASan+UBSan
# (configure --enable-sanitizers; the next plain `make test` reconfigures
# back) and httpd running under them; any sanitizer report fails it.
test-asan:
	@CONFIGURE_FLAGS="$(strip $(CONFIGURE_FLAGS) --enable-sanitizers)" scripts/test.sh

unit:
	@scripts/build.sh && scripts/unit.sh

# The C unit tests under valgrind (a plain build): any memory error or leak
# fails.  No suppressions: the tests destroy their pools and every library
# they use frees its global state at exit (0 bytes in use).
test-valgrind:
	@CONFIGURE_FLAGS="$(filter-out --enable-sanitizers,$(CONFIGURE_FLAGS))" scripts/build.sh && \
	  LENZ_UNIT_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect,possible" scripts/unit.sh

# libFuzzer harnesses (clang; docs/fuzzing.md): each runs FUZZ_SECONDS on
# build/fuzz/corpus-<name>, one at a time; fails on any crash.
fuzz:
	@scripts/build.sh && fuzz/run.sh

# Benchmarks against references measured in the same run (docs/bench.md):
# bench/run.sh takes the test lock, brings up its own stack (var/bench,
# ports 28xxx) and httpd, runs the benches and stops it all again.
# bench/aead.sh stays out of `make bench` for now (make bench-aead, or
# BENCHES="upload download aead" to run it under the same lock).
BENCHES ?= upload download
bench:
	@bench/run.sh $(BENCHES)

bench-upload:
	@bench/run.sh upload

bench-download:
	@bench/run.sh download

# One member's folder of 100,000 files: listing, sorting and search through
# httpd against the same SQL in psql, and the page's first row in Chromium
# (bench/storage.py; not part of `make bench`).
bench-health:
	@bench/run.sh health

bench-storage:
	@bench/run.sh storage

# Search over a million rows through httpd against the same SQL in psql
# (bench/search.py; not part of `make bench`).
bench-search:
	@bench/run.sh search

# 2,000 SSE streams in one topic's room: httpd's threads and memory, and a
# post's time to reach them all (bench/rooms.py; not part of `make bench`).
bench-rooms:
	@bench/run.sh rooms

# Segment seal/open throughput against `openssl speed` (bench/aead.sh).
bench-aead:
	@scripts/build.sh && bench/aead.sh

# make test's servers, then bench/soak's mixed workload for SOAK_SECONDS
# instead of the suite: 5xx count, httpd's RSS and descriptors start to end.
soak:
	@LENZ_SOAK_SECONDS=$(SOAK_SECONDS) scripts/test.sh

# The module (apxs -i), lenzctl, templates, htdocs, sql, lenz.load and
# lenz.conf into the Debian places; DESTDIR is honoured (scripts/install.sh).
install:
	@scripts/build.sh && scripts/install.sh

clean:
	rm -rf build t/logs t/conf/httpd.conf t/conf/apache_test_config.pm t/conf/extra.conf t/TEST

# Also the stacks' data: var/, or where it links to (/var/tmp/lenz-HASH for
# a checkout the postgres user cannot reach).  Stop them first (make stop).
distclean: clean
	rm -rf config.mk config.status config.log configure autom4te.cache aclocal.m4
	if [ -L var ]; then rm -rf "$$(readlink var)" && rm -f var; else rm -rf var; fi
