# fuzz/fuzz.mk - libFuzzer harnesses for every parser of outside input in
# the core (see docs/fuzzing.md).  Included by nothing; run as
#
#   make -f fuzz/fuzz.mk            build every harness into build/fuzz/
#   make -f fuzz/fuzz.mk corpus     rewrite the generated seeds under fuzz/corpus/
#
# clang compiles the core sources a harness needs straight from
# mod_lenz/core (the build/core/*.lo objects are gcc's and carry no
# coverage), with libFuzzer's coverage, ASan and UBSan (UB aborts).
# `make fuzz` and scripts/fuzz-smoke.sh run them (fuzz/run.sh).

include config.mk

FZ        := build/fuzz
FUZZ_CC   ?= clang
NAMES     := json s3xml aead_dec mustache token keyring passwd jwt httpfmt
# Only what the harnesses reach: the core's curl and S3 users stay out.
CORE_USED := aead codec crypto err httpfmt json jwt keys mustache mustache_render names passwd s3xml token

SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined
LIB_CFLAGS := $(APR_INCLUDES) $(APU_INCLUDES) $(OPENSSL_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)
FZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -pipe $(WARN_CFLAGS) \
	-DLENZ_DATADIR='"$(LENZ_DATADIR)"' -Imod_lenz/core -Ifuzz $(LIB_CFLAGS)
FZ_LIBS   := $(APU_LIBS) $(APR_LIBS) $(OPENSSL_LIBS) $(CURL_LIBS) $(JSONC_LIBS) -ldl
# pool_shim.c replaces apr_palloc for libapr itself too: export it.
FZ_LDFLAGS := -Wl,--export-dynamic-symbol=apr_palloc \
	-Wl,--export-dynamic-symbol=apr_pool_create_ex

CORE_O    := $(CORE_USED:%=$(FZ)/core/%.o)
BINS      := $(NAMES:%=$(FZ)/fuzz_%)

.PHONY: all corpus clean
all: $(BINS)

$(FZ)/core/%.o: mod_lenz/core/%.c config.mk fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FZ_CFLAGS) $(SAN) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FZ)/libcore.a: $(CORE_O)
	rm -f $@
	ar rcs $@ $^

# Not instrumented for coverage: it is plumbing, not code under test.
$(FZ)/pool_shim.o: fuzz/pool_shim.c config.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FZ_CFLAGS) -fsanitize=address -MMD -MP -c -o $@ $<

$(FZ)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FZ)/pool_shim.o $(FZ)/libcore.a
	$(FUZZ_CC) $(FZ_CFLAGS) $(SAN) -fsanitize=fuzzer -MMD -MP -MF $@.d -o $@ $< \
	  $(FZ)/pool_shim.o $(FZ)/libcore.a $(FZ_LIBS) $(FZ_LDFLAGS)

# The seed generator: real sealed objects, tokens and password hashes.
$(FZ)/gen_corpus: fuzz/gen_corpus.c fuzz/fuzz.h $(FZ)/libcore.a
	$(FUZZ_CC) $(FZ_CFLAGS) $(SAN) -MMD -MP -MF $@.d -o $@ $< $(FZ)/libcore.a $(FZ_LIBS)

corpus: $(FZ)/gen_corpus
	$(FZ)/gen_corpus fuzz/corpus

clean:
	rm -rf $(FZ)

-include $(wildcard $(FZ)/core/*.d $(FZ)/*.d)
