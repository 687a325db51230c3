#!/bin/sh
# bench/aead.sh (`make bench-aead`) - throughput of the object format's
# streaming encryptor and decryptor (bench/aead.c) next to
# `openssl speed -evp aes-256-gcm` at the same block size, in one run, for
# 16 KiB, 64 KiB (the default segment) and 1 MiB segments.  The goal is
# seal/openssl and open/openssl >= 0.9.  MB = 10^6 bytes; openssl prints
# 1000s of bytes per second ("4761714.69k" is 4761.7 MB/s).
#
#   BENCH_TOTAL_MIB  plaintext sealed and opened per size and round (default 128)
#   BENCH_FEED       bytes handed to feed() at a time (default 16384: what
#                    curl's write callback and httpd's buckets give)
#   BENCH_SECONDS    seconds per openssl measurement (default 1)
#   BENCH_ROUNDS     rounds, ours and openssl's interleaved (default 9); the
#                    best of each is shown: on a shared virtual machine the
#                    CPU's speed changes from second to second (the same
#                    run gave 2400 and 4400 MB/s), and such noise only ever
#                    slows a run down, so the best is the machine's speed.
#
# Build flags are the unit tests' (-O2); a sanitizer build (SAN_CFLAGS in
# config.mk) makes the figures meaningless and is flagged.
set -eu
cd "$(dirname "$0")/.."

total=${BENCH_TOTAL_MIB:-128}
feed=${BENCH_FEED:-16384}
secs=${BENCH_SECONDS:-1}
rounds=${BENCH_ROUNDS:-9}
sizes="16384 65536 1048576"

make --no-print-directory -s -f bench/bench.mk
san=$(sed -n 's/^SAN_CFLAGS *= *//p' config.mk)
[ -z "$san" ] || echo "bench: WARNING: built with sanitizers ($san); figures are not representative" >&2

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

max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 > b + 0) ? a : b }'; }

# Interleaved rounds; the best figure of each kind per size.
best_seal=""; best_open=""; best_ossl=""
r=0
while [ $r -lt "$rounds" ]; do
    r=$((r + 1))
    # shellcheck disable=SC2086
    ours=$(build/bench/aead -t "$total" -f "$feed" $sizes)
    for s in $sizes; do
        line=$(echo "$ours" | grep "S=$s ")
        seal=$(echo "$line" | sed 's/.*seal_MBps=\([0-9.]*\).*/\1/')
        open=$(echo "$line" | sed 's/.*open_MBps=\([0-9.]*\).*/\1/')
        ossl=$(openssl_mbps "$s") || { echo "bench: cannot read openssl speed's output" >&2; exit 1; }
        eval "bs=\${bs_$s:-}; bo=\${bo_$s:-}; bx=\${bx_$s:-}"
        eval "bs_$s=$(max "$seal" "$bs"); bo_$s=$(max "$open" "$bo"); bx_$s=$(max "$ossl" "$bx")"
    done
done

echo "AES-256-GCM segments: $(openssl version | cut -d' ' -f1-2), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //'),"
echo "${total} MiB sealed and opened per size and round, fed ${feed} bytes at a time; best of ${rounds} interleaved rounds; MB = 10^6 bytes"
printf '%-8s %10s %10s %13s %13s %13s\n' segment "seal MB/s" "open MB/s" "openssl MB/s" seal/openssl open/openssl
for s in $sizes; do
    eval "seal=\$bs_$s; open=\$bo_$s; ossl=\$bx_$s"
    printf '%-8s %10s %10s %13s %13s %13s\n' "$(label "$s")" "$seal" "$open" "$ossl" \
        "$(awk -v a="$seal" -v b="$ossl" 'BEGIN { printf "%.2f", a / b }')" \
        "$(awk -v a="$open" -v b="$ossl" 'BEGIN { printf "%.2f", a / b }')"
done
