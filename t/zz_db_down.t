# PostgreSQL goes away (pg_ctl stop, as the postgres user, on the test
# stack's cluster) and comes back (scripts/stack.sh start test): meanwhile
# the API answers 503 problem+json with Retry-After -- never a 500, never a
# crashed child -- and afterwards every child recovers by itself, without
# restarting httpd, including children whose pooled connections died with
# the server.  What was committed before is still there.  Runs near the end
# (zz_) because it stops the cluster.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 24;
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use Time::HiRes qw(time sleep);
use Lenz::Test qw(:DEFAULT vhost_url psql guest_upload raw_get raw_request random_bytes);

my $env = stack_env();
my $top = top_dir();
my $base = vhost_url('default');
my $J = JSON::PP->new->canonical;
my $pgdata = "$env->{LENZ_STACK_DIR}/pg/data";
my $pg_ctl = '/usr/lib/postgresql/15/bin/pg_ctl';
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
my $email = sprintf('dbdown-%d%d@example.org', time, $$);
`echo 'correct horse battery' | $ctl create-user $email --password-stdin 2>&1`;
# (and the job runners, whose own connections break and cannot reconnect for a while)
expect_log(qw(LENZ0200 LENZ0202 LENZ0203 LENZ0204 LENZ0206 LENZ0303 LENZ2000 LENZ2101 LENZ2130 LENZ2290
              LENZ2321 LENZ2322));

my $data = random_bytes(300_000);
my $kept = guest_upload($data, name => 'kept-through-db-restart.bin');

# One round of what a visitor does, each request on a new connection so
# the three children all take part: [code, content type, Retry-After] each.
sub round {
    my @r;
    for (1 .. 3) {
        push @r, raw_req('POST', '/api/v1/auth/login',
                         $J->encode({ email => $email, password => 'correct horse battery' }));
        push @r, raw_req('POST', '/upload/guest/encrypted/initiate', $J->encode({ filename => 'x', size => 10 }));
        push @r, raw_req('GET', "/download/$kept->{token}/info");
        push @r, raw_req('GET', '/health');
    }
    return @r;
}
sub raw_req {
    my ($method, $path, $body) = @_;
    my @h = defined $body ? ('Content-Type' => 'application/json', 'Content-Length' => length $body) : ();
    my $r = Lenz::Test::raw_request($base, $method, $path, $body, @h);
    return [$r->{status}, $r->{headers}{'content-type'} // '', $r->{headers}{'retry-after'}, "$method $path"];
}
sub all_ok { !grep { $_->[0] !~ /^20[01]$/ } @_ }

# Warm every child's pool.
my @warm = round();
ok(all_ok(@warm), 'before: login, initiate, link info and /health all answer')
    or diag explain [grep { $_->[0] !~ /^20[01]$/ } @warm];

my $t0 = time;
my $out = `runuser -u postgres -- $pg_ctl -D $pgdata -m fast -w -t 30 stop 2>&1`;
is($? >> 8, 0, sprintf('PostgreSQL stopped (pg_ctl -m fast, %.2f s)', time - $t0)) or diag $out;

# /health answers from a probe result up to a second old (issue 17): past
# that, the first request after the stop probes again.
sleep 1.1;
my $mark = error_log_mark();
my @down = (round(), round());
my @not503 = grep { $_->[0] != 503 } @down;
ok(!@not503, 'while it is down: 503 for all ' . scalar(@down) . ' requests')
    or diag explain \@not503;
ok(!(grep { $_->[3] !~ /health/ && $_->[1] ne 'application/problem+json' } @down), '... problem+json (API)');
ok(!(grep { $_->[3] =~ /health/ && $_->[1] ne 'application/json' } @down), '... /health: JSON naming db');
ok(!(grep { !defined $_->[2] || $_->[2] < 1 } @down), '... every one with Retry-After');
is(json_of(http_get('/health'))->{db}, 'down', '/health says db down');
my $log = error_log_since($mark);
unlike($log, qr/exit signal|Segmentation/, 'no child crashed');

# Back: the stack script starts what is down.
$t0 = time;
$out = `$top/scripts/stack.sh start test 2>&1`;
is($? >> 8, 0, sprintf('PostgreSQL started again (stack.sh start test, %.2f s)', time - $t0)) or diag $out;
my $t_up = time;
my ($first, $all, @last);
while (time - $t_up < 15) {
    @last = round();
    $first //= time - $t_up if grep { $_->[0] =~ /^20[01]$/ } @last;
    if (all_ok(@last)) { $all = time - $t_up; last }
    sleep 0.1;
}
ok(defined $first, sprintf('first answer from the database %.2f s after it was back', $first // -1));
ok(defined $all, sprintf('every child recovered by itself, no httpd restart: a whole round ok %.2f s after', $all // -1))
    or diag explain [grep { $_->[0] !~ /^20[01]$/ } @last];
my @again = (round(), round());
ok(all_ok(@again), '... and the next two rounds (' . scalar(@again) . ' requests) all answer')
    or diag explain [grep { $_->[0] !~ /^20[01]$/ } @again];
is(json_of(http_get('/health'))->{db}, 'ok', '/health says db ok');

# A restart while no request comes in: the pools still hold connections
# to the old server, which died with it.  The first request on each must
# not be the one that finds out.
$t0 = time;
$out = `runuser -u postgres -- $pg_ctl -D $pgdata -m fast -w -t 30 restart -l $env->{LENZ_STACK_DIR}/pg/log 2>&1 </dev/null`;
is($? >> 8, 0, sprintf('PostgreSQL restarted while idle (%.2f s)', time - $t0)) or diag $out;
my @idle = round();
ok(all_ok(@idle), 'the first round after it: every request answers (stale pooled connections replaced)')
    or diag explain [grep { $_->[0] !~ /^20[01]$/ } @idle];

# What was committed stays.
my $r = raw_get($base, "/download/$kept->{token}");
is($r->{status}, 200, 'the file committed before the outage: 200');
is(sha256_hex($r->{body}), sha256_hex($data), '... byte for byte');
is(psql("SELECT state FROM files WHERE id = '$kept->{file_id}'"), 'ready', '... still ready');

# And the write paths work end to end again.
my $again = eval { guest_upload(random_bytes(1000), name => 'after.bin') };
ok($again && $again->{token}, 'a new upload after the restart completes') or diag $@;
my $tk = json_of(http_post('/api/v1/auth/login', $J->encode({ email => $email, password => 'correct horse battery' }),
                           'Content-Type' => 'application/json'));
ok($tk->{access_token}, 'login after the restart');
is(http_req('GET', '/api/v1/me', [Authorization => "Bearer $tk->{access_token}"])->code, 200, '... and the token works');
$log = error_log_since($mark);
unlike($log, qr/exit signal|Segmentation/, 'no child crashed throughout');
my $pids = `pgrep -c -f 'postgres -D $pgdata'`;
ok($pids > 0, 'the cluster runs (for the tests after this one)');
like($log, qr/LENZ0200: no database connection available/, 'the outage is in the log');
