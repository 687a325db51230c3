#!/bin/sh
# `make install`: the built module, lenzctl and the data files into the
# usual Debian places, under $DESTDIR when set (a package build or a test):
#
#   module      apxs's LIBEXECDIR (Debian: /usr/lib/apache2/modules), through
#               apxs -i, which uses libtool as every apxs-built module does
#   lenzctl     the configured bindir (default /usr/local/bin)
#   data        LENZ_DATADIR (default /usr/local/share/mod_lenz): templates/,
#               htdocs/, sql/ -- the module's default LenzTemplateDir
#   lenz.load   apxs's SYSCONFDIR/mods-available (Debian: /etc/apache2/...),
#   lenz.conf   naming the installed module and data paths; enable with
#               `a2enmod lenz` after adapting lenz.conf (an existing
#               lenz.conf is kept: the new one is written as lenz.conf.new)
#
# Run after scripts/build.sh (make install does both).
set -eu
cd "$(dirname "$0")/.."
[ -f build/mod_lenz.so ] && [ -f build/lenzctl ] || { echo "install: build first (make)" >&2; exit 1; }

val() { make --no-print-directory -s -f apxs.mk --eval "lenz-print-$1: ; @echo \$($1)" "lenz-print-$1"; }
apxs=$(val APXS)
libexec=$($apxs -q LIBEXECDIR)
sysconf=$($apxs -q SYSCONFDIR)
bindir=$(val bindir)
datadir=$(val LENZ_DATADIR)
dest=${DESTDIR:-}

echo "install: module -> $dest$libexec/mod_lenz.so"
mkdir -p "$dest$libexec"
# apxs -i installs the libtool archive's shared object; -S points it into
# DESTDIR without changing what the module is built for.
(cd build && "$apxs" -i -S LIBEXECDIR="$dest$libexec" -n lenz mod_lenz.la) >build/install.log 2>&1 || {
    cat build/install.log >&2; echo "install: apxs -i failed" >&2; exit 1; }
rm -f "$dest$libexec/mod_lenz.la"

echo "install: lenzctl -> $dest$bindir/lenzctl"
install -d -m 0755 "$dest$bindir"
install -m 0755 build/lenzctl "$dest$bindir/lenzctl"

echo "install: templates, htdocs, sql -> $dest$datadir"
for d in templates htdocs sql; do
    rm -rf "${dest:?}$datadir/$d.new"
    install -d -m 0755 "$dest$datadir/$d.new"
    cp -R "$d/." "$dest$datadir/$d.new/"
    find "$dest$datadir/$d.new" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
    rm -rf "${dest:?}$datadir/$d"
    mv "$dest$datadir/$d.new" "$dest$datadir/$d"
done

mods="$dest$sysconf/mods-available"
echo "install: lenz.load, lenz.conf -> $mods"
install -d -m 0755 "$mods"
sed "s|/usr/lib/apache2/modules/mod_lenz.so|$libexec/mod_lenz.so|" conf/lenz.load > "$mods/lenz.load"
conf=$mods/lenz.conf
[ -e "$conf" ] && conf=$mods/lenz.conf.new
sed "s|/usr/share/mod_lenz|$datadir|g" conf/lenz.conf > "$conf"
chmod 0644 "$mods/lenz.load" "$conf"
echo "install: done${dest:+ (under $dest)}"
