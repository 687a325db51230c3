# Topics and posts (issue 18, item 4): members open topics (the site's or
# a shared folder's), post in Markdown rendered by libcmark to safe HTML,
# reply, edit, delete, up-vote; the list by activity or votes, paged;
# joining brings notices of new posts, coalesced per topic; moderators
# pin, lock and remove.  Markdown with raw HTML, javascript: links or
# 10,000 nested quotes is refused with a reason; a folder topic is 404 to
# whoever cannot see the folder.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('tp');
my %mail = map { $_ => "$_-$tag\@example.org" } qw(ann bob mod out);
my %t;
for my $w (sort keys %mail) { $t{$w} = member($mail{$w}) }
psql("UPDATE users SET name = 'Ann Author' WHERE email = '$mail{ann}'");
psql("UPDATE users SET name = 'Bob Replier' WHERE email = '$mail{bob}'");
psql("UPDATE users SET roles = array_append(roles, 'moderator') WHERE email = '$mail{mod}'");
my $uid = sub { psql("SELECT id FROM users WHERE email = '$_[0]'") };
my $word = "tag$$";

# --- A topic ---------------------------------------------------------------------------------------
my $res = api($t{ann}, 'POST', '/topics', { title => 'Printing on matte paper', body => "Which **paper** do you use?\n\n- A\n- B",
                                             tags => [ 'Paper', $word ] });
is($res->code, 201, 'POST /topics: 201');
my $tp = J($res);
is_deeply([ keys %$tp ], ['id'], '... {"id"}');
$res = api($t{bob}, 'GET', "/topics/$tp->{id}");
is($res->code, 200, 'another member reads it: GET /topics/{id}');
my $got = J($res);
is($got->{title}, 'Printing on matte paper', '... the title');
is($got->{body_html}, "<p>Which <strong>paper</strong> do you use?</p>\n<ul>\n<li>A</li>\n<li>B</li>\n</ul>\n",
   '... the body as HTML rendered by libcmark');
is_deeply($got->{tags}, [ 'paper', $word ], '... tags, in lower case');
is($got->{visibility}, 'site', '... for the whole site');
ok($got->{can_post} && !$got->{can_moderate}, '... the member may post, not moderate');

# --- Posts --------------------------------------------------------------------------------------------
$res = api($t{bob}, 'POST', "/topics/$tp->{id}/posts", { body => 'I use [this one](https://paper.example/matte).' });
is($res->code, 201, 'POST /topics/{id}/posts: 201');
my $p1 = J($res);
is_deeply([ keys %$p1 ], ['id'], '... {"id"}');
$res = api($t{ann}, 'POST', "/topics/$tp->{id}/posts", { body => 'Thanks!', reply_to => $p1->{id} });
is($res->code, 201, 'a reply to a post');
my $p2 = J($res);
my @posts = @{ J(api($t{out}, 'GET', "/topics/$tp->{id}"))->{posts} };
is_deeply([ map { $_->{id} } @posts ], [ $p1->{id}, $p2->{id} ], 'the posts, oldest first');
is($posts[0]{body_html}, "<p>I use <a href=\"https://paper.example/matte\">this one</a>.</p>\n", '... links kept');
is($posts[1]{reply_to}, $p1->{id}, '... the reply names what it answers');
ok(wait_until(sub { psql("SELECT count(*) FROM notifications WHERE user_id = '" . $uid->($mail{bob})
                         . "' AND title LIKE 'Ann Author replied to you%'") == 1 }, 10), 'the replied-to author is told');

# Bad Markdown and other bad posts.
my @bad = (
    [ '<script>alert(1)</script>', 'raw HTML is not allowed; write Markdown', 'a <script>' ],
    [ 'see <img src=x onerror=alert(1)>', 'raw HTML is not allowed; write Markdown', 'inline HTML' ],
    [ '[click](javascript:alert(1))', 'links may only be http, https or mailto', 'a javascript: link' ],
    [ ('>' x 10000) . ' deep', 'quotes are nested more than 16 deep', '10,000 nested quotes' ],
    [ 'buy badword now', 'it contains a refused word', 'a refused word' ],
);
for my $b (@bad) {
    my ($body, $why, $what) = @$b;
    $res = api($t{bob}, 'POST', "/topics/$tp->{id}/posts", { body => $body });
    is($res->code, 422, "$what: 422");
    is(J($res)->{reason}, $why, "... $why");
}
is(api($t{bob}, 'POST', "/topics/$tp->{id}/posts", { body => 'x' x 20001 })->code, 400, 'a post over 20,000 characters: 400');
is(api($t{bob}, 'POST', "/topics/$tp->{id}/posts", { body => "\n  " })->code, 400, 'an empty post: 400');
is(api($t{bob}, 'POST', '/topics', { title => '', body => 'x' })->code, 400, 'a topic without a title: 400');
is(api($t{bob}, 'POST', '/topics', { title => 'x', body => 'y', tags => ['no spaces allowed'] })->code, 400, 'a bad tag: 400');
is(api($t{bob}, 'POST', "/topics/$tp->{id}/posts", { body => 'x', reply_to => $tp->{id} })->code, 404,
   'a reply to something that is no post of the topic: 404');
