# Shared folders, comments and activity (issue 18, items 1-3 and 7): an
# owner invites people by e-mail with a role; they accept and then see,
# read and (by role) change what is in the folder, through the owner's
# keys; comments with @mentions tell only people who can see the item;
# every change in a shared folder is a row of its activity feed; what
# the content filter refuses answers 422; other people's things answer 404.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('co');
my %mail = map { $_ => "$_-$tag\@example.org" } qw(owner ed view out com);
my $O = member($mail{owner});
my $E = member($mail{ed});
my $V = member($mail{view});
my $X = member($mail{out});
my $C = member($mail{com});
psql("UPDATE users SET name = 'Olga Owner' WHERE email = '$mail{owner}'");
psql("UPDATE users SET name = 'Eddie Editor' WHERE email = '$mail{ed}'");
my $uid = sub { psql("SELECT id FROM users WHERE email = '$_[0]'") };

my $proj = J(api($O, 'POST', '/folders', { name => 'Project' }));
my $docs = J(api($O, 'POST', '/folders', { name => 'Docs', parent_id => $proj->{id} }));
my $private = J(api($O, 'POST', '/folders', { name => 'Private' }));
ok($proj->{id} && $docs->{id} && $private->{id}, 'the owner has Project, Project/Docs and Private');
my $plan = upload_small($O, '/api/v1/uploads', 'plan.txt', "the plan\n" x 100, folder_id => $docs->{id});
my $secret = upload_small($O, '/api/v1/uploads', 'secret.txt', 'not shared', folder_id => $private->{id});
ok($plan->{file_id} && $secret->{file_id}, '... with a file in Docs and one in Private');

# --- Inviting -----------------------------------------------------------------------------------------
my $res = api($O, 'POST', "/folders/$proj->{id}/shares", { email => $mail{ed}, role => 'editor' });
is($res->code, 201, 'POST /folders/{id}/shares: 201');
my $sh_e = J($res);
is_deeply([ sort keys %$sh_e ], [qw(email id role status)], '... {"id","email","role","status"}');
is_deeply([ @$sh_e{qw(email role status)} ], [ $mail{ed}, 'editor', 'invited' ], '... invited as editor');

