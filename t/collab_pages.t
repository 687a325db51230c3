# The collaboration pages (issue 18, item 11), as a browser without
# scripts uses them: an owner invites from the folder's people page, the
# invitee accepts on "Shared with me" and lands in the folder, whose page
# then offers only what their role allows; comments on a folder and on a
# file (with a reply), the recent activity, roles changed and people
# removed from the page; an outsider's every page and form is 404.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('cp');
my %mail = map { $_ => "$_-$tag\@example.org" } qw(own viewer out);
my %tok;
for my $w (sort keys %mail) { $tok{$w} = member($mail{$w}) }
psql("UPDATE users SET name = 'Pat Owner' WHERE email = '$mail{own}'");
psql("UPDATE users SET name = 'Vic Viewer' WHERE email = '$mail{viewer}'");

my %cookie;
for my $who (keys %mail) {
    my $res = form('/account/login', { email => $mail{$who}, password => 'correct horse battery', next => '/files' });
    $cookie{$who} = cookie_of($res);
}
sub page { my ($who, $path) = @_; http_get($path, Cookie => $cookie{$who}, Accept => 'text/html') }
sub post_form {
    my ($who, $path, %f) = @_;
    my $csrf = csrf_of(page($who, '/collab/shares'));
    my $body = join '&', map { esc($_) . '=' . esc($f{$_}) } sort keys %f;
    return http_req('POST', $path, [ 'Content-Type' => 'application/x-www-form-urlencoded', Origin => origin(),
                                     Cookie => $cookie{$who}, Accept => 'text/html' ],
                    join('&', grep { length } $body, 'csrf=' . esc($csrf)));
}
sub loc { my $l = $_[0]->header('Location') // ''; $l =~ s{^https?://[^/]+}{}; $l }

my $team = J(api($tok{own}, 'POST', '/folders', { name => 'Team' }));
my $doc = upload_small($tok{own}, '/api/v1/uploads', 'notes.txt', 'team notes', folder_id => $team->{id});

# --- The owner's people page -----------------------------------------------------------------------
my $res = page('own', "/collab/folder/$team->{id}");
is($res->code, 200, 'the people page of a folder');
like($res->content, qr{<h1>Team: people and activity</h1>}, '... titled');
like($res->content, qr{<legend>Invite someone</legend>}, '... with the invitation form for the owner');
like(page('own', "/files/folder/$team->{id}")->content, qr{href="[^"]*/collab/folder/$team->{id}">People, comments and activity},
     'the folder page links it');
$res = post_form('own', "/collab/folder/$team->{id}/invite", email => $mail{viewer}, role => 'viewer');
is($res->code, 303, 'inviting through the form: 303');
is(loc($res), "/collab/folder/$team->{id}", '... back to the people page');
like(page('own', "/collab/folder/$team->{id}")->content, qr{\Q$mail{viewer}\E.*?<td>viewer</td><td>invited</td>}s,
     '... which lists the invitation');
$res = post_form('own', "/collab/folder/$team->{id}/invite", email => $mail{viewer}, role => 'viewer');
is($res->code, 409, 'the same address again: 409 ...');
like($res->header('Content-Type'), qr{text/html}, '... as a page');
like($res->content, qr/Shared already/, '... saying why');
$res = post_form('own', "/collab/folder/$team->{id}/invite", email => 'nope', role => 'viewer');
is($res->code, 400, 'a malformed address: 400');

# --- Accepting on "Shared with me" ----------------------------------------------------------------------
$res = page('viewer', '/collab/shares');
is($res->code, 200, '"Shared with me"');
like($res->content, qr{<strong>Pat Owner</strong> invites you to the folder <strong>Team</strong> as <strong>viewer</strong>},
     '... shows the invitation');
my ($sid) = $res->content =~ m{/collab/share/([0-9a-f-]{36})/accept};
ok($sid, '... with an Accept button');
$res = post_form('viewer', "/collab/share/$sid/accept");
is($res->code, 303, 'accepting: 303');
is(loc($res), "/files/folder/$team->{id}", '... into the folder');
$res = page('viewer', "/files/folder/$team->{id}");
is($res->code, 200, 'the viewer opens the shared folder');
like($res->content, qr{Shared with you as <strong>viewer</strong>}, '... told their role');
like($res->content, qr{notes\.txt}, '... sees the file');
unlike($res->content, qr{/files/folder/$team->{id}/new}, '... no form to make folders');
unlike($res->content, qr{/files/item/$doc->{file_id}/rename}, '... no rename');
unlike($res->content, qr{/files/share\?item=}, '... no share links (the owner\'s)');
like($res->content, qr{<a href="[^"]*/collab/shares" data-id="">Shared with me</a>}, '... the path starts at "Shared with me"');
like(page('viewer', '/collab/shares')->content, qr{<a href="[^"]*/files/folder/$team->{id}">Team</a>}, '... listed as held');

# --- Comments ----------------------------------------------------------------------------------------------
$res = post_form('viewer', "/collab/file/$doc->{file_id}/comment", body => 'can I?');
is($res->code, 403, 'a viewer commenting through the form: 403 page');
$res = post_form('own', "/collab/file/$doc->{file_id}/comment", body => "Read this, \@$mail{viewer}\nplease");
is($res->code, 303, 'the owner comments on the file: 303');
like(loc($res), qr{^/collab/file/$doc->{file_id}#c-[0-9a-f-]{36}$}, '... back to the comment');
my ($cid) = loc($res) =~ /#c-(.+)$/;
$res = post_form('own', "/collab/file/$doc->{file_id}/comment", body => 'a reply', reply_to => $cid);
is($res->code, 303, '... and replies to it');
$res = page('viewer', "/collab/file/$doc->{file_id}");
is($res->code, 200, 'the file\'s comments page');
like($res->content, qr{<p class="comment-body">Read this, \@\Q$mail{viewer}\E\nplease</p>}, '... the comment, its line break kept');
like($res->content, qr{<ol class="replies">.*a reply}s, '... its reply below it');
unlike($res->content, qr{Add a comment}, '... no comment form for a viewer');
$res = post_form('own', "/collab/folder/$team->{id}/comment", body => 'ForbiddenWord here');
is($res->code, 422, 'a refused word through the form: 422 page');
like($res->content, qr/it contains a refused word/, '... with the reason');
$res = post_form('own', "/collab/folder/$team->{id}/comment", body => '<script>alert(1)</script>');
is($res->code, 303, 'a comment with markup');
like(page('viewer', "/collab/folder/$team->{id}")->content, qr{&lt;script&gt;alert\(1\)&lt;/script&gt;}, '... shown as text');

# --- Activity, roles, removal ------------------------------------------------------------------------------------
ok(wait_until(sub { page('own', "/collab/folder/$team->{id}")->content =~ /Vic Viewer joined/ }, 10),
   'the activity shows the viewer joining');
# (events are dispatched by the runners after the request: wait for it)
ok(wait_until(sub { page('own', "/collab/folder/$team->{id}")->content =~ /Pat Owner commented on Team/ }, 10),
   '... and the comment');
$res = post_form('own', "/collab/share/$sid/role", role => 'editor', folder => $team->{id});
is($res->code, 303, 'the role changed through the form');
like(page('viewer', "/files/folder/$team->{id}")->content, qr{/files/item/$doc->{file_id}/rename}, '... the editor now can rename');
$res = post_form('viewer', "/collab/share/$sid/role", role => 'co-owner', folder => $team->{id});
is($res->code, 403, 'an editor raising their own role: 403');
$res = post_form('own', "/collab/share/$sid/remove");
is($res->code, 303, 'the owner removes them');
is(page('viewer', "/files/folder/$team->{id}")->code, 404, '... and the folder is 404 to them');

# --- Messages ---------------------------------------------------------------------------------------------------------
$res = post_form('own', '/collab/messages/new', to => $mail{viewer}, body => "Hello Vic\nhow are you?");
is($res->code, 303, 'a conversation started through the form: 303');
my ($conv) = loc($res) =~ m{^/collab/messages/([0-9a-f-]{36})$};
ok($conv, '... to the conversation');
like(page('viewer', '/collab/messages')->content, qr{Pat Owner</strong></a> <span class="tag">1 unread</span>},
     'the recipient\'s list: the conversation, 1 unread');
$res = page('viewer', "/collab/messages/$conv");
is($res->code, 200, 'the conversation page');
like($res->content, qr{<p class="comment-body">Hello Vic\nhow are you\?</p>}, '... the message, its line break kept');
like(page('viewer', '/collab/messages')->content, qr{<p>0 unread\.</p>}, '... and seeing it marked it read');
is(post_form('viewer', "/collab/messages/$conv/send", body => 'Fine, thanks')->code, 303, 'a reply through the form');
like(page('own', "/collab/messages/$conv")->content, qr{Fine, thanks}, '... which the sender sees');
is(page('out', "/collab/messages/$conv")->code, 404, "an outsider's GET of it: 404");
is(post_form('out', "/collab/messages/$conv/send", body => 'hi')->code, 404, '... sending into it: 404');
is(post_form('own', '/collab/messages/new', to => "nobody-$tag\@example.org", body => 'x')->code, 404,
   'to an address without an account: 404');

# --- Ownership ---------------------------------------------------------------------------------------------------
my $ho = J(api($tok{own}, 'POST', '/folders', { name => 'Handover' }));
my $hs = J(api($tok{own}, 'POST', "/folders/$ho->{id}/shares", { email => $mail{viewer}, role => 'editor' }));
api($tok{viewer}, 'POST', "/shares/$hs->{id}/accept");
$res = page('own', "/collab/folder/$ho->{id}");
like($res->content, qr{<legend>Give ownership to a member</legend>}, "the owner's page offers to give the folder away");
like($res->content, qr{<option>\Q$mail{viewer}\E</option>}, '... to its member');
unlike(page('viewer', "/collab/folder/$ho->{id}")->content, qr{Give ownership}, "... a member's page does not");
is(post_form('viewer', "/collab/folder/$ho->{id}/transfer", email => $mail{viewer})->code, 403,
   '... and the form answers them 403');
$res = post_form('own', "/collab/folder/$ho->{id}/transfer", email => $mail{viewer});
is($res->code, 303, 'offered through the form: 303');
like(page('own', "/collab/folder/$ho->{id}")->content, qr{You offered ownership to <strong>\Q$mail{viewer}\E</strong>},
     '... the owner sees the offer pending');
like(page('viewer', "/collab/folder/$ho->{id}")->content, qr{Pat Owner offers you ownership of this folder},
     '... the member sees it with Accept and Decline');
$res = post_form('viewer', "/collab/folder/$ho->{id}/transfer/accept");
is($res->code, 303, 'accepted through the form: 303');
is(loc($res), "/files/folder/$ho->{id}", '... into the folder, now theirs');
is(J(api($tok{viewer}, 'GET', "/folders/$ho->{id}"))->{role}, 'owner', '... its owner');
like(page('own', "/collab/folder/$ho->{id}")->content, qr{Your role: <strong>co-owner</strong>},
     '... the former owner a co-owner');
ok(wait_until(sub { page('own', "/collab/folder/$ho->{id}")->content =~ /Vic Viewer became the owner; \Q$mail{own}\E is a co-owner now/ }, 10),
   '... as the activity says');
is(post_form('out', "/collab/folder/$ho->{id}/transfer/accept")->code, 404, 'the outsider accepting: 404');

# --- The outsider ----------------------------------------------------------------------------------------------------
for my $p ("/collab/folder/$team->{id}", "/collab/file/$doc->{file_id}", "/files/folder/$team->{id}") {
    $res = page('out', $p);
    is($res->code, 404, "the outsider: GET $p is 404");
    like($res->header('Content-Type'), qr{text/html}, '... a page');
}
is(post_form('out', "/collab/folder/$team->{id}/invite", email => $mail{out}, role => 'viewer')->code, 404,
   'the outsider inviting: 404');
is(post_form('out', "/collab/file/$doc->{file_id}/comment", body => 'hi')->code, 404, 'the outsider commenting: 404');
is(post_form('out', "/collab/share/$sid/accept")->code, 404, 'the outsider accepting a share: 404');
$res = http_req('POST', "/collab/folder/$team->{id}/comment", [ 'Content-Type' => 'application/x-www-form-urlencoded',
                Origin => origin(), Cookie => $cookie{own}, Accept => 'text/html' ], 'body=no+token');
is($res->code, 403, 'a form without the CSRF token: 403');

done_testing();
