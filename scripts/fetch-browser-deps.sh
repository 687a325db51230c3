#!/bin/sh
# Install the npm packages of the real-browser page tests (t/browser:
# puppeteer-core drives Debian's chromium, axe-core checks accessibility)
# and print the path of their node_modules.
#
# The versions are pinned, the whole tree with them, by t/browser/package.json
# and t/browser/package-lock.json (committed; the lock names no download
# address).  They are installed with `npm ci` into var/npm/browser/
# (git-ignored), once: while the stamp there matches the committed lock,
# nothing is fetched again (offline-safe).  No install script runs and no
# browser is downloaded: puppeteer-core has none, the tests point it at
# /usr/bin/chromium (scripts/deps.sh installs it).
# Both versions run under Debian 12's Node 18 as well as Node 20
# (engines: puppeteer-core >=18, axe-core >=4; t/browser/README).
# npm's chatter goes to stderr; stdout carries only the path.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/t/browser"
dir="$top/var/npm/browser"
mods="$dir/node_modules"
stamp="$dir/installed.sha256"

want=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -f "$mods/puppeteer-core/package.json" ] && [ -f "$mods/axe-core/axe.min.js" ]; then
    echo "$mods"
    exit 0
fi

if [ -x /usr/bin/npm ]; then
    npm=/usr/bin/npm
elif command -v npm >/dev/null 2>&1; then
    npm=$(command -v npm)
else
    echo "fetch-browser-deps: npm not found (Debian: apt-get install npm)" >&2
    exit 1
fi

mkdir -p "$dir"
# var/ may be a link out of the checkout (scripts/stack.sh): npm takes a
# prefix reached through a link for a linked package ("Missing: browser@
# from lock file"), so it gets the real path.
dir=$(cd "$dir" && pwd -P)
mods="$dir/node_modules"
stamp="$dir/installed.sha256"
rm -f "$stamp"
cp "$src/package.json" "$src/package-lock.json" "$dir/"
PUPPETEER_SKIP_DOWNLOAD=1 "$npm" ci --prefix "$dir" --ignore-scripts --no-audit --no-fund >&2
for f in puppeteer-core/package.json axe-core/axe.min.js; do
    if [ ! -f "$mods/$f" ]; then
        echo "fetch-browser-deps: npm ran but $mods/$f is missing" >&2
        exit 1
    fi
done
echo "$want" > "$stamp"
echo "$mods"
