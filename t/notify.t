# In-app notifications end to end: an upload and a download of a member's
# link make events; the notification subscriber turns each into exactly
# one notification for the member; the live stream (Server-Sent Events)
# delivers it within a second; a stream resumed with Last-Event-ID gets
# what it missed, once; another member's stream gets nothing; the list
# and mark-read API.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use Lenz::Test qw(:DEFAULT children_rss_kib);
use Lenz::Jobs;

my $env = stack_env();
my $top = top_dir();
my $J = JSON::PP->new->canonical;
my $tag = sprintf('%d%d', time, $$);

sub user {
    my ($email) = @_;
    my $out = `echo 'correct horse battery' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --password-stdin 2>&1`;
    die "create-user: $out" if $?;
    my $res = http_req('POST', '/api/v1/auth/login', ['Content-Type' => 'application/json'],
                       $J->encode({ email => $email, password => 'correct horse battery' }));
    die 'login: ' . $res->content unless $res->code == 200;
    return json_of($res)->{access_token};
}
# A member's small encrypted upload through the API; the complete answer.
sub upload {
    my ($tok, $name, $data) = @_;
    my $res = post_json('/api/v1/uploads/encrypted/initiate', { filename => $name, size => length $data },
                        bearer($tok));
    die 'initiate: ' . $res->content unless $res->code == 201;
    my $i = json_of($res);
    $res = http_req('POST', "/api/v1/uploads/encrypted/upload-part?token=$i->{token}&part=1",
                    [bearer($tok)], $data);
    die 'part: ' . $res->content unless $res->code == 200 || $res->code == 201;
    $res = post_json('/api/v1/uploads/encrypted/complete', { token => $i->{token} }, bearer($tok));
    die 'complete: ' . $res->content unless $res->code == 201;
    return json_of($res);
}
# The next notification on the stream (skipping comments), or undef.
sub next_note {
    my ($sock, $timeout) = @_;
    my $until = time + $timeout;
    while ((my $left = $until - time) > 0) {
        my $ev = sse_next($sock, $left) or return undef;
        next unless ($ev->{event} // '') eq 'notification';
        return { id => $ev->{id}, %{ decode_json($ev->{data}) } };
    }
    return undef;
}
sub download {
    my ($token) = @_;
    my $res = http_get("/download/$token");
    die 'download: ' . $res->code unless $res->code == 200;
}

my $alice = user("notify-a-$tag\@example.org");
my $bob = user("notify-b-$tag\@example.org");
my $alice_id = psql("SELECT id FROM users WHERE email = 'notify-a-$tag\@example.org'");

# --- The stream opens --------------------------------------------------------------
my ($sa, $status, $hdr) = sse_open('/events/stream', bearer($alice));
is($status, 200, 'stream: 200');
like($hdr->{'content-type'} // '', qr{^text/event-stream}, 'stream: text/event-stream');
is($hdr->{'cache-control'}, 'no-store', 'stream: not cached');
my $hello = sse_next($sa, 5);
ok($hello && grep({ /lenz notifications/ } @{ $hello->{comments} }), 'stream: opening comment arrives at once');
is($hello && $hello->{retry}, 3000, 'stream: retry interval announced');
my ($sb, $bstatus) = sse_open('/events/stream', bearer($bob));
is($bstatus, 200, "another member's stream: 200");

# --- An upload: file.uploaded -> one notification, live within a second -------------
my $up = upload($alice, "notify-$tag.txt", "hello notifications\n" x 100);
my $t0 = time;
my $n1 = next_note($sa, 5);
my $lat_up = time - $t0;
ok($n1, 'upload: a notification arrives on the stream');
is($n1 && $n1->{type}, 'file.uploaded', 'upload: type file.uploaded');
is($n1 && $n1->{title}, "Uploaded: notify-$tag.txt", 'upload: title names the file');
is($n1 && $n1->{body}{size}, 2000, 'upload: body has the size');
is($n1 && $n1->{body}{transfer_id}, $up->{transfer_id}, 'upload: body has the transfer');
ok(!($n1 && $n1->{read}), 'upload: unread');
ok($lat_up < 1.0, sprintf('upload: delivered %.3f s after the upload completed (< 1 s)', $lat_up));
is(psql("SELECT count(*) FROM notifications WHERE user_id = '$alice_id' AND type = 'file.uploaded' "
        . "AND body->>'transfer_id' = '$up->{transfer_id}'"), 1, 'upload: exactly one notification row');

# --- A download of her link: link.downloaded -> the owner -----------------------------
download($up->{token});
$t0 = time;
my $n2 = next_note($sa, 5);
my $lat_dl = time - $t0;
is($n2 && $n2->{type}, 'link.downloaded', 'download: type link.downloaded');
is($n2 && $n2->{title}, "Downloaded: notify-$tag.txt", 'download: title names the file');
is($n2 && $n2->{body}{downloads}, 1, 'download: body counts downloads');
ok($n2 && $n2->{id} > $n1->{id}, 'download: ids ascend');
ok($lat_dl < 1.0, sprintf('download: delivered %.3f s after the download (< 1 s)', $lat_dl));
figure(sprintf('notification latency: upload %.3f s, download %.3f s', $lat_up, $lat_dl));
is(next_note($sb, 1.5), undef, "another member's stream hears nothing of it");
my $mail = mail_to("notify-a-$tag\@example.org", 10, qr/^Subject: Downloaded: /m);
ok($mail, 'the first download also mails the owner');
like($mail // '', qr/notify-\Q$tag\E\.txt was downloaded for the first time/, '... naming the file');

# --- Resume: what happens while away arrives once, in order ---------------------------
my $last = $n2->{id};
close $sa;
download($up->{token}) for 1 .. 3;
# Repeats of one link within the window are one entry with a count
# (sql/026): the unread entry is replaced by one counting all four.
my (undef, $took) = wait_until(sub {
    psql("SELECT coalesce(sum(count), 0) FROM notifications WHERE user_id = '$alice_id' AND type = 'link.downloaded'") == 4 }, 10);
is(psql("SELECT count(*) || ' ' || sum(count) FROM notifications WHERE user_id = '$alice_id' AND type = 'link.downloaded'"),
   '1 4', 'away: four downloads of one link are one entry counting 4');
($sa, $status) = sse_open('/events/stream', bearer($alice), 'Last-Event-ID' => $last);
is($status, 200, 'resume: 200');
my @missed;
while (my $n = next_note($sa, 2)) { push @missed, $n }
is(scalar(@missed), 1, 'resume: the one entry that replaced the first, no more');
is($missed[0] && $missed[0]{title}, "notify-$tag.txt was downloaded 4 times", 'resume: "... was downloaded 4 times"');
is($missed[0] && $missed[0]{count}, 4, 'resume: with its count');
is($missed[0] && $missed[0]{object}, $n2->{object}, '... and the object the page replaces it by');
ok(!grep({ $_->{id} <= $last } @missed), 'resume: nothing from before Last-Event-ID');
is(scalar(grep { read_file($_) =~ /^X-Envelope-To: <notify-a-\Q$tag\E\@example\.org>\r?$/m } mail_files()), 1,
   'later downloads mail nobody (one mail, for the first)');
close $sa;
($sa, $status) = sse_open("/events/stream?last_event_id=$last", bearer($alice));
my @again;
while (my $n = next_note($sa, 1)) { push @again, $n }
is(scalar(@again), 1, 'resume by query parameter (for EventSource polyfills): the same one');
close $sa;
($sa, $status) = sse_open('/events/stream', bearer($alice));
is(next_note($sa, 1), undef, 'a fresh stream starts from now (the list API has the past)');
close $sa;
close $sb;

# --- Fan-out: twenty streams of one member all get it -------------------------------
# (the test server has 30 worker threads; each open stream holds one.)
sub open_streams { http_get('/metrics')->content =~ /^lenz_event_streams (\d+)$/m ? $1 : -1 }
my $open0 = open_streams();
my $rss0 = children_rss_kib();
my @fan = map { (sse_open('/events/stream', bearer($alice)))[0] } 1 .. 20;
sse_next($_, 5) for @fan;                       # each one's opening comment
my $rss1 = children_rss_kib();
is(open_streams(), $open0 + 20, 'metrics: lenz_event_streams counts the twenty');
upload($alice, "fanout-$tag.txt", 'x' x 10);
$t0 = time;
my ($got, $slowest) = (0, 0);
for my $s (@fan) {
    my $n = next_note($s, 5);
    $got++ if $n && $n->{title} eq "Uploaded: fanout-$tag.txt";
    $slowest = time - $t0;
}
is($got, 20, 'fan-out: all twenty streams got the notification');
ok($slowest < 1.0, sprintf('fan-out: the last of twenty within %.3f s (< 1 s)', $slowest));
figure(sprintf('twenty open streams: children RSS %+d KiB (%.0f KiB per stream); last delivery %.3f s',
             $rss1 - $rss0, ($rss1 - $rss0) / 20, $slowest));
close $_ for @fan;
# (the baseline may still count streams closed earlier in this file)
my (undef, $gone) = wait_until(sub { open_streams() <= $open0 }, 10);
ok(open_streams() <= $open0, 'clients that hang up end their streams (threads freed) without a write');
figure(sprintf('twenty streams whose clients hung up ended within %.1f s (checked every 5 s)', $gone));

# --- Committed once: one notification, one audit row; rolled back: none ------------
my $payload = $J->encode({ name => "tx-$tag.txt", size => 1 });
psql("BEGIN; SELECT lenz_event_emit('file.uploaded', '$alice_id'::uuid, 'tx-rolled-$tag', '$payload'::jsonb); ROLLBACK;");
psql("SELECT lenz_event_emit('file.uploaded', '$alice_id'::uuid, 'tx-committed-$tag', '$payload'::jsonb)");
ok(wait_until(sub { psql("SELECT count(*) FROM audit_log WHERE subject = 'tx-committed-$tag'") }, 10),
   'a committed event is dispatched');
my $ev_id = psql("SELECT event_id FROM audit_log WHERE subject = 'tx-committed-$tag'");
is(psql("SELECT count(*) FROM notifications WHERE event_id = $ev_id"), 1, '... into exactly one notification');
is(psql("SELECT count(*) FROM audit_log WHERE subject = 'tx-committed-$tag'"), 1, '... and one audit row');
is(psql("SELECT count(*) FROM audit_log WHERE subject = 'tx-rolled-$tag'")
   + psql("SELECT count(*) FROM events WHERE subject = 'tx-rolled-$tag'"), 0,
   'a rolled-back one leaves no event and no audit row');
is(psql("SELECT count(*) FROM notifications WHERE user_id = '$alice_id' AND title = 'Uploaded: tx-$tag.txt'"), 1,
   '... and no notification (only the committed one made one)');

# --- Bad input ------------------------------------------------------------------------
my ($sx, $xstatus) = sse_open('/events/stream', bearer($alice), 'Last-Event-ID' => 'abc');
is($xstatus, 400, 'stream: a bad Last-Event-ID is 400');
close $sx;
($sx, $xstatus) = sse_open('/events/stream');
is($xstatus, 401, 'stream: a guest is refused');
close $sx;
is(http_get('/api/v1/notifications?after=x', bearer($alice))->code, 400, 'list: bad after is 400');

# --- The list and mark-read API -------------------------------------------------------
my $list = json_of(http_get('/api/v1/notifications', bearer($alice)));
is($list->{unread}, 4, 'list: four unread');
is(scalar @{ $list->{notifications} }, 4, 'list: four notifications');
is_deeply([map { $_->{type} } @{ $list->{notifications} }],
          ['file.uploaded', 'link.downloaded', ('file.uploaded') x 2], 'list: oldest first');
is($list->{notifications}[1]{count}, 4, 'list: the downloads as one entry counting 4');
my $first = $list->{notifications}[0]{id};
is(http_req('POST', "/api/v1/notifications/$first/read", [bearer($alice)])->code, 204, 'read one: 204');
is(http_req('POST', "/api/v1/notifications/$first/read", [bearer($alice)])->code, 404, 'read it again: 404');
is(http_req('POST', "/api/v1/notifications/$first/read", [bearer($bob)])->code, 404,
   "read another member's: 404");
is(http_req('POST', '/api/v1/notifications/abc/read', [bearer($alice)])->code, 404, 'read a bad id: 404');
$list = json_of(http_get('/api/v1/notifications?unread=1', bearer($alice)));
is($list->{unread}, 3, 'after one read: three unread');
ok(!grep({ $_->{id} == $first } @{ $list->{notifications} }), '?unread=1 leaves the read one out');
$list = json_of(http_get("/api/v1/notifications?after=$first", bearer($alice)));
is(scalar @{ $list->{notifications} }, 3, '?after= pages');
is(http_req('POST', '/api/v1/notifications/read-all', [bearer($alice)])->code, 204, 'read all: 204');
is(json_of(http_get('/api/v1/notifications', bearer($alice)))->{unread}, 0, 'read all: none unread');
is(json_of(http_get('/api/v1/notifications', bearer($bob)))->{unread}, 0, 'bob has none');

# --- The account page shows them, live ------------------------------------------------
psql("UPDATE notifications SET read_at = NULL WHERE id = $first");
my $res = form('/account/login', { email => "notify-a-$tag\@example.org", password => 'correct horse battery' });
my $cookie = cookie_of($res);
ok($cookie, 'signed in with the form');
$res = http_get('/account', Cookie => $cookie, Accept => 'text/html');
is($res->code, 200, 'account page: 200');
like($res->content, qr{<li class="unread"><span class="what">Uploaded: notify-\Q$tag\E\.txt</span>},
     'account page: the notifications, the unread one marked');
like($res->content, qr{>1 unread<}, 'account page: the unread count');
like($res->content, qr{data-stream="/events/stream"}, 'account page: where the live stream is');
like($res->content, qr{<script type="module" src="/static/js/notify.js">}, 'account page: its script');
is(http_get('/static/js/notify.js')->code, 200, '... which is served');
my ($ss, $sst) = sse_open('/events/stream', Cookie => $cookie);
is($sst, 200, 'the stream takes the session cookie (EventSource sends it)');
close $ss;
$res = form('/account/notifications/read-all', { csrf => csrf_of($res) }, Cookie => $cookie);
is($res->code, 303, 'mark all read from the page: 303');
like(http_get('/account', Cookie => $cookie, Accept => 'text/html')->content, qr{>0 unread<},
     '... and none is unread');
is(form('/account/notifications/read-all', {}, Cookie => $cookie)->code, 403, '... which needs the CSRF token');

# The page's script in jsdom, on a real stream: a new upload shows up live.
ok(node_ok(), 'node 18+ is installed') or diag("install Debian's nodejs (scripts/deps.sh does)");
run_node('notify_page.test.mjs', 'page', LENZ_MEMBER_COOKIE => $cookie, LENZ_MEMBER_TOKEN => $alice);

# --- Many downloads of one link: one entry with a count, not one each ----------------
my $big = upload($alice, "report-$tag.pdf", 'r' x 1000);
my $mark65 = psql("SELECT coalesce(max(id), 0) FROM notifications");
for my $i (0 .. 64) {
    my $res = http_get("/download/$big->{token}");
    die 'download: ' . $res->code unless $res->code == 200;
}
ok(wait_until(sub { psql("SELECT coalesce(sum(count), 0) FROM notifications WHERE user_id = '$alice_id' "
                         . "AND type = 'link.downloaded' AND id > $mark65") == 65 }, 20),
   'sixty-five downloads of one link are all counted');
is(psql("SELECT count(*) FROM notifications WHERE user_id = '$alice_id' AND type = 'link.downloaded' AND id > $mark65"), 1,
   '... in one entry');
is(psql("SELECT title FROM notifications WHERE user_id = '$alice_id' AND type = 'link.downloaded' AND id > $mark65"),
   "report-$tag.pdf was downloaded 65 times", '... "report.pdf was downloaded 65 times"');

done_testing();
