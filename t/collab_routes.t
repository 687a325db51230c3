# Every route of the collaboration areas (shares, comments, activity,
# topics and posts, conversations, search; the API and the pages) walked
# by three members against a table: the owner of a shared folder, a member
# of the share (an editor), and an outsider.  Each call gets fresh
# fixtures, so what one call changes cannot decide another's answer.
# Other people's things are 404 like ids that do not exist; what a member
# sees but may not do is 403.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('cr');
my %mail = (O => "o-$tag\@example.org", M => "m-$tag\@example.org", X => "x-$tag\@example.org");
my (%tok, %cookie, %csrf);
for my $w (sort keys %mail) {
    $tok{$w} = member($mail{$w});
    $cookie{$w} = cookie_of(form('/account/login', { email => $mail{$w}, password => 'correct horse battery' }));
    $csrf{$w} = csrf_of(http_get('/collab/shares', Cookie => $cookie{$w}, Accept => 'text/html'));
}
my $n = 0;

# Fresh things to call the routes on: a folder shared with M as editor,
# a file and a comment in it, a topic for its members with a post, a
# conversation of O and M.
sub fixture {
    my %f;
    $n++;
    $f{F} = J(api($tok{O}, 'POST', '/folders', { name => "Shared $n" }))->{id};
    $f{S} = J(api($tok{O}, 'POST', "/folders/$f{F}/shares", { email => $mail{M}, role => 'editor' }))->{id};
    api($tok{M}, 'POST', "/shares/$f{S}/accept");
    $f{file} = upload_small($tok{O}, '/api/v1/uploads', "doc-$n.txt", 'text', folder_id => $f{F})->{file_id};
    $f{C} = J(api($tok{O}, 'POST', '/comments', { file_id => $f{file}, body => 'a comment' }))->{id};
    $f{T} = J(api($tok{O}, 'POST', '/topics', { title => "Topic $n", body => 'about', folder_id => $f{F} }))->{id};
    $f{P} = J(api($tok{O}, 'POST', "/topics/$f{T}/posts", { body => 'a post' }))->{id};
    $f{V} = J(api($tok{O}, 'POST', '/conversations', { members => [ $mail{M} ], body => 'hi' }))->{id};
    api($tok{O}, 'POST', "/folders/$f{F}/transfer", { email => $mail{M} });     # ownership offered to M
    return \%f;
}
sub fill { my ($s, $f) = @_; $s =~ s/\{(\w+)\}/$f->{$1} \/\/ die "no fixture $1"/ge; $s }