is(api($t{bob}, 'GET', '/topics/00000000-0000-0000-0000-000000000000')->code, 404, 'an unknown topic: 404');

# Edit and delete.
$res = api($t{bob}, 'PATCH', "/posts/$p1->{id}", { body => 'I use *this* one.' });
is($res->code, 200, 'the author edits a post');
is(api($t{ann}, 'PATCH', "/posts/$p1->{id}", { body => 'hijack' })->code, 403, "someone else's post: 403");
@posts = @{ J(api($t{ann}, 'GET', "/topics/$tp->{id}"))->{posts} };
is($posts[0]{body_html}, "<p>I use <em>this</em> one.</p>\n", '... the new text, rendered');
ok($posts[0]{edited_at}, '... marked edited');

# --- Votes and the list -------------------------------------------------------------------------------
my $tp2 = J(api($t{bob}, 'POST', '/topics', { title => 'Glossy or satin?', body => 'Discuss.', tags => [$word] }));
is(J(api($t{ann}, 'POST', "/topics/$tp2->{id}/vote"))->{votes}, 1, 'an up-vote: 1');
is(J(api($t{ann}, 'POST', "/topics/$tp2->{id}/vote"))->{votes}, 1, '... twice still counts once');
is(J(api($t{out}, 'POST', "/topics/$tp2->{id}/vote"))->{votes}, 2, "another member's: 2");
is(J(api($t{out}, 'DELETE', "/topics/$tp2->{id}/vote"))->{votes}, 1, 'taken back: 1');
is(J(api($t{ann}, 'POST', "/posts/$p1->{id}/vote"))->{votes}, 1, 'a post up-voted');
my @list = map { $_->{id} } @{ J(api($t{bob}, 'GET', "/topics?tag=$word&sort=votes"))->{topics} };
is_deeply(\@list, [ $tp2->{id}, $tp->{id} ], 'by votes: the voted one first');
api($t{bob}, 'POST', "/topics/$tp->{id}/posts", { body => 'bump' });
@list = map { $_->{id} } @{ J(api($t{bob}, 'GET', "/topics?tag=$word"))->{topics} };
is_deeply(\@list, [ $tp->{id}, $tp2->{id} ], 'by recent activity: the one just posted in first');
$res = api($t{bob}, 'GET', "/topics?tag=$word&limit=1");
is(scalar @{ J($res)->{topics} }, 1, 'limit=1: one');
my $next = J(api($t{bob}, 'GET', "/topics?tag=$word&limit=1&cursor=" . esc(J($res)->{next_cursor})))->{topics};
is_deeply([ map { $_->{id} } @$next ], [ $tp2->{id} ], '... the cursor gives the next');
is(api($t{bob}, 'GET', '/topics?sort=hot')->code, 400, 'sort=hot: 400');
is(api($t{bob}, 'GET', '/topics?cursor=nonsense')->code, 400, 'a bad cursor: 400');

# --- Joining: notices of new posts, one entry per topic -----------------------------------------------------
is(api($t{out}, 'POST', "/topics/$tp2->{id}/join")->code, 204, 'a member joins a topic');
my $mark = psql("SELECT coalesce(max(id), 0) FROM notifications");
api($t{ann}, 'POST', "/topics/$tp2->{id}/posts", { body => "post $_" }) for 1 .. 3;
ok(wait_until(sub { psql("SELECT coalesce(sum(count), 0) FROM notifications WHERE id > $mark AND user_id = '"
                         . $uid->($mail{out}) . "' AND type = 'post.created' AND object = '$tp2->{id}'") == 3 }, 10),
   'three new posts are told');
is(psql("SELECT count(*) || ' ' || max(title) FROM notifications WHERE id > $mark AND user_id = '" . $uid->($mail{out})
        . "' AND type = 'post.created'"), '1 3 new posts in “Glossy or satin?”', '... as one entry with a count');
