# The pages in a real browser: Debian's chromium, headless, driven by
# puppeteer-core with axe-core (t/browser/pages.test.mjs, through
# t/browser/harness.mjs) against this server: the sign-in, registration,
# reset and upload pages, and the account page of a member signed in
# through the form.  Each page renders, every control is named, Tab
# reaches the primary button with a visible focus, axe-core finds no
# WCAG 2 A/AA violation, the security headers are there and nothing fails
# in the browser.  Its TAP lines are checks of this file; screenshots go
# to t/logs/pages/.  A missing browser or npm package fails, never skips.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs ();
use Time::HiRes ();

my $env = stack_env();
my $top = top_dir();
my $chromium = $ENV{LENZ_CHROMIUM} // '/usr/bin/chromium';

ok(-x $chromium, "Debian's chromium is installed ($chromium)")
    or diag("install it: scripts/deps.sh (apt-get install --no-install-recommends chromium)");
ok(node_ok(), 'node 18+ is installed') or diag("install Debian's nodejs (scripts/deps.sh does)");
# Instant once installed (the stamp matches the committed lock).
my $modules = `$top/scripts/fetch-browser-deps.sh`;
chomp $modules;
ok($? == 0 && -f "$modules/puppeteer-core/package.json" && -f "$modules/axe-core/axe.min.js",
   "puppeteer-core and axe-core are installed ($modules)")
    or diag('scripts/fetch-browser-deps.sh installs them from the npm registry into var/npm/browser');

my $tag = sprintf('%d%d', time, $$);
my $email = "pages-$tag\@example.org";
my $password = 'correct horse battery';
my $out = `echo '$password' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --name 'Petra Pages' --password-stdin 2>&1`;
is($?, 0, 'a member for the account page') or diag($out);

my $t0 = Time::HiRes::time();
my $r = run_node('browser/pages.test.mjs', 'browser',
                 LENZ_BROWSER_MODULES => $modules, LENZ_CHROMIUM => $chromium,
                 LENZ_MEMBER_EMAIL => $email, LENZ_MEMBER_PASSWORD => $password);
my $took = sprintf('%.1f', Time::HiRes::time() - $t0);
ok($took < 60, "the browser's checks took ${took} s (under 60)");
Lenz::Jobs::figure(sprintf('%d pages in %s, from Node %s: %s s', $r->{pages} // 0, $r->{chromium} // '?',
                           $r->{node} // '?', $took));

# The browser it started is gone, and its profile with it.
my ($pid, $profile) = @{$r}{qw(pid profile)};
sub running {       # a zombie waiting for init to reap it has ended
    my ($p) = @_;
    return 0 unless kill 0, $p;
    open my $fh, '<', "/proc/$p/stat" or return 0;
    return (<$fh> // '') !~ /^\d+ \(.*\) Z/;
}
ok($pid && !running($pid), 'its Chromium (PID ' . ($pid // '?') . ') is no longer running');
ok($profile && $profile =~ m{/lenz-chromium-} && !-e $profile, '... and its profile directory is removed')
    or diag("profile: " . ($profile // 'not reported'));

done_testing();
