# Two-factor sign-in set up through the settings page in a real browser
# (t/browser/settings.test.mjs): Debian's chromium, headless, driven by
# puppeteer-core with axe-core.  The QR code the server draws as SVG is
# read back with zbarimg (zbar-tools); the member switches two-factor on
# with a code from it, signs in again with the password and a code, and
# makes new recovery codes.  Here, afterwards: the new codes sign in
# through the API and the old ones do not.  A missing browser, npm package
# or zbarimg fails, never skips.
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp ();
use JSON::PP ();
use Lenz::Test;
use Lenz::Jobs ();

my $env = stack_env();
my $top = top_dir();
my $chromium = $ENV{LENZ_CHROMIUM} // '/usr/bin/chromium';
my $modules = `$top/scripts/fetch-browser-deps.sh`;
chomp $modules;
ok(-x $chromium && node_ok() && -f "$modules/puppeteer-core/package.json",
   "chromium, node and puppeteer-core are there ($modules)");
ok(-x '/usr/bin/zbarimg', "zbarimg is installed (Debian's zbar-tools: scripts/deps.sh)");

my $tag = sprintf('%d%d', time, $$);
my $email = "settings-browser-$tag\@example.org";
my $password = 'correct horse battery';
my $out = `echo '$password' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --name 'Sam Settings' --password-stdin 2>&1`;
is($?, 0, 'a member for the settings page') or diag($out);

my $codes = File::Temp->new(SUFFIX => '.json');
my $t0 = time;
my $r = run_node('browser/settings.test.mjs', 'browser',
                 LENZ_BROWSER_MODULES => $modules, LENZ_CHROMIUM => $chromium,
                 LENZ_MEMBER_EMAIL => $email, LENZ_MEMBER_PASSWORD => $password, LENZ_CODES => "$codes");
Lenz::Jobs::figure(sprintf('two-factor set-up in Chromium: %d pages checked in %d s', $r->{pages} // 0, time - $t0));
ok($r->{pid} && (!kill(0, $r->{pid}) || `cat /proc/$r->{pid}/stat 2>/dev/null` =~ /\) Z/),
   'its Chromium is no longer running');
ok($r->{profile} && !-e $r->{profile}, '... and its profile directory is removed');

my $c = do { local $/; open my $fh, '<', "$codes" or die; my $t = <$fh>; length $t ? JSON::PP->new->decode($t) : {} };
is(scalar @{ $c->{fresh} // [] }, 10, 'the page reported its ten new recovery codes');
my $login = sub { post_json('/api/v1/auth/login', { email => $email, password => $password, totp => $_[0] })->code };
is($login->($password), 401, 'the password alone no longer signs in (two-factor is on)');
is($login->($c->{old}[1] // 'x'), 401, 'an old recovery code does not sign in');
is($login->($c->{fresh}[0] // 'x'), 200, 'a new one does');

done_testing();