is(psql("SELECT count(*) FROM notifications WHERE id > $mark AND user_id = '" . $uid->($mail{ann}) . "' AND type = 'post.created' "
        . "AND body->>'topic_id' = '$tp2->{id}'"), 0, '... the poster hears nothing of their own');
is(api($t{out}, 'DELETE', "/topics/$tp2->{id}/join")->code, 204, 'leaving');

# --- Moderators ---------------------------------------------------------------------------------------------
is(api($t{bob}, 'PATCH', "/topics/$tp->{id}", { locked => JSON::PP::true })->code, 403, 'a member locking: 403');
$res = api($t{mod}, 'PATCH', "/topics/$tp->{id}", { locked => JSON::PP::true, pinned => JSON::PP::true });
is($res->code, 200, 'a moderator locks and pins');
ok(J($res)->{locked} && J($res)->{pinned}, '... locked and pinned');
$res = api($t{bob}, 'POST', "/topics/$tp->{id}/posts", { body => 'too late' });
is($res->code, 409, 'posting in a locked topic: 409');
is(J(api($t{bob}, 'GET', "/topics?tag=$word&sort=votes"))->{topics}[0]{id}, $tp->{id}, 'pinned comes first');
is(api($t{mod}, 'DELETE', "/posts/$p2->{id}")->code, 204, 'a moderator removes a post');
my ($gone) = grep { $_->{id} eq $p2->{id} } @{ J(api($t{bob}, 'GET', "/topics/$tp->{id}"))->{posts} };
ok(!$gone, '... members no longer see it');
is(api($t{mod}, 'DELETE', "/topics/$tp2->{id}")->code, 204, 'a moderator removes a topic');
is(api($t{bob}, 'GET', "/topics/$tp2->{id}")->code, 404, '... 404 to members');
is(api($t{mod}, 'GET', "/topics/$tp2->{id}")->code, 200, '... moderators still see it');
is(api($t{bob}, 'DELETE', "/topics/$tp->{id}")->code, 403, "a member removing another's topic: 403");

# --- A shared folder's topic ----------------------------------------------------------------------------------
my $f = J(api($t{ann}, 'POST', '/folders', { name => "Lab $tag" }));
my $sh = J(api($t{ann}, 'POST', "/folders/$f->{id}/shares", { email => $mail{bob}, role => 'viewer' }));
api($t{bob}, 'POST', "/shares/$sh->{id}/accept");
$res = api($t{ann}, 'POST', '/topics', { title => 'Our lab schedule', body => 'Mondays.', folder_id => $f->{id} });
is($res->code, 201, "a topic for a shared folder's members");
my $ft = J($res);
is(J(api($t{bob}, 'GET', "/topics/$ft->{id}"))->{visibility}, 'folder', 'a member of the folder reads it');
is(api($t{bob}, 'POST', "/topics/$ft->{id}/posts", { body => 'ok' })->code, 403, '... a viewer may not post in it');
is(api($t{out}, 'GET', "/topics/$ft->{id}")->code, 404, 'an outsider: 404');
is(api($t{out}, 'POST', "/topics/$ft->{id}/posts", { body => 'hi' })->code, 404, '... posting: 404');
ok(!grep({ $_->{id} eq $ft->{id} } @{ J(api($t{out}, 'GET', '/topics?limit=200'))->{topics} }), '... not in their list');
is(api($t{out}, 'POST', '/topics', { title => 'x', body => 'y', folder_id => $f->{id} })->code, 404,
   "an outsider opening a topic in the folder: 404");
is(psql("SELECT lenz_access('" . $uid->($mail{out}) . "', 'topic', '$ft->{id}')"), 0, 'lenz_access says 0 for the outsider');

# --- Pages ------------------------------------------------------------------------------------------------------
my $login = form('/account/login', { email => $mail{bob}, password => 'correct horse battery' });
my $cookie = cookie_of($login);
$res = http_get('/topics/', Cookie => $cookie, Accept => 'text/html');
is($res->code, 200, 'the topic list page');
like($res->content, qr{Printing on matte paper}, '... lists the topic');
$res = http_get("/topics/$tp->{id}", Cookie => $cookie, Accept => 'text/html');
is($res->code, 200, 'the topic page');
like($res->content, qr{<div class="post-body"><p>Which <strong>paper</strong> do you use\?</p>}, '... the body as HTML');
like($res->content, qr{This topic is locked\.}, '... says it is locked');
is(http_get("/topics/$ft->{id}", Cookie => cookie_of(form('/account/login', { email => $mail{out},
   password => 'correct horse battery' })), Accept => 'text/html')->code, 404, "the folder topic's page: 404 to the outsider");

done_testing();