my @bad = (
    [ { email => $mail{ed}, role => 'viewer' }, 409, 'already-shared', 'the same address twice' ],
    [ { email => 'not-an-address', role => 'viewer' }, 400, 'invalid-field', 'a malformed address' ],
    [ { email => $mail{owner}, role => 'viewer' }, 400, 'invalid-field', 'the owner themselves' ],
    [ { email => "x-$tag\@example.org", role => 'admin' }, 400, 'invalid-field', 'a role that does not exist' ],
    [ { email => "x-$tag\@example.org" }, 400, 'invalid-field', 'no role' ],
);
for my $b (@bad) {
    my ($body, $code, $type, $what) = @$b;
    $res = api($O, 'POST', "/folders/$proj->{id}/shares", $body);
    is($res->code, $code, "an invitation to $what: $code");
    like(J($res)->{type} // '', qr/\Q$type\E$/, "... $type");
}
my $root = J(api($O, 'GET', '/folders/root'))->{id};
$res = api($O, 'POST', "/folders/$root/shares", { email => $mail{view}, role => 'viewer' });
is($res->code, 409, 'sharing the root folder: 409');
$res = api($X, 'POST', "/folders/$proj->{id}/shares", { email => $mail{out}, role => 'viewer' });
is($res->code, 404, "an outsider inviting to the owner's folder: 404, like no folder");

# The invitee hears of it: a notice and a mail.
ok(wait_until(sub { psql("SELECT count(*) FROM notifications WHERE user_id = '" . $uid->($mail{ed})
                         . "' AND type = 'share.invited'") == 1 }, 10), 'the invited member gets a notice');
my $m = mail_to($mail{ed}, 10, qr/Project/);
ok($m, '... and a mail naming the folder');
like($m // '', qr{/collab/shares}, '... with where to accept it');

$res = api($E, 'GET', '/shares/incoming');
is($res->code, 200, 'GET /shares/incoming: 200');
my ($in) = grep { $_->{id} eq $sh_e->{id} } @{ J($res)->{shares} };
ok($in, '... lists the invitation');
is_deeply([ @$in{qw(folder_id folder_name role status owner)} ],
          [ $proj->{id}, 'Project', 'editor', 'invited', 'Olga Owner' ], '... {"id","folder_id","folder_name","role","status","owner"}');
is(api($E, 'GET', "/folders/$proj->{id}")->code, 404, 'before accepting, the folder is 404 to the invitee');
is(api($X, 'POST', "/shares/$sh_e->{id}/accept")->code, 404, "someone else accepting it: 404");
is(api($V, 'GET', '/shares/incoming')->code, 200, 'another member has no such invitation ...');
ok(!grep({ $_->{id} eq $sh_e->{id} } @{ J(api($V, 'GET', '/shares/incoming'))->{shares} }), '... in their list');

$res = api($E, 'POST', "/shares/$sh_e->{id}/accept");
is($res->code, 200, 'POST /shares/{id}/accept: 200');
is(J($res)->{status}, 'active', '... active');

# --- Reading through the share -----------------------------------------------------------------------
$res = api($E, 'GET', "/folders/$proj->{id}");
is($res->code, 200, 'the editor reads the shared folder');
my $f = J($res);
is($f->{role}, 'editor', '... role editor');
is($f->{path}, '/Project', '... its path from the shared folder');
ok(!defined $f->{parent_id}, "... and nothing of the owner's folders above it");
ok(grep({ $_->{name} eq 'Docs' } @{ $f->{children} }), '... Docs in it');
$res = api($E, 'GET', "/folders/$docs->{id}");
is($res->code, 200, 'a folder below it too');
is(J($res)->{path}, '/Project/Docs', '... /Project/Docs');
$res = api($E, 'GET', "/files/$plan->{file_id}/content");
is($res->code, 200, "a file in it, decrypted with the owner's keys");
is($res->content, "the plan\n" x 100, '... byte for byte');
is(api($E, 'GET', "/files/$secret->{file_id}/content")->code, 404, "the owner's other folders stay 404");
is(api($E, 'GET', "/folders/$private->{id}")->code, 404, '... Private too');
is(api($E, 'GET', "/folders/$root")->code, 404, "... and the owner's root");

# --- Changing as an editor -----------------------------------------------------------------------------
$res = api($E, 'POST', '/folders', { name => 'From Eddie', parent_id => $proj->{id} });
is($res->code, 201, 'the editor makes a folder in the share');
my $eddie = J($res);
is(psql("SELECT owner_id FROM folders WHERE id = '$eddie->{id}'"), $uid->($mail{owner}), "... the owner's");
ok(grep({ $_->{id} eq $eddie->{id} } @{ J(api($O, 'GET', "/folders/$proj->{id}"))->{children} }), '... the owner sees it');
$res = api($E, 'PATCH', "/files/$plan->{file_id}", { name => 'plan-v2.txt' });
is($res->code, 200, 'the editor renames a file');
is(J($res)->{name}, 'plan-v2.txt', '... plan-v2.txt');
$res = api($E, 'PATCH', "/files/$plan->{file_id}", { folder_id => $private->{id} });
is($res->code, 404, "moving it into the owner's unshared folder: 404");
$res = api($E, 'PATCH', "/files/$plan->{file_id}", { folder_id => J(api($E, 'GET', '/folders/root'))->{id} });
is($res->code, 409, "... into the editor's own files: 409");
is(J($res)->{type} =~ /other-owner$/ ? 1 : 0, 1, '... other-owner');
my ($o_used0, $e_used0) = map { J(api($_, 'GET', '/me/storage'))->{used} } $O, $E;
my $up = upload_small($E, '/api/v1/uploads', 'from-eddie.txt', 'e' x 3000, folder_id => $docs->{id});
ok($up->{file_id}, 'the editor uploads into the shared folder');
ok(!exists $up->{download_url}, '... answered without a share link (the file is the owner\'s)');
is(psql("SELECT owner_id || ' ' || kek_user_id FROM files WHERE id = '$up->{file_id}'"),
   $uid->($mail{owner}) . ' ' . $uid->($mail{owner}), "... the owner's file, sealed under the owner's key");
is(J(api($O, 'GET', '/me/storage'))->{used}, $o_used0 + 3000, "... counted against the owner's quota");
is(J(api($E, 'GET', '/me/storage'))->{used}, $e_used0, "... not the editor's");
is(api($O, 'GET', "/files/$up->{file_id}/content")->content, 'e' x 3000, '... the owner reads it');
is(api($E, 'PATCH', "/folders/$proj->{id}", { name => 'Renamed' })->code, 403, 'renaming the shared folder itself: 403');
is(api($E, 'DELETE', "/folders/$proj->{id}")->code, 403, '... trashing it: 403');
is(api($E, 'POST', "/folders/$proj->{id}/shares", { email => $mail{out}, role => 'viewer' })->code, 403,
   'an editor inviting people: 403');

# --- A viewer ---------------------------------------------------------------------------------------
my $sh_v = J(api($O, 'POST', "/folders/$proj->{id}/shares", { email => $mail{view}, role => 'viewer' }));
is(api($V, 'POST', "/shares/$sh_v->{id}/accept")->code, 200, 'a viewer accepts');
is(J(api($V, 'GET', "/folders/$proj->{id}"))->{role}, 'viewer', '... role viewer');
is(api($V, 'GET', "/files/$plan->{file_id}/content")->code, 200, '... reads a file');
is(api($V, 'PATCH', "/files/$plan->{file_id}", { name => 'x.txt' })->code, 403, '... renaming it: 403');
is(api($V, 'DELETE', "/files/$plan->{file_id}")->code, 403, '... trashing it: 403');
is(api($V, 'POST', '/folders', { name => 'V', parent_id => $proj->{id} })->code, 403, '... making a folder: 403');
is(api($V, 'POST', '/uploads/encrypted/initiate', { filename => 'v.txt', size => 3, folder_id => $proj->{id} })->code,
   403, '... uploading into it: 403');

is(api($V, 'POST', '/comments', { file_id => $plan->{file_id}, body => 'hi' })->code, 403, '... commenting: 403');
is(api($V, 'GET', "/comments?file_id=$plan->{file_id}")->code, 200, '... reading comments: 200');
$res = api($V, 'GET', "/folders/$proj->{id}/shares");
is($res->code, 200, 'members see who else is in the folder');
is_deeply([ sort map { $_->{email} } @{ J($res)->{shares} } ], [ sort $mail{ed}, $mail{view} ], '... both shares');
is(J($res)->{owner}{name}, 'Olga Owner', '... and the owner');
is(api($V, 'PATCH', "/shares/$sh_e->{id}", { role => 'viewer' })->code, 403, "a viewer changing someone's role: 403");

# --- The outsider ---------------------------------------------------------------------------------------
for my $c ([ 'GET', "/folders/$proj->{id}" ], [ 'GET', "/files/$plan->{file_id}/content" ],
           [ 'GET', "/folders/$proj->{id}/shares" ], [ 'PATCH', "/shares/$sh_e->{id}", { role => 'viewer' } ],
           [ 'DELETE', "/shares/$sh_e->{id}" ], [ 'GET', "/comments?file_id=$plan->{file_id}" ],
           [ 'POST', '/comments', { file_id => $plan->{file_id}, body => 'hello' } ],
           [ 'GET', "/folders/$proj->{id}/activity" ], [ 'PATCH', "/files/$plan->{file_id}", { name => 'o.txt' } ]) {
    is(api($X, @$c)->code, 404, "the outsider: $c->[0] $c->[1] is 404");
}

# --- Comments and mentions ------------------------------------------------------------------------------
my $mark = psql("SELECT coalesce(max(id), 0) FROM notifications");
$res = api($E, 'POST', '/comments', { file_id => $plan->{file_id},
                                      body => "Looks good \@$mail{view}, and \@$mail{out} cannot see this." });
is($res->code, 201, 'POST /comments: 201');
my $c1 = J($res);
is_deeply([ keys %$c1 ], ['id'], '... {"id"}');
ok(wait_until(sub { psql("SELECT count(*) FROM notifications WHERE id > $mark AND type = 'comment.created' "
                         . "AND user_id = '" . $uid->($mail{view}) . "'") == 1 }, 10), 'the mentioned viewer is told');
ok(mail_to($mail{view}, 10, qr/mentioned you/), '... and mailed');
ok(wait_until(sub { psql("SELECT count(*) FROM notifications WHERE id > $mark AND type = 'comment.created' "
                         . "AND user_id = '" . $uid->($mail{owner}) . "'") == 1 }, 10), 'the owner hears of the comment');
is(psql("SELECT count(*) FROM notifications WHERE id > $mark AND user_id = '" . $uid->($mail{out}) . "'"), 0,
   'the mentioned outsider, who cannot see the file, is told nothing');
$res = api($E, 'POST', '/comments', { file_id => $plan->{file_id}, body => 'a reply', reply_to => $c1->{id} });
is($res->code, 201, 'a reply');
my $c2 = J($res);
$res = api($O, 'POST', '/comments', { file_id => $plan->{file_id}, body => 'a reply to the reply', reply_to => $c2->{id} });
my $c3 = J($res);
$res = api($V, 'GET', "/comments?file_id=$plan->{file_id}");
my @cs = @{ J($res)->{comments} };
is_deeply([ map { $_->{id} } @cs ], [ $c1->{id}, $c2->{id}, $c3->{id} ], 'GET /comments: the comment, then its replies');
is_deeply([ map { $_->{parent_id} } @cs[1, 2] ], [ $c1->{id}, $c1->{id} ], '... one level: a reply to a reply answers the top');
is($cs[0]{author}{name}, 'Eddie Editor', "... with the author's name");
$res = api($E, 'PATCH', "/comments/$c1->{id}", { body => 'Looks very good' });
is($res->code, 200, 'the author edits within 15 minutes');
ok(J($res)->{edited_at}, '... marked edited');
is(api($O, 'PATCH', "/comments/$c1->{id}", { body => 'not mine' })->code, 403, "someone else's comment: 403");
psql("UPDATE comments SET created_at = now() - interval '16 minutes' WHERE id = '$c2->{id}'");
is(api($E, 'PATCH', "/comments/$c2->{id}", { body => 'late' })->code, 403, 'an edit after 15 minutes: 403');
is(api($V, 'DELETE', "/comments/$c2->{id}")->code, 403, "a viewer deleting another's comment: 403");
is(api($O, 'DELETE', "/comments/$c2->{id}")->code, 204, 'the owner deletes it: 204');
$res = api($E, 'POST', '/comments', { folder_id => $proj->{id}, body => 'a note on the folder' });
is($res->code, 201, 'a comment on a folder');
is(scalar @{ J(api($O, 'GET', "/comments?folder_id=$proj->{id}"))->{comments} }, 1, '... listed for the folder');

# What the filter refuses, and other bad comments.
$res = api($E, 'POST', '/comments', { file_id => $plan->{file_id}, body => 'This is a ForbiddenWord here' });
is($res->code, 422, 'a refused word: 422');
is(J($res)->{reason}, 'it contains a refused word', '... with the reason');
$res = api($E, 'POST', '/comments', { file_id => $plan->{file_id},
                                      body => join(' ', map { "https://e$_.example" } 1 .. 4) });
is($res->code, 422, 'four links (LenzContentLinks 3): 422');
is(J($res)->{reason}, 'it has more than 3 links', '... with the reason');
is(api($E, 'POST', '/comments', { file_id => $plan->{file_id}, body => '   ' })->code, 400, 'only spaces: 400');
is(api($E, 'POST', '/comments', { file_id => $plan->{file_id}, body => 'x' x 10001 })->code, 400, 'over 10,000 characters: 400');
is(api($E, 'POST', '/comments', { file_id => $plan->{file_id}, folder_id => $proj->{id}, body => 'x' })->code, 400,
   'a file and a folder at once: 400');
is(api($E, 'POST', '/comments', { file_id => $plan->{file_id}, body => 'x', reply_to => $secret->{file_id} })->code, 404,
   'a reply to something that is no comment here: 404');
my $gone = upload_small($O, '/api/v1/uploads', 'old.txt', 'old', folder_id => $proj->{id});
is(api($O, 'DELETE', "/files/$gone->{file_id}")->code, 204, 'the owner trashes a file');
$res = api($O, 'POST', '/comments', { file_id => $gone->{file_id}, body => 'too late' });
is($res->code, 409, '... a comment on it: 409');
is(api($E, 'POST', '/comments', { file_id => $gone->{file_id}, body => 'too late' })->code, 404,
   '... 404 to the editor, who cannot see the trash');

# --- Activity -------------------------------------------------------------------------------------------
my @verbs;
ok(wait_until(sub {
    @verbs = map { $_->{verb} } @{ J(api($O, 'GET', "/folders/$proj->{id}/activity?limit=200"))->{activity} };
    (grep { $_ eq 'commented' } @verbs) >= 2 && grep { $_ eq 'trashed' } @verbs }, 10),
   'the folder feed has the comments and the trashed file');
for my $v ('invited', 'joined', 'created', 'renamed', 'commented', 'trashed') {
    ok((grep { $_ eq $v } @verbs), "... and \"$v\"");
}
my $feed = J(api($O, 'GET', "/folders/$proj->{id}/activity?after=0&limit=200"));
my @ids = map { $_->{id} } @{ $feed->{activity} };
is_deeply(\@ids, [ sort { $a <=> $b } @ids ], 'after=0: oldest first');
my $last = $feed->{next_cursor};
is(scalar @{ J(api($O, 'GET', "/folders/$proj->{id}/activity", undef, 'Last-Event-ID' => $last))->{activity} }, 0,
   'resuming with Last-Event-ID at the end: nothing new');
api($E, 'POST', '/folders', { name => 'Later', parent_id => $docs->{id} });
ok(wait_until(sub { my @a = @{ J(api($O, 'GET', "/folders/$proj->{id}/activity", undef, 'Last-Event-ID' => $last))->{activity} };
                    @a == 1 && $a[0]{item_name} eq 'Later' }, 10), '... then exactly the change made since');
is(api($O, 'GET', "/folders/$proj->{id}/activity?after=x")->code, 400, 'after=x: 400');
is(api($O, 'GET', "/folders/$proj->{id}/activity?limit=0")->code, 400, 'limit=0: 400');

my $mine = J(api($O, 'GET', '/activity?limit=200'));
ok(grep({ $_->{actor}{name} eq 'Eddie Editor' } @{ $mine->{activity} }), "the owner's feed: the editor's changes");
ok(!grep({ ($_->{actor}{id} // '') eq $uid->($mail{owner}) } @{ $mine->{activity} }), '... none of their own');
$res = api($O, 'POST', '/activity/seen', { last_id => $mine->{next_cursor} + 0 });
is($res->code, 200, 'POST /activity/seen');
is(scalar @{ J(api($O, 'GET', '/activity'))->{activity} }, 0, '... then nothing is new');
api($O, 'POST', '/activity/seen', { last_id => 1 });
is(scalar @{ J(api($O, 'GET', '/activity'))->{activity} }, 0, '... and seen never moves back');
ok(scalar @{ J(api($E, 'GET', '/activity?limit=200'))->{activity} } > 0, "the editor's feed: the owner's changes");

# --- Live: a change reaches the share members' open pages -------------------------------------------------
my ($sock, $status) = sse_open('/events/stream', bearer($V));
is($status, 200, 'the viewer opens the event stream');
1 while sse_next($sock, 0.5);
api($O, 'POST', '/folders', { name => 'Live', parent_id => $proj->{id} });
my $ev;
my $until = time + 5;
while (time < $until) {
    my $e = sse_next($sock, 1) or next;
    if (($e->{event} // '') eq 'storage') { $ev = $e; last }
}
ok($ev, 'a folder made by the owner reaches the viewer as "event: storage"');
like($ev ? $ev->{data} : '', qr/\Q$proj->{id}\E/, '... naming the shared folder');
close $sock;

# --- Roles change, people leave, shares end -----------------------------------------------------------------
$res = api($O, 'PATCH', "/shares/$sh_e->{id}", { role => 'viewer' });
is($res->code, 200, 'PATCH /shares/{id}: 200');
is(J($res)->{role}, 'viewer', '... now a viewer');
is(api($E, 'PATCH', "/files/$plan->{file_id}", { name => 'plan-v3.txt' })->code, 403, '... who can no longer rename');
is(api($O, 'PATCH', "/shares/$sh_e->{id}", { role => 'boss' })->code, 400, 'a role that does not exist: 400');
is(api($O, 'DELETE', "/shares/$sh_v->{id}")->code, 204, 'the owner revokes the viewer: 204');
is(api($V, 'GET', "/folders/$proj->{id}")->code, 404, '... who then gets 404 for the folder');
is(api($V, 'GET', "/comments?file_id=$plan->{file_id}")->code, 404, '... and for its comments');
is(api($E, 'DELETE', "/shares/$sh_e->{id}")->code, 204, 'the editor leaves: 204');
is(api($E, 'GET', "/folders/$proj->{id}")->code, 404, '... and the folder is 404 to them');

# An invitation declined, and made again.
my $sh_c = J(api($O, 'POST', "/folders/$proj->{id}/shares", { email => $mail{com}, role => 'commenter' }));
is(api($C, 'POST', "/shares/$sh_c->{id}/decline")->code, 200, 'an invitation declined: 200');
is(api($C, 'GET', "/folders/$proj->{id}")->code, 404, '... no access');
$res = api($O, 'POST', "/folders/$proj->{id}/shares", { email => $mail{com}, role => 'commenter' });
is($res->code, 201, 'the owner invites again after a decline: 201');
is(api($C, 'POST', "/shares/$sh_c->{id}/accept")->code, 200, '... accepted this time');
is(api($C, 'POST', '/comments', { folder_id => $proj->{id}, body => 'a commenter writes' })->code, 201,
   'a commenter comments');
is(api($C, 'POST', '/folders', { name => 'C', parent_id => $proj->{id} })->code, 403, "... but cannot add folders");

# An address without an account: a mail that leads through sign-up.
my $newbie = "new-$tag\@example.org";
$res = api($O, 'POST', "/folders/$proj->{id}/shares", { email => $newbie, role => 'viewer' });
is($res->code, 201, 'inviting an address without an account: 201');
my $sh_n = J($res);
$m = mail_to($newbie, 10, qr/Project/);
ok($m, '... a mail goes to it');
like($m // '', qr{/account/register}, '... leading to sign-up');
my $N = member($newbie);
my ($n_in) = grep { $_->{id} eq $sh_n->{id} } @{ J(api($N, 'GET', '/shares/incoming'))->{shares} };
ok($n_in, 'once they have an account, the invitation waits for them');
is(api($N, 'POST', "/shares/$sh_n->{id}/accept")->code, 200, '... they accept');
is(api($N, 'GET', "/folders/$proj->{id}")->code, 200, '... and see the folder');

# A shared folder in the trash holds no access; restored, it does again.
is(api($O, 'DELETE', "/folders/$proj->{id}")->code, 204, 'the owner trashes the shared folder');
is(api($N, 'GET', "/folders/$proj->{id}")->code, 404, '... the member gets 404');
ok(!grep({ $_->{id} eq $sh_n->{id} } @{ J(api($N, 'GET', '/shares/incoming'))->{shares} }), '... and it leaves their list');
is(api($O, 'POST', "/trash/$proj->{id}/restore")->code, 200, 'restored');
is(api($N, 'GET', "/folders/$proj->{id}")->code, 200, '... the member sees it again');

# The access function itself (sql/024).
my ($o, $n, $x) = map { $uid->($mail{$_} // $_) } 'owner', $newbie, 'out';
is(psql("SELECT lenz_access('$o', 'folder', '$docs->{id}')"), 5, "lenz_access: the owner's rank 5");
is(psql("SELECT lenz_access('$n', 'folder', '$docs->{id}')"), 1, '... a viewer of the folder above: 1');
is(psql("SELECT lenz_access('$x', 'file', '$plan->{file_id}')"), 0, '... an outsider: 0');
is(psql("SELECT lenz_access('$n', 'comment', '$c1->{id}')"), 1, "... a comment: its item's rank");

# The invitations limit, on a second httpd whose LenzCollabLimits allows 5
# an hour (the test server's are high for the route walk).
my ($base2, $stop2) = second_httpd(offset => 800, config => 'LenzCollabLimits invites=5');
my $lots = J(api($C, 'POST', '/folders', { name => 'Lots' }));
my ($codes, $last_code) = (0, 0);
for my $i (1 .. 6) {
    $last_code = http_req('POST', "$base2/api/v1/folders/$lots->{id}/shares",
                          [ bearer($C), 'Content-Type' => 'application/json' ],
                          encode_json({ email => "l$i-$tag\@example.org", role => 'viewer' }))->code;
    $codes++ if $last_code == 201;
}
is($codes, 5, 'LenzCollabLimits invites=5: five invitations an hour go out');
is($last_code, 429, '... the sixth: 429');
$stop2->();

done_testing();
