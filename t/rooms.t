# Live rooms (issue 18, item 6): /events/stream?room=topic:ID&room=chat:ID
# carries each topic's new posts and each conversation's messages besides
# the member's own notifications; access is checked per room when the
# stream opens (404 for a room the member cannot see) and for every event
# after (a member whose share is revoked stops getting the folder topic's
# posts); events fan out across processes and hosts through PostgreSQL (a
# post made through one httpd reaches a stream on another within a
# second); a reconnect with Last-Event-ID misses nothing.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('rm');
my %mail = map { $_ => "$_-$tag\@example.org" } qw(own mem out);
my %t;
for my $k (sort keys %mail) { $t{$k} = member($mail{$k}) }

my $site = J(api($t{own}, 'POST', '/topics', { title => "Rooms $tag", body => 'A site topic.' }));
my $folder = J(api($t{own}, 'POST', '/folders', { name => "Room folder $tag" }));
my $sh = J(api($t{own}, 'POST', "/folders/$folder->{id}/shares", { email => $mail{mem}, role => 'commenter' }));
api($t{mem}, 'POST', "/shares/$sh->{id}/accept");
my $ft = J(api($t{own}, 'POST', '/topics', { title => "Folder room $tag", body => 'For members.', folder_id => $folder->{id} }));
my $rooms = "room=topic:$site->{id}&room=topic:$ft->{id}";
sub post_in { my ($topic, $body) = @_; api($t{own}, 'POST', "/topics/$topic/posts", { body => $body }) }
# The next event of a kind on a stream (undef after $wait seconds).
sub next_of {
    my ($s, $event, $wait) = @_;
    my $end = time + $wait;
    while (time < $end) {
        my $e = sse_next($s, $end - time > 0.2 ? $end - time : 0.2) or next;
        return $e if ($e->{event} // '') eq $event;
    }
    return undef;
}

# --- Subscribing ------------------------------------------------------------------------------------------
my ($sx, $xst) = sse_open("/events/stream?room=topic:$ft->{id}", bearer($t{out}));
is($xst, 404, "a room the member cannot see: 404 at subscribe time");
close $sx;
($sx, $xst) = sse_open('/events/stream?room=folder:00000000-0000-0000-0000-000000000000', bearer($t{mem}));
is($xst, 400, 'a room that is no topic or chat: 400');
close $sx;
($sx, $xst) = sse_open('/events/stream?' . join('&', map { "room=topic:$site->{id}" } 1 .. 21), bearer($t{mem}));
is($xst, 400, 'more than 20 rooms: 400');
close $sx;

my ($s, $st) = sse_open("/events/stream?$rooms", bearer($t{mem}));
is($st, 200, 'a member subscribes to a site topic and a folder topic');
1 while sse_next($s, 0.3);
my $t0 = time;
post_in($site->{id}, 'first post');
my $e = next_of($s, 'post', 5);
my $lat = time - $t0;
ok($e, 'a post in the topic arrives as "event: post"');
my $d = $e ? decode_json($e->{data}) : {};
is($d->{room}, "topic:$site->{id}", '... naming its room');
is($d->{post}{excerpt}, 'first post', '... and the post');
like($e ? $e->{id} : '', qr/^\d+\.\d+$/, '... its id "N.M" (notifications, rooms)');
ok($lat < 1.0, sprintf('... within a second (%.3f s)', $lat));
figure(sprintf('a post reached a room subscriber on the same host in %.3f s', $lat));
post_in($ft->{id}, 'for folder members');
$e = next_of($s, 'post', 5);
ok($e && decode_json($e->{data})->{room} eq "topic:$ft->{id}", "the folder topic's post too");
my $last_id = $e ? $e->{id} : '0.0';

# --- Resume --------------------------------------------------------------------------------------------------
close $s;
post_in($site->{id}, "while away $_") for 1 .. 2;
ok(wait_until(sub { psql("SELECT count(*) FROM room_events WHERE room = 'topic:$site->{id}'") == 3 }, 10),
   'two posts while the stream is closed');
($s, $st) = sse_open("/events/stream?$rooms", bearer($t{mem}), 'Last-Event-ID' => $last_id);
is($st, 200, 'reconnect with Last-Event-ID');
my @got;
while (my $x = next_of($s, 'post', 2)) { push @got, decode_json($x->{data})->{post}{excerpt} }
is_deeply([ sort @got ], [ 'while away 1', 'while away 2' ], '... the two missed posts, each once, nothing else (runners may dispatch them in either order)');

# --- Access revoked while the stream is open ---------------------------------------------------------------------
is(api($t{own}, 'DELETE', "/shares/$sh->{id}")->code, 204, "the member's share of the folder is revoked");
post_in($ft->{id}, 'after the revocation');
post_in($site->{id}, 'site post after');
my @after;
while (my $x = next_of($s, 'post', 3)) { push @after, decode_json($x->{data})->{room} }
is_deeply(\@after, [ "topic:$site->{id}" ], "... the open stream gets the site topic's post, not the folder topic's");
close $s;
($s, $st) = sse_open("/events/stream?room=topic:$ft->{id}", bearer($t{mem}));
is($st, 404, '... and subscribing to the folder topic again: 404');
close $s;

# --- A conversation's room ------------------------------------------------------------------------------------
my $conv = J(api($t{own}, 'POST', '/conversations', { members => [ $mail{mem} ], body => 'hello' }));
($s, $st) = sse_open("/events/stream?room=chat:$conv->{id}", bearer($t{mem}));
is($st, 200, "a member of a conversation subscribes to its room");
1 while sse_next($s, 0.3);
api($t{own}, 'POST', "/conversations/$conv->{id}/messages", { body => 'in the room' });
$e = next_of($s, 'chat', 5);
ok($e && decode_json($e->{data})->{message}{body} eq 'in the room', 'a message arrives as "event: chat"');
close $s;
($sx, $xst) = sse_open("/events/stream?room=chat:$conv->{id}", bearer($t{out}));
is($xst, 404, 'an outsider subscribing to it: 404');
close $sx;

# --- Across hosts: a post through one httpd reaches a stream on another ------------------------------------------------
my ($base2, $stop2) = second_httpd(offset => 900);
($s, $st) = sse_open("$base2/events/stream?room=topic:$site->{id}", bearer($t{mem}));
is($st, 200, 'a stream on the second httpd');
1 while sse_next($s, 0.3);
$t0 = time;
post_in($site->{id}, 'across hosts');
$e = next_of($s, 'post', 5);
$lat = time - $t0;
ok($e && decode_json($e->{data})->{post}{excerpt} eq 'across hosts', 'a post made through the first reaches it');
ok($lat < 1.0, sprintf('... within a second (%.3f s)', $lat));
figure(sprintf('a post made through one httpd reached a stream on another in %.3f s', $lat));
close $s;
$stop2->();

done_testing();
