# The admin console in a real browser (t/browser/admin.test.mjs): Debian's
# chromium, headless, driven by puppeteer-core with axe-core.  An
# administrator finds a member by a misspelt name, makes them a
# moderator, signs out one of their devices and retries a dead job.  Here,
# afterwards: that device's next request is signed out, the roles are
# stored, and the job ran.  A missing browser or npm package fails, never
# skips.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test qw(:DEFAULT psql);
use Lenz::Jobs ();

my $env = stack_env();
my $top = top_dir();
my $chromium = $ENV{LENZ_CHROMIUM} // '/usr/bin/chromium';
my $modules = `$top/scripts/fetch-browser-deps.sh`;
chomp $modules;
ok(-x $chromium && node_ok() && -f "$modules/puppeteer-core/package.json",
   "chromium, node and puppeteer-core are there ($modules)");

my $tag = sprintf('%d%d', time, $$);
my $pw = 'correct horse battery';
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
my $admin = "console-$tag\@example.org";
my $member = "rita-$tag\@example.org";
my $word = ucfirst join '', map { ('a' .. 'z')[int rand 26] } 1 .. 9;
(my $typo = $word) =~ s/^(...)(.)(.)/$1$3$2/;       # two letters swapped
my $out = `echo '$pw' | $ctl create-user $admin --name 'Con Sole' --admin --password-stdin 2>&1`;
is($?, 0, 'an administrator') or diag($out);
$out = `echo '$pw' | $ctl create-user $member --name 'Rita $word' --password-stdin 2>&1`;
is($?, 0, "a member, Rita $word") or diag($out);
my $ua = "Victim$tag";
my $res = form('/account/login', { email => $member, password => $pw, next => '/account' }, 'User-Agent' => $ua);
my $cookie = cookie_of($res);
is(http_get('/account', Cookie => $cookie, Accept => 'text/html')->code, 200, "the member is signed in with a browser ($ua)");
my $job = psql("INSERT INTO jobs (kind, state, attempts, last_error, finished_at) "
               . "VALUES ('selftest', 'dead', 5, 'failed in $tag', now()) RETURNING id");

my $t0 = time;
my $r = run_node('browser/admin.test.mjs', 'browser',
                 LENZ_BROWSER_MODULES => $modules, LENZ_CHROMIUM => $chromium,
                 LENZ_MEMBER_EMAIL => $admin, LENZ_MEMBER_PASSWORD => $pw,
                 LENZ_FIND => $typo, LENZ_NAME => "Rita $word", LENZ_DEVICE => $ua, LENZ_DEAD_JOB => $job);
Lenz::Jobs::figure(sprintf('admin console in Chromium: %d pages checked in %d s', $r->{pages} // 0, time - $t0));
ok($r->{pid} && (!kill(0, $r->{pid}) || `cat /proc/$r->{pid}/stat 2>/dev/null` =~ /\) Z/),
   'its Chromium is no longer running');
ok($r->{profile} && !-e $r->{profile}, '... and its profile directory is removed');

is(http_get('/account', Cookie => $cookie, Accept => 'text/html')->code, 303,
   "the member's browser is signed out at its next request");
like(psql("SELECT roles::text FROM users WHERE email = '$member'"), qr/moderator/, 'the member is a moderator');
ok(Lenz::Jobs::wait_until(sub { psql("SELECT state FROM jobs WHERE id = $job") eq 'done' }, 10), 'the retried job ran');
is(psql("SELECT count(*) FROM events e JOIN users u ON u.id = e.actor_id WHERE u.email = '$admin' "
        . "AND e.type IN ('admin.roles_changed', 'admin.device_ended', 'admin.job_retried')"), 3,
   'three admin.* events name the administrator');

done_testing();
