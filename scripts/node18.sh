#!/bin/sh
# Debian 12's own Node.js 18 (package nodejs, 18.20.x), unpacked beside the
# system's node without installing or replacing anything, for running the JS
# tests (t/js/*.test.mjs) under the oldest Node that t/lib/Lenz/Test.pm
# accepts.  Prints the path of a `node` wrapper that runs it:
#
#   scripts/node18.sh [DIR]          DIR defaults to build/node18
#   node=$(scripts/node18.sh) && $node --version        # v18.20.x
#   PATH="$(dirname "$(scripts/node18.sh)"):$PATH" ...  # what `command -v node` finds
#
# Idempotent: once DIR/bin/node runs, nothing is fetched again.  Otherwise
# nodejs and libnode108 of one 18.x version (NODE18_VERSION, default the
# newest 18.x apt knows; `apt-get update` is run once if it knows none),
# the shared libraries libnode108 needs that are not installed, and the
# Debian packages holding Node's externalized builtins (below) are fetched
# with `apt-get download` into DIR/debs and unpacked with `dpkg-deb -x` into
# DIR/root.  Needs apt-get and dpkg-deb (Debian), root for `apt-get update`.
#
# Debian builds Node with some of its builtins (cjs-module-lexer, undici for
# fetch, acorn) read at start-up from fixed paths in /usr/share/nodejs.
# Where those files are missing (a machine whose node is not Debian's), the
# wrapper runs node in a private mount namespace (unshare, util-linux) with
# DIR/root/usr/share/nodejs laid over /usr/share/nodejs (a read-only
# overlayfs): only that process sees it.  As root, or as a user where user
# namespaces are allowed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build/node18}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root="$dir/root"
wrapper="$dir/bin/node"

# The files Debian's libnode108 reads its externalized builtins from
# (NODE_SHARED_BUILTIN_*_PATH in `node -p process.config`), and the
# packages that ship them.
S=/usr/share/nodejs
BUILTINS="$S/cjs-module-lexer/lexer.js $S/cjs-module-lexer/dist/lexer.js
          $S/undici/undici-fetch.js $S/acorn/dist/acorn.js $S/acorn-walk/dist/walk.js"
BUILTIN_PKGS="node-cjs-module-lexer node-undici node-acorn"

# Already there and working: just say where.
if [ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | grep -q '^v18\.'; then
    echo "$wrapper"
    exit 0
fi

say() { echo "node18: $*" >&2; }

# The newest 18.x of Debian's nodejs that apt knows (or NODE18_VERSION).
pick_version() {
    best=
    for v in $(apt-cache madison nodejs 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}'); do
        case $v in 18.*) ;; *) continue ;; esac
        if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
            best=$v
        fi
    done
    echo "$best"
}

ver=${NODE18_VERSION:-$(pick_version)}
if [ -z "$ver" ]; then
    say "apt knows no nodejs 18.x: apt-get update"
    apt-get update -qq >&2
    ver=$(pick_version)
fi
if [ -z "$ver" ]; then
    say "no nodejs 18.x in apt's lists (is this Debian 12 with its own mirrors?)"
    exit 1
fi

# apt-get download writes into the current directory; as root it would
# fetch as the _apt user, who may not write there (a harmless warning):
# fetch as root instead.
download() {
    (cd "$dir/debs" && apt-get download -q -o APT::Sandbox::User=root "$@" >&2)
}

rm -rf "${dir:?}/debs" "${dir:?}/root" "${dir:?}/bin"
mkdir -p "$dir/debs" "$root" "$dir/bin"

say "nodejs $ver"
download "nodejs=$ver" "libnode108=$ver"

# Shared libraries libnode108 depends on that this machine lacks, e.g. on
# a Debian 12 whose Node is NodeSource's (libuv1, libicu72, libc-ares2...).
deps=$(dpkg-deb -f "$dir"/debs/libnode108_*.deb Depends | tr ',' '\n' |
       sed 's/[(|].*//; s/ //g' | grep '^lib' || true)
missing=
for p in $deps; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    say "libraries not installed here:$missing"
    # shellcheck disable=SC2086
    download $missing
fi

# The externalized builtins, used only where /usr/share/nodejs lacks them.
# shellcheck disable=SC2086
download $BUILTIN_PKGS

for deb in "$dir"/debs/*.deb; do
    dpkg-deb -x "$deb" "$root"
done

lib=$(dirname "$(find "$root" -name 'libnode.so.108' | head -n 1)")
if LD_LIBRARY_PATH="$lib" ldd "$root/usr/bin/node" | grep 'not found' >&2; then
    say "libraries still missing (above)"
    exit 1
fi

# The wrapper: Debian's node with its libraries and, where the builtins'
# fixed paths are missing, in a mount namespace of its own (a user
# namespace too when not root) with the unpacked ones laid over
# /usr/share/nodejs (in the sh -c, $1 is that directory).
# shellcheck disable=SC2086
cat >"$wrapper" <<EOF
#!/bin/sh
# Debian 12's nodejs $ver, unpacked by scripts/node18.sh.
LD_LIBRARY_PATH="$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
node="$root/usr/bin/node"
# shellcheck disable=SC2016,SC2093
for f in $(printf '%s ' $BUILTINS); do
    [ -e "\$f" ] && continue
    ns=-m
    [ "\$(id -u)" = 0 ] || ns=-rm
    exec unshare "\$ns" --propagation private sh -c '
        mount -t overlay -o ro,lowerdir="\$1":$S lenz-node18 $S && shift && exec "\$@"
    ' sh "$root$S" "\$node" "\$@"
done
exec "\$node" "\$@"
EOF
chmod +x "$wrapper"

if ! v=$("$wrapper" --version) || [ "${v#v18.}" = "$v" ]; then
    say "$wrapper does not run as Node 18 (got: ${v:-nothing})"
    exit 1
fi
say "$v in $root"
echo "$wrapper"
