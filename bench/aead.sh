#!/bin/sh
# bench/aead.sh (`make bench-aead`) - throughput of the object format's
# streaming encryptor and decryptor (bench/aead.c) next to
# `openssl speed -evp aes-256-gcm` at the same block size, in one run, for
# 16 KiB, 64 KiB (the default segment) and 1 MiB segments.  The goal is
# seal/openssl and open/openssl >= 0.9.  MB = 10^6 bytes; openssl prints
# 1000s of bytes per second ("4761714.69k" is 4761.7 MB/s).
#
#   BENCH_TOTAL_MIB  plaintext sealed and opened per size (default 512)
#   BENCH_FEED       bytes handed to feed() at a time (default 16384: what
#                    curl's write callback and httpd's buckets give)
#   BENCH_SECONDS    seconds per openssl measurement (default 3)
#
# Build flags are the unit tests' (-O2); a sanitizer build (SAN_CFLAGS in
# config.mk) makes the figures meaningless and is flagged.
set -eu
cd "$(dirname "$0")/.."

total=${BENCH_TOTAL_MIB:-512}
feed=${BENCH_FEED:-16384}
secs=${BENCH_SECONDS:-3}
sizes="16384 65536 1048576"

make --no-print-directory -s -f bench/bench.mk
san=$(sed -n 's/^SAN_CFLAGS *= *//p' config.mk)
[ -z "$san" ] || echo "bench: WARNING: built with sanitizers ($san); figures are not representative" >&2

# shellcheck disable=SC2086
ours=$(build/bench/aead -t "$total" -f "$feed" $sizes)

openssl_mbps() {
    openssl speed -evp aes-256-gcm -bytes "$1" -seconds "$secs" 2>/dev/null | awk '
        tolower($1) == "aes-256-gcm" { v = $NF; sub(/k$/, "", v); printf "%.1f", v / 1000; found = 1 }
        END { if (!found) exit 1 }'
}

label() {
    case $1 in
        16384) echo "16 KiB" ;; 65536) echo "64 KiB" ;; 1048576) echo "1 MiB" ;; *) echo "$1 B" ;;
    esac
}

echo "AES-256-GCM segments: $(openssl version | cut -d' ' -f1-2), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //'),"
echo "${total} MiB sealed and opened per size, fed ${feed} bytes at a time; MB = 10^6 bytes"
printf '%-8s %10s %10s %13s %13s %13s\n' segment "seal MB/s" "open MB/s" "openssl MB/s" seal/openssl open/openssl
for s in $sizes; do
    line=$(echo "$ours" | grep "S=$s ")
    seal=$(echo "$line" | sed 's/.*seal_MBps=\([0-9.]*\).*/\1/')
    open=$(echo "$line" | sed 's/.*open_MBps=\([0-9.]*\).*/\1/')
    ossl=$(openssl_mbps "$s") || { echo "bench: cannot read openssl speed's output" >&2; exit 1; }
    printf '%-8s %10s %10s %13s %13s %13s\n' "$(label "$s")" "$seal" "$open" "$ossl" \
        "$(awk -v a="$seal" -v b="$ossl" 'BEGIN { printf "%.2f", a / b }')" \
        "$(awk -v a="$open" -v b="$ossl" 'BEGIN { printf "%.2f", a / b }')"
done

