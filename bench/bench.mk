# bench/bench.mk - benchmark programs, built like the unit tests: apxs.mk's
# variables and core objects (gcc, -O2, the same CORE_LO), linked through
# libtool as its $(B)/t/% rule does.  Included by nothing; run as
#
#   make -f bench/bench.mk          build/bench/aead   (bench/aead.sh runs it)
#                                   build/bench/relay  (bench/download.py, upload.py)

include apxs.mk

.DEFAULT_GOAL := bench
.PHONY: bench
bench: $(B)/bench/aead $(B)/bench/relay

$(B)/bench/%: bench/%.c $(CORE_LO)
	@mkdir -p $(@D)
	$(LT) --mode=link $(CC) $(CORE_CFLAGS) -o $@ $< $(CORE_LO) $(CORE_LIBS)
