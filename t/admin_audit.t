# The audit log in the admin console (issue 19): /admin/audit,
# /api/v1/admin/audit and /admin/audit.csv.  Filters by actor, action (or
# its start), object, days, words in the details, each narrowing the list;
# pages of 100 by entry id; bad filters are 400; members 403.  The CSV
# export of a million entries is streamed: every row arrives, quoted as RFC
# 4180 says, while httpd's children grow by far less than the file
# (measured here).
use strict;
use warnings FATAL => 'all';
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time);
use Lenz::Test qw(:DEFAULT psql);
use Lenz::Jobs;
use Lenz::Member;

my $PW = 'correct horse battery';
my $tag = uniq('aud');
(my $word = "zebra$tag") =~ s/[^a-z]//g;                 # letters only: one full-text word
$word .= join '', map { ('a' .. 'z')[int rand 26] } 1 .. 6;
my $env = stack_env();
my $ctl = "$ENV{LENZ_TOP}/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
my $admin = "auditor-$tag\@example.org";
`echo '$PW' | $ctl create-user $admin --admin --password-stdin 2>&1`;
my $ADM = json_of(post_json('/api/v1/auth/login', { email => $admin, password => $PW }))->{access_token};
my $M = member("m-$tag\@example.org");
sub entries { my ($q) = @_; my $r = api($ADM, 'GET', "/admin/audit?$q"); ($r, @{ J($r)->{entries} // [] }) }
sub done_dispatch { wait_until(sub { psql("SELECT count(*) FROM events WHERE dispatched_at IS NULL") == 0 }, 20) }

# Some entries: the member makes and revokes a token named with $word.
my $t = J(api($M, 'POST', '/me/tokens', { name => "backup $word", scopes => ['read'] }));
api($M, 'DELETE', "/me/tokens/$t->{id}");
my $mid = psql("SELECT id FROM users WHERE email = 'm-$tag\@example.org'");
ok(done_dispatch(), 'the events are in the audit log');

# --- Who may ---------------------------------------------------------------------------------------
is(api($M, 'GET', '/admin/audit')->code, 403, 'a member: 403');
is(http_get('/admin/audit', Accept => 'text/html')->code, 303, 'a guest at the page: sent to sign in');

# --- Filters ------------------------------------------------------------------------------------------
my ($res, @e) = entries('actor=' . esc("m-$tag\@example.org"));
is($res->code, 200, 'GET /admin/audit?actor=EMAIL: 200');
ok(@e >= 3 && !grep({ ($_->{actor_id} // '') ne $mid } @e), 'only that member\'s entries (registered or signed in, token made and revoked)');
is_deeply([sort keys %{ $e[0] }], [sort qw(id created_at type actor_id actor_email subject details)], '... with their fields');
(undef, @e) = entries("actor=$mid&type=token.");
is_deeply([map { $_->{type} } @e], ['token.revoked', 'token.created'], 'actor by id, type by its start: newest first');
(undef, @e) = entries("object=$t->{id}");
is(scalar @e, 2, 'object: the entries about that token');
(undef, @e) = entries("q=$word");
is_deeply([map { "$_->{type} $_->{details}{name}" } @e], ["token.revoked backup $word", "token.created backup $word"],
          'q: words in the details (full text): the token made and revoked');
my ($y, $m, $d) = (gmtime)[5, 4, 3];
my $today = sprintf '%04d-%02d-%02d', $y + 1900, $m + 1, $d;
my ($py, $pm, $pd) = (gmtime(time - 86400))[5, 4, 3];
my $yesterday = sprintf '%04d-%02d-%02d', $py + 1900, $pm + 1, $pd;
(undef, @e) = entries("q=$word&from=$today&to=$today");
is(scalar @e, 2, 'from and to today: included');
(undef, @e) = entries("q=$word&to=$yesterday");
is(scalar @e, 0, 'to yesterday: not');
for my $bad (['from=2026-13-01', 'from'], ['to=yesterday', 'to'], ['before=12a', 'before'],
             ['actor=' . ('a' x 255), 'actor']) {
    $res = api($ADM, 'GET', "/admin/audit?$bad->[0]");
    is($res->code . ' ' . (J($res)->{field} // ''), "400 $bad->[1]", "$bad->[1] malformed: 400");
}

# --- A million entries ---------------------------------------------------------------------------------
my $type = "test.bulk.$tag";
my $t0 = time;
psql("INSERT INTO audit_log (event_id, type, subject, payload, created_at) "
     . "SELECT -(g + (SELECT coalesce(max(abs(event_id)), 0) FROM audit_log WHERE event_id < 0)), '$type', "
     . "CASE WHEN g = 1000000 THEN '=HYPERLINK(1)' ELSE 'row ' || g END, "
     . "jsonb_build_object('n', g, 'note', 'a,b \"c\"'), now() "
     . "FROM generate_series(1, 1000000) g");
is(psql("SELECT count(*) FROM audit_log WHERE type = '$type'"), 1000000,
   sprintf('a million entries of one type (inserted in %.1f s)', time - $t0));

($res, @e) = entries("type=$type");
is(scalar @e, 100, 'a page: 100 entries');
ok(J($res)->{next_before}, '... and where the next starts');
my (undef, @e2) = entries("type=$type&before=" . J($res)->{next_before});
ok(@e2 == 100 && $e2[0]{id} < $e[-1]{id}, '... which follows on, older');

# Each httpd child's resident memory (KiB) by pid.
sub rss_by_pid {
    my $pidf = Apache::Test::vars()->{t_logs} . "/httpd.pid";
    chomp(my $ppid = `cat $pidf 2>/dev/null`);
    my %kib;
    for my $pid (split ' ', `pgrep -P $ppid 2>/dev/null`) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) { $kib{$pid} = $1 if /^VmRSS:\s+(\d+)/ }
    }
    return \%kib;
}

# The export, read by a plain socket as it comes (HTTP/1.0: the body as it
# is, no chunk framing).  The most any child that was there at the start
# grew is the cost (a child the MPM starts meanwhile is not this request's).
my $admin_cookie = cookie_of(form('/account/login', { email => $admin, password => $PW, next => '/admin/' }));
my $url = Apache::TestRequest::resolve_url('/');
my ($host, $port) = $url =~ m{^http://([^:/]+):(\d+)/};
my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port) or die "connect: $!";
my $rss0 = rss_by_pid();
print $s "GET /admin/audit.csv?type=$type HTTP/1.0\r\nHost: $host\r\nCookie: $admin_cookie\r\n\r\n";
my ($buf, $bytes, $grew, $head, $lines, $first, $last_line, $partial) = ('', 0, 0, '', 0, undef, '', '');
my $body = 0;
$t0 = time;
while (1) {
    my $n = sysread($s, $buf, 1 << 16);
    last unless $n;
    $bytes += $n;
    if (!$body) {
        $head .= $buf;
        next unless $head =~ /\r\n\r\n/;
        ($head, $buf) = split /\r\n\r\n/, $head, 2;
        $body = 1;
    }
    my @l = split /\r\n/, $partial . $buf, -1;
    $partial = pop @l;
    for (@l) {
        $lines++;
        $first //= $_ if /^\d/;
        $last_line = $_;
    }
    if ($bytes % (4 << 20) < $n) {
        my $now = rss_by_pid();
        for (keys %$rss0) {
            $grew = $now->{$_} - $rss0->{$_} if defined $now->{$_} && $now->{$_} - $rss0->{$_} > $grew;
        }
    }
}
close $s;
my $took = time - $t0;
like($head, qr{^HTTP/1\.1 200}, 'GET /admin/audit.csv: 200');
unlike($head, qr{Content-Length}i, '... streamed: no length known ahead');
like($head, qr{Content-Type: text/csv; charset=utf-8}i, '... text/csv');
like($head, qr{Content-Disposition: attachment; filename="audit-\d{8}\.csv"}i, '... as a file');
is($lines, 1000001, 'the header and a million rows');
my $want = qq{,$type,,,'=HYPERLINK(1),"{""n"": 1000000, ""note"": ""a,b \\""c\\""""}"};
ok(($first // '') =~ /^\d+,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Q$want\E$/,
   '... the newest first, quoted by RFC 4180, a formula made text') or diag($first);
like($last_line, qr/,row 1,/, '... down to the oldest');
ok($grew < 16 * 1024, sprintf('the serving child grew by %.1f MiB while %.0f MiB went out (bounded: under 16 MiB)',
                              $grew / 1024, $bytes / (1 << 20)));
Lenz::Jobs::figure(sprintf('audit CSV export: 1,000,000 rows, %.0f MiB in %.1f s; the serving child +%.1f MiB',
                           $bytes / (1 << 20), $took, $grew / 1024));
psql("DELETE FROM audit_log WHERE type = '$type'");

# --- The page ---------------------------------------------------------------------------------------
$res = http_get("/admin/audit?q=$word", Cookie => $admin_cookie, Accept => 'text/html');
is($res->code, 200, 'the audit page: 200');
like($res->content, qr/token\.created.*backup \Q$word\E/s, '... shows the entry');
like($res->content, qr{href="[^"]*/admin/audit\.csv\?q=\Q$word\E"}, '... and an export of the same filter');
is(http_get('/admin/audit?from=nope', Cookie => $admin_cookie, Accept => 'text/html')->code, 400, '... a bad day: 400');

done_testing();
