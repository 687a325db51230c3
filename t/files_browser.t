# The file manager in a real browser (t/browser/files.test.mjs): Debian's
# chromium, headless, driven by puppeteer-core with axe-core against this
# server, as a member signed in through the form: a folder tree dropped
# from the disk, a row dragged onto a folder, a second tab kept up to date
# by the event stream, the sharing pages and a file request's page.  A
# missing browser or npm package fails, never skips.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs ();

my $env = stack_env();
my $top = top_dir();
my $chromium = $ENV{LENZ_CHROMIUM} // '/usr/bin/chromium';
my $modules = `$top/scripts/fetch-browser-deps.sh`;
chomp $modules;
ok(-x $chromium && node_ok() && -f "$modules/puppeteer-core/package.json",
   "chromium, node and puppeteer-core are there ($modules)");

my $tag = sprintf('%d%d', time, $$);
my $email = "files-browser-$tag\@example.org";
my $password = 'correct horse battery';
my $out = `echo '$password' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --name 'Fiona Files' --password-stdin 2>&1`;
is($?, 0, 'a member for the file manager') or diag($out);

my $t0 = time;
my $r = run_node('browser/files.test.mjs', 'browser',
                 LENZ_BROWSER_MODULES => $modules, LENZ_CHROMIUM => $chromium,
                 LENZ_MEMBER_EMAIL => $email, LENZ_MEMBER_PASSWORD => $password);
Lenz::Jobs::figure(sprintf('file manager in Chromium: %d pages checked in %d s', $r->{pages} // 0, time - $t0));
ok($r->{pid} && !kill(0, $r->{pid}) || !-e "/proc/$r->{pid}/stat" || `cat /proc/$r->{pid}/stat` =~ /\) Z/,
   'its Chromium is no longer running');
ok($r->{profile} && !-e $r->{profile}, '... and its profile directory is removed');

done_testing();
