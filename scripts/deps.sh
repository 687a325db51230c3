#!/bin/sh
# Install every Debian package mod_lenz needs to build, run and test.
# Idempotent: only missing packages are installed. Run as root on Debian 12.
set -eu

BUILD="gcc make autoconf pkg-config apache2-dev libapr1-dev libaprutil1-dev
       libpq-dev libssl-dev libcurl4-openssl-dev libjson-c-dev libarchive-dev
       libqrencode-dev libcmark-dev"
RUN="apache2 apache2-bin apache2-utils libaprutil1-dbd-pgsql postgresql-15 postgresql-client-15
     ceph-mon ceph-osd radosgw ceph-common python3-aiosmtpd openssl curl procps"
# nodejs (18+) and node-jsdom: t/upload_page.t runs the upload page's
# engine in Node and the page itself in jsdom; memcached: t/two_hosts.t;
# chromium (headless, driven by puppeteer-core from npm: scripts/
# fetch-browser-deps.sh) and a font to render text with: t/pages.t;
# zbar-tools: the settings test reads the two-factor QR code with zbarimg.
TEST="libapache2-mod-perl2 libwww-perl liblwp-protocol-https-perl libjson-perl python3-botocore valgrind unzip
      clang libclang-rt-14-dev nodejs node-jsdom memcached chromium fonts-dejavu-core zbar-tools"

want="$BUILD $RUN $TEST ${LENZ_EXTRA_PKGS:-}"
# The AWS SigV4 test suite and the browser tests' packages come from the
# npm registry: npm must exist.
# (Debian's npm package brings nodejs; a NodeSource nodejs brings its own npm.)
command -v npm >/dev/null 2>&1 || want="$want npm"
missing=""
for p in $want; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing" >&2
    echo "deps: run as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Keep the Debian service scripts from starting system daemons on install:
# the stack starts its own private instances.
pol=/usr/sbin/policy-rc.d
made_pol=0
if [ ! -e "$pol" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$pol"; chmod 755 "$pol"; made_pol=1
fi
trap '[ $made_pol = 1 ] && rm -f "$pol"' EXIT
apt-get update -qq || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
