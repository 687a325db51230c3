# apxs.mk - build rules through apxs and its libtool.
#
#   build/core/*.lo   the httpd-free core (APR, libcurl, OpenSSL, json-c);
#                     compiled WITHOUT httpd's include directory, so an
#                     httpd header in the core fails the build
#   build/glue/*.lo   the httpd glue (handlers, config, filters, job runners)
#   build/mod_lenz.so linked by `apxs -c`; only lenz_module is exported;
#                     + libpq (the job runners' LISTEN in pq.c; dbd.c checks
#                     mod_dbd's pooled connections)
#   build/lenzctl     the command-line tool, same core objects (+ libpq)
#   build/t/test_*    C unit tests (TAP), same core objects
#   build/t/stack_*   C tests of the core against the real test stack
#
# The top-level Makefile drives this file after configure wrote config.mk.

include config.mk

B        := build
CORE_SRC := $(sort $(wildcard mod_lenz/core/*.c))
# the glue: the module record and area table at the top, httpd/, jobs/
# and one folder per feature area (every folder but core/ and tool/)
GLUE_SRC := $(sort $(filter-out mod_lenz/core/% mod_lenz/tool/%,$(wildcard mod_lenz/*.c mod_lenz/*/*.c)))
TOOL_SRC := $(sort $(wildcard mod_lenz/tool/*.c))
UNIT_SRC := $(sort $(wildcard t/unit/test_*.c t/unit/stack_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

CORE_LO  := $(CORE_SRC:mod_lenz/core/%.c=$(B)/core/%.lo)
GLUE_LO  := $(GLUE_SRC:mod_lenz/%.c=$(B)/glue/%.lo)
TOOL_LO  := $(TOOL_SRC:mod_lenz/tool/%.c=$(B)/tool/%.lo)
UNIT_BIN := $(UNIT_SRC:t/unit/%.c=$(B)/t/%)

LT       := $(LIBTOOL) --silent
BASE_CFLAGS := -std=gnu11 -g -O2 -fPIC -pipe -fvisibility=hidden $(WARN_CFLAGS) $(SAN_CFLAGS) \
	-DLENZ_DATADIR='"$(LENZ_DATADIR)"' -DLENZ_VERSION='"$(LENZ_VERSION)"'
LIB_CFLAGS  := $(APR_INCLUDES) $(APU_INCLUDES) $(OPENSSL_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) $(QRENCODE_CFLAGS) $(CMARK_CFLAGS)
CORE_CFLAGS := $(BASE_CFLAGS) -Imod_lenz/core $(LIB_CFLAGS)
GLUE_CFLAGS := $(BASE_CFLAGS) $(APXS_CFLAGS) -I$(APXS_INCLUDEDIR) -Imod_lenz -Imod_lenz/core $(LIB_CFLAGS) \
	$(PQ_CFLAGS) $(ARCHIVE_CFLAGS)
TOOL_CFLAGS := $(CORE_CFLAGS) $(PQ_CFLAGS)
CORE_LIBS   := $(APU_LIBS) $(APR_LIBS) $(OPENSSL_LIBS) $(CURL_LIBS) $(JSONC_LIBS) $(QRENCODE_LIBS) $(CMARK_LIBS)
DEPFLAGS     = -MMD -MP -MF $(@:.lo=.d) -MT $@

.PHONY: all module tool unit clean
all: module tool unit

module: $(B)/mod_lenz.so
tool: $(B)/lenzctl
unit: $(UNIT_BIN)

$(B)/core/%.lo: mod_lenz/core/%.c config.mk
	@mkdir -p $(@D)
	$(LT) --mode=compile --tag=disable-static $(CC) $(CORE_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/glue/%.lo: mod_lenz/%.c config.mk
	@mkdir -p $(@D)
	$(LT) --mode=compile --tag=disable-static $(CC) $(GLUE_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/tool/%.lo: mod_lenz/tool/%.c config.mk
	@mkdir -p $(@D)
	$(LT) --mode=compile --tag=disable-static $(CC) $(TOOL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# apxs links the module; the version script keeps every symbol but
# lenz_module local, so the core cannot clash with other modules.
$(B)/mod_lenz.so: $(GLUE_LO) $(CORE_LO) mod_lenz/exports.map
	cd $(B) && $(APXS) -c -o mod_lenz.la \
	  -Wl,-Wl,--version-script=$(CURDIR)/mod_lenz/exports.map $(SAN_CFLAGS:%=-Wl,%) \
	  $(GLUE_LO:$(B)/%=%) $(CORE_LO:$(B)/%=%) $(CORE_LIBS) $(PQ_LIBS) $(ARCHIVE_LIBS) >link.log 2>&1 \
	  || { cat link.log; exit 1; }
	# a new file renamed into place: a running httpd that has the old one
	# mapped keeps it intact until it reloads (cp over it crashes httpd)
	cp $(B)/.libs/mod_lenz.so $@.new && mv -f $@.new $@

$(B)/lenzctl: $(TOOL_LO) $(CORE_LO)
	$(LT) --mode=link $(CC) $(SAN_CFLAGS) -o $@ $^ $(CORE_LIBS) $(PQ_LIBS)

$(B)/t/%: t/unit/%.c t/unit/tap.h $(CORE_LO)
	@mkdir -p $(@D)
	$(LT) --mode=link $(CC) $(CORE_CFLAGS) -It/unit -o $@ $< $(CORE_LO) $(CORE_LIBS)

clean:
	rm -rf $(B)

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d)