# [method, path, body (JSON for /api/v1, a form for pages), O, M, X]
my @api = (
    [ 'POST', '/folders/{F}/shares', { email => "new-$tag\@example.org", role => 'viewer' }, 201, 403, 404 ],
    [ 'GET', '/folders/{F}/shares', undef, 200, 200, 404 ],
    [ 'GET', '/shares/incoming', undef, 200, 200, 200 ],
    [ 'PATCH', '/shares/{S}', { role => 'viewer' }, 200, 403, 404 ],
    [ 'DELETE', '/shares/{S}', undef, 204, 204, 404 ],
    [ 'POST', '/shares/{S}/accept', undef, 403, 200, 404 ],
    [ 'POST', '/shares/{S}/decline', undef, 403, 409, 404 ],
    [ 'POST', '/folders/{F}/transfer', { email => $mail{M} }, 201, 403, 404 ],
    [ 'GET', '/folders/{F}/transfer', undef, 200, 200, 404 ],
    [ 'DELETE', '/folders/{F}/transfer', undef, 204, 204, 404 ],
    [ 'POST', '/folders/{F}/transfer/accept', undef, 404, 200, 404 ],
    [ 'POST', '/comments', { file_id => '{file}', body => 'hello' }, 201, 201, 404 ],
    [ 'GET', '/comments?file_id={file}', undef, 200, 200, 404 ],
    [ 'GET', '/comments?folder_id={F}', undef, 200, 200, 404 ],
    [ 'PATCH', '/comments/{C}', { body => 'edited' }, 200, 403, 404 ],
    [ 'DELETE', '/comments/{C}', undef, 204, 403, 404 ],
    [ 'GET', '/folders/{F}/activity', undef, 200, 200, 404 ],
    [ 'GET', '/activity', undef, 200, 200, 200 ],
    [ 'POST', '/activity/seen', { last_id => 1 }, 200, 200, 200 ],
    [ 'GET', '/folders/{F}', undef, 200, 200, 404 ],
    [ 'GET', '/files/{file}/content', undef, 200, 200, 404 ],
    [ 'PATCH', '/files/{file}', { name => 'renamed.txt' }, 200, 200, 404 ],
    [ 'PATCH', '/folders/{F}', { name => 'Renamed' }, 200, 403, 404 ],
    [ 'DELETE', '/files/{file}', undef, 204, 204, 404 ],
    [ 'POST', '/topics', { title => 'New', body => 'x', folder_id => '{F}' }, 201, 201, 404 ],
    [ 'GET', '/topics', undef, 200, 200, 200 ],
    [ 'GET', '/topics/{T}', undef, 200, 200, 404 ],
    [ 'PATCH', '/topics/{T}', { title => 'Changed' }, 200, 403, 404 ],
    [ 'PATCH', '/topics/{T}', { pinned => JSON::PP::true }, 403, 403, 404 ],
    [ 'DELETE', '/topics/{T}', undef, 204, 403, 404 ],
    [ 'POST', '/topics/{T}/posts', { body => 'reply' }, 201, 201, 404 ],
    [ 'POST', '/topics/{T}/vote', undef, 200, 200, 404 ],
    [ 'DELETE', '/topics/{T}/vote', undef, 200, 200, 404 ],
    [ 'POST', '/topics/{T}/join', undef, 204, 204, 404 ],
    [ 'DELETE', '/topics/{T}/join', undef, 204, 204, 404 ],
    [ 'PATCH', '/posts/{P}', { body => 'edited' }, 200, 403, 404 ],
    [ 'DELETE', '/posts/{P}', undef, 204, 403, 404 ],
    [ 'POST', '/posts/{P}/vote', undef, 200, 200, 404 ],
    [ 'DELETE', '/posts/{P}/vote', undef, 200, 200, 404 ],
    [ 'GET', '/conversations', undef, 200, 200, 200 ],
    [ 'GET', '/conversations/{V}', undef, 200, 200, 404 ],
    [ 'POST', '/conversations/{V}/messages', { body => 'more' }, 201, 201, 404 ],
    [ 'POST', '/conversations/{V}/read', { last_id => 1 }, 200, 200, 404 ],
    [ 'GET', '/search?q=doc', undef, 200, 200, 200 ],
);
my @pages = (
    [ 'GET', '/collab/shares', undef, 200, 200, 200 ],
    [ 'GET', '/collab/folder/{F}', undef, 200, 200, 404 ],
    [ 'GET', '/collab/file/{file}', undef, 200, 200, 404 ],
    [ 'GET', '/files/folder/{F}', undef, 200, 200, 404 ],
    [ 'GET', '/topics/', undef, 200, 200, 200 ],
    [ 'GET', '/topics/{T}', undef, 200, 200, 404 ],
    [ 'GET', '/search?q=doc', undef, 200, 200, 200 ],
    [ 'GET', '/collab/messages', undef, 200, 200, 200 ],
    [ 'GET', '/collab/messages/{V}', undef, 200, 200, 404 ],
    [ 'POST', '/collab/messages/{V}/send', { body => 'x' }, 303, 303, 404 ],
    [ 'POST', '/collab/folder/{F}/invite', { email => "p-$tag\@example.org", role => 'viewer' }, 303, 403, 404 ],
    [ 'POST', '/collab/folder/{F}/comment', { body => 'on the folder' }, 303, 303, 404 ],
    [ 'POST', '/collab/file/{file}/comment', { body => 'on the file' }, 303, 303, 404 ],
    [ 'POST', '/collab/share/{S}/role', { role => 'viewer' }, 303, 403, 404 ],
    [ 'POST', '/collab/share/{S}/remove', {}, 303, 303, 404 ],
    [ 'POST', '/collab/share/{S}/leave', {}, 303, 303, 404 ],
    [ 'POST', '/collab/share/{S}/accept', {}, 403, 303, 404 ],
    [ 'POST', '/collab/share/{S}/decline', {}, 403, 409, 404 ],
    [ 'POST', '/collab/folder/{F}/transfer', { email => $mail{M} }, 303, 403, 404 ],
    [ 'POST', '/collab/folder/{F}/transfer/accept', {}, 404, 303, 404 ],
    [ 'POST', '/collab/folder/{F}/transfer/cancel', {}, 303, 303, 404 ],
    [ 'POST', '/collab/comment/{C}/delete', {}, 303, 403, 404 ],
    [ 'POST', '/topics/new', { title => 'From the page', body => 'x' }, 303, 303, 303 ],
    [ 'POST', '/topics/{T}/post', { body => 'x' }, 303, 303, 404 ],
    [ 'POST', '/topics/{T}/vote', { up => 1 }, 303, 303, 404 ],
    [ 'POST', '/topics/{T}/join', {}, 303, 303, 404 ],
    [ 'POST', '/topics/{T}/leave', {}, 303, 303, 404 ],
    [ 'POST', '/topics/{T}/moderate', { do => 'pin' }, 403, 403, 404 ],
    [ 'POST', '/topics/post/{P}/vote', { up => 1 }, 303, 303, 404 ],
    [ 'POST', '/topics/post/{P}/delete', {}, 303, 403, 404 ],
);

my @who = qw(O M X);
for my $row (@api) {
    my ($m, $p, $b, @want) = @$row;
    for my $i (0 .. 2) {
        my $f = fixture();
        my $body = $b ? { map { my $v = $b->{$_}; $_ => (ref $v ? $v : fill($v, $f)) } keys %$b } : undef;
        my $res = api($tok{ $who[$i] }, $m, fill($p, $f), $body);
        is($res->code, $want[$i], "$who[$i]: $m /api/v1$p -> $want[$i]") or diag($res->content);
    }
}
for my $row (@pages) {
    my ($m, $p, $b, @want) = @$row;
    for my $i (0 .. 2) {
        my $f = fixture();
        my $w = $who[$i];
        my $res;
        if ($m eq 'GET') {
            $res = http_get(fill($p, $f), Cookie => $cookie{$w}, Accept => 'text/html');
        }
        else {
            my %form = (%$b, csrf => $csrf{$w});
            $res = http_req('POST', fill($p, $f), [ 'Content-Type' => 'application/x-www-form-urlencoded',
                            Origin => origin(), Cookie => $cookie{$w}, Accept => 'text/html' ],
                            join('&', map { esc($_) . '=' . esc($form{$_}) } sort keys %form));
        }
        is($res->code, $want[$i], "$w: $m $p -> $want[$i] (page)");
        like($res->header('Content-Type') // '', qr{text/html}, '... as a page') if $res->code >= 400;
    }
}

done_testing();
