# Messages (issue 18, item 5): one-to-one and small-group conversations
# between members, unread counts and read markers, delivery to the
# recipient's open page (their event stream) within a second; a pair has
# one conversation; other people's conversations are 404; bad input 4xx.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Time::HiRes qw(time);
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('ms');
my %mail = map { $_ => "$_-$tag\@example.org" } qw(ann bob cat dan);
my %t;
for my $k (sort keys %mail) { $t{$k} = member($mail{$k}) }
psql("UPDATE users SET name = 'Ann Sender' WHERE email = '$mail{ann}'");
(my $w = "wq$tag") =~ s/[^a-z0-9]//g;

# Bob's page is open: his event stream.
my ($sock, $status) = sse_open('/events/stream', bearer($t{bob}));
is($status, 200, "the recipient's event stream is open");
1 while sse_next($sock, 0.3);

my $t0 = time;
my $res = api($t{ann}, 'POST', '/conversations', { members => [ $mail{bob} ], body => "Hello Bob, $w" });
is($res->code, 201, 'POST /conversations: 201');
my $conv = J($res);
is_deeply([ keys %$conv ], ['id'], '... {"id"}');
my $ev;
while (time - $t0 < 5) {
    my $e = sse_next($sock, 1) or next;
    if (($e->{event} // '') eq 'message') { $ev = $e; last }
}
my $lat = time - $t0;
ok($ev, 'the message reaches the recipient\'s stream as "event: message"');
like($ev ? $ev->{data} : '', qr/Hello Bob/, '... with its text');
ok($lat < 1.0, sprintf('... within a second (%.3f s)', $lat));
figure(sprintf('a message reached the recipient\'s open stream in %.3f s', $lat));
close $sock;

# --- Unread counts and read markers -------------------------------------------------------------------
my $list = J(api($t{bob}, 'GET', '/conversations'));
is($list->{unread}, 1, "the recipient's unread count: 1");
my ($c) = grep { $_->{id} eq $conv->{id} } @{ $list->{conversations} };
is($c->{unread}, 1, '... in that conversation');
like($c->{last_message}{body}, qr/Hello Bob/, '... its last message');
is(J(api($t{ann}, 'GET', '/conversations'))->{unread}, 0, "the sender's own message is not unread to her");
$res = api($t{bob}, 'GET', "/conversations/$conv->{id}");
is($res->code, 200, 'GET /conversations/{id}');
my $one = J($res);
is(scalar @{ $one->{messages} }, 1, '... one message');
is($one->{messages}[0]{author}{name}, 'Ann Sender', '... by Ann');
$res = api($t{bob}, 'POST', "/conversations/$conv->{id}/read", { last_id => $one->{messages}[0]{id} });
is($res->code, 200, 'the read marker set');
is(J($res)->{unread}, 0, '... nothing unread');
my ($bob_m) = grep { $_->{name} ne 'Ann Sender' } @{ J(api($t{ann}, 'GET', "/conversations/$conv->{id}"))->{members} };
is($bob_m->{last_read}, $one->{messages}[0]{id}, "the sender sees the recipient's read marker");
api($t{bob}, 'POST', "/conversations/$conv->{id}/read", { last_id => 0 });
is(J(api($t{bob}, 'GET', '/conversations'))->{unread}, 0, '... which never moves back');

# The pair's one conversation.
$res = api($t{bob}, 'POST', '/conversations', { members => [ $mail{ann} ], body => 'Hi Ann' });
is(J($res)->{id}, $conv->{id}, 'the other way round: the same conversation');
is(scalar @{ J(api($t{ann}, 'GET', "/conversations/$conv->{id}"))->{messages} }, 2, '... now two messages');
$res = api($t{ann}, 'POST', "/conversations/$conv->{id}/messages", { body => 'Third' });
is($res->code, 201, 'POST /conversations/{id}/messages: 201');
my $after = J(api($t{ann}, 'GET', "/conversations/$conv->{id}"))->{messages}[1]{id};
my @rest = @{ J(api($t{ann}, 'GET', "/conversations/$conv->{id}?after=$after"))->{messages} };
is_deeply([ map { $_->{body} } @rest ], ['Third'], '?after= gives what came later');

# --- A group ------------------------------------------------------------------------------------------------
$res = api($t{ann}, 'POST', '/conversations', { members => [ $mail{bob}, $mail{cat} ], body => 'Group hello' });
is($res->code, 201, 'a group conversation');
my $grp = J($res);
isnt($grp->{id}, $conv->{id}, '... its own');
is(api($t{cat}, 'POST', "/conversations/$grp->{id}/messages", { body => 'from Cat' })->code, 201, 'a member posts in it');
is(J(api($t{ann}, 'GET', '/conversations'))->{unread}, 1, "Ann's unread: Cat's (writing in a conversation marks it read up to there)");

# --- Other people's conversations, bad input ----------------------------------------------------------------------
is(api($t{dan}, 'GET', "/conversations/$conv->{id}")->code, 404, 'an outsider reading it: 404');
is(api($t{dan}, 'POST', "/conversations/$conv->{id}/messages", { body => 'hi' })->code, 404, '... writing: 404');
is(api($t{dan}, 'POST', "/conversations/$conv->{id}/read", { last_id => 1 })->code, 404, '... marking it read: 404');
ok(!grep({ $_->{id} eq $conv->{id} } @{ J(api($t{dan}, 'GET', '/conversations'))->{conversations} }), '... not in their list');
is(api($t{ann}, 'POST', '/conversations', { members => [], body => 'x' })->code, 400, 'no members: 400');
is(api($t{ann}, 'POST', '/conversations', { members => [ $mail{ann} ], body => 'x' })->code, 400, 'only oneself: 400');
is(api($t{ann}, 'POST', '/conversations', { members => ['nobody-' . $tag . '@example.org'], body => 'x' })->code, 404,
   'an address without an account: 404');
is(api($t{ann}, 'POST', '/conversations', { members => [ map { "m$_\@example.org" } 1 .. 20 ], body => 'x' })->code, 400,
   'more than 19 others: 400');
is(api($t{ann}, 'POST', "/conversations/$conv->{id}/messages", { body => 'x' x 5001 })->code, 400, 'a message over 5,000: 400');
is(api($t{ann}, 'POST', "/conversations/$conv->{id}/messages", { body => 'such a badword' })->code, 422, 'a refused word: 422');
is(api($t{ann}, 'GET', "/conversations/$conv->{id}?after=x")->code, 400, 'after=x: 400');

# --- Search finds one's own messages only ----------------------------------------------------------------------------
ok(grep({ $_->{type} eq 'message' } @{ J(api($t{bob}, 'GET', "/search?q=$w&type=message"))->{results} }),
   "search: a member finds the conversation's message");
is(scalar @{ J(api($t{dan}, 'GET', "/search?q=$w&type=message"))->{results} }, 0, '... an outsider does not');

done_testing();
