# The file manager's sharing pages (issue 16), as a browser without
# scripts uses them: the link dialog for a file, a folder and the items
# ticked in a folder (the link shown once, working), the Shared page with
# links, transfers and file requests (revoke, close), asking for files
# into a folder, the ticked items moved and deleted together, and the
# member's default for where uploads go (the form, GET/PATCH
# /api/v1/me/storage, the upload page's box).  Other members' items are
# "not found"; every form needs the CSRF token.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('fp');
my $email = "a-$tag\@example.org";
my $A = member($email);
my $B = member("b-$tag\@example.org");

# Signed in through the form, as a browser.
my $res = form('/account/login', { email => $email, password => 'correct horse battery', next => '/files' });
is($res->code, 303, 'signed in through the form');
my $cookie = cookie_of($res);
sub page { http_get($_[0], Cookie => $cookie, Accept => 'text/html') }
my $csrf = csrf_of(page('/files'));
ok($csrf, 'the files page carries a CSRF token');
# A form with repeated fields: [name => value, ...].
sub post_form {
    my ($path, @pairs) = @_;
    my @kv;
    push @kv, esc(shift @pairs) . '=' . esc(shift @pairs) while @pairs;
    return http_req('POST', $path, [ 'Content-Type' => 'application/x-www-form-urlencoded', Origin => origin(),
                                     Cookie => $cookie, Accept => 'text/html' ], join('&', @kv));
}
sub link_of { $_[0]->content =~ /id="link" class="link" type="url" readonly value="([^"]+)"/ ? $1 : undef }
sub path_of { my $u = shift // ''; $u =~ s{^https?://[^/]+}{}; $u }

my $docs = J(api($A, 'POST', '/folders', { name => 'Docs' }));
my $f1 = upload_small($A, '/api/v1/uploads', 'one.txt', 'first file', folder_id => $docs->{id})->{file_id};
my $f2 = upload_small($A, '/api/v1/uploads', 'two.txt', 'second file', folder_id => $docs->{id})->{file_id};

# --- The folder page's new parts --------------------------------------------------------------------
$res = page("/files/folder/$docs->{id}");
is($res->code, 200, 'the folder page');
like($res->content, qr{<form id="bulk" method="post" action="[^"]*/files/bulk"}, '... has the form for ticked items');
like($res->content, qr{<input type="checkbox" name="item" value="file:$f1" form="bulk" aria-label="Pick one\.txt">},
     '... a named checkbox per row, tied to it');
like($res->content, qr{href="[^"]*/files/share\?item=file:$f1"}, '... a Share link per row');
like($res->content, qr{href="[^"]*/files/folder/$docs->{id}/request">Request files into this folder}, '... and "Request files into this folder"');
like(page("/files/folder/$docs->{id}/request")->content, qr{action="[^"]*/files/folder/$docs->{id}/request"},
     '... which opens its form');
like(page('/files')->content, qr{<a href="[^"]*/files/shared"[^>]*>Shared</a>}, 'the header links the Shared page');
like(page('/files/shared')->content, qr{<a href="[^"]*/files/shared" aria-current="page">Shared</a>},
     '... marked current there');

# --- The link dialog: one file ----------------------------------------------------------------------
$res = page("/files/share?item=file:$f1");
is($res->code, 200, 'the link dialog for a file');
like($res->content, qr{<li>one\.txt</li>}, '... names it');
like($res->content, qr{name="item" value="file:$f1"}, '... and carries it');
$res = post_form('/files/share', csrf => $csrf, item => "file:$f1", days => 7, max_downloads => 2, password => '',
                 recipients => '');
is($res->code, 201, 'Create link: 201');
my $url = link_of($res);
ok($url, '... the link shown once') or diag $res->content;
is(http_get(path_of($url))->content, 'first file', '... and it serves the file');
$res = post_form('/files/share', item => "file:$f1", days => 7);
is($res->code, 403, 'without the CSRF token: 403');
is(page('/files/share?item=file:' . upload_small($B, '/api/v1/uploads', 'b.txt', 'B')->{file_id})->code, 404,
   "the dialog for B's file: 404");
$res = post_form('/files/share', csrf => $csrf, item => "file:$f1", days => 7, recipients => "ok\@example.org\nbad-address");
is($res->code, 400, 'a bad recipient: the dialog again, 400');
like($res->content, qr/role="alert".*bad-address/s, '... naming it');
$res = post_form('/files/share', csrf => $csrf, item => "file:$f1", days => 9999);
is($res->code, 400, 'an expiry past LenzLinkExpiry: 400');

# --- A folder, and ticked files ------------------------------------------------------------------------
$res = post_form('/files/share', csrf => $csrf, item => "folder:$docs->{id}", days => 1, password => 'pw 123');
is($res->code, 201, 'a link to the folder, with a password');
my $furl = path_of(link_of($res));
is(http_get("$furl/info")->code, 200, '... it works');
is_deeply(J(http_get("$furl/info"))->{requires}, ['password'], '... behind its password');
my $root = J(api($A, 'GET', '/folders/root'))->{id};
is(post_form('/files/share', csrf => $csrf, item => "folder:$root", days => 1)->code, 409, 'the top folder: 409');
is(post_form('/files/share', csrf => $csrf, item => "folder:$docs->{id}", item => "file:$f1", days => 1)->code, 400,
   'a folder with files in one link: 400');

$res = post_form('/files/bulk', csrf => $csrf, action => 'share', item => "file:$f1", item => "file:$f2",
                 back => "/files/folder/$docs->{id}");
is($res->code, 200, 'two ticked files, "Share": the dialog');
like($res->content, qr{<li>one\.txt</li>\s*<li>two\.txt</li>}, '... naming both');
$res = post_form('/files/share', csrf => $csrf, item => "file:$f1", item => "file:$f2", days => 1);
is($res->code, 201, '... and a link for both');
is_deeply([ sort map { $_->{name} } @{ J(http_get(path_of(link_of($res)) . '/info'))->{files} } ], [ 'one.txt', 'two.txt' ],
          '... that serves both');

# --- The Shared page -----------------------------------------------------------------------------------
upload_small($A, '/api/v1/uploads', 'sent.bin', 'a transfer');   # a transfer with its link, from the upload API
$res = page('/files/shared');
is($res->code, 200, 'the Shared page');
like($res->content, qr{<h2 id="links-title">Links</h2>.*one\.txt <span class="tag">file</span>.*<h2 id="transfers-title">}s,
     '... lists the file link');
like($res->content, qr{Docs <span class="tag">folder</span>}, '... the folder link');
like($res->content, qr{Docs <span class="tag">folder</span> <span class="tag">password</span>}, '... marking the password');
like($res->content, qr{2 files <span class="tag">files</span>}, '... and the set');
like($res->content, qr{<h2 id="transfers-title">My transfers</h2>.*sent\.bin}s, '... the transfer under My transfers');
like($res->content, qr{<td class="num">1 of 2</td>}, "... with the file link's downloads (1 of 2)");
my ($fid) = $res->content =~ m{action="[^"]*/files/shared/link/([0-9a-f-]{36})/revoke">\s*<input[^>]*>\s*<button type="submit">Revoke<span class="visually-hidden"> the link to one\.txt};
ok($fid, '... a Revoke button per live link');
is(post_form("/files/shared/link/$fid/revoke", csrf => $csrf)->code, 303, 'Revoke: 303 back');
is(http_get(path_of($url))->code, 410, '... the link answers 410');
like(page('/files/shared')->content, qr{one\.txt <span class="tag">file</span>.*?revoked}s, '... listed as revoked');

# --- A file request from the folder page --------------------------------------------------------------
$res = post_form("/files/folder/$docs->{id}/request", csrf => $csrf, title => 'Receipts', message => 'Please',
                 days => 3, max_files => 2, password => '');
is($res->code, 201, 'Request files: 201');
my $rurl = path_of(link_of($res));
like($rurl, qr{^/upload/request/}, '... the upload link shown once');
is(J(http_get($rurl, Accept => 'application/json'))->{title}, 'Receipts', '... which opens the request');
$res = page('/files/shared');
like($res->content, qr{<th scope="row">Receipts</th><td>Docs</td>}, 'the Shared page lists the request');
my ($rid) = $res->content =~ m{/files/shared/request/([0-9a-f-]{36})/close};
is(post_form("/files/shared/request/$rid/close", csrf => $csrf)->code, 303, 'Close: 303');
is(http_get($rurl, Accept => 'application/json')->code, 410, '... the request answers 410');
my $bdir = J(api($B, 'POST', '/folders', { name => 'Bdir' }));
is(post_form("/files/folder/$bdir->{id}/request", csrf => $csrf, days => 3)->code, 404, "a request into B's folder: 404");

# --- Ticked items moved and deleted together ---------------------------------------------------------
my $dest = J(api($A, 'POST', '/folders', { name => 'Archive' }));
$res = post_form('/files/bulk', csrf => $csrf, action => 'move', to => $dest->{id}, item => "file:$f1",
                 item => "file:$f2", back => "/files/folder/$docs->{id}");
is($res->code, 303, 'two ticked files moved: 303 back to the folder');
like($res->header('Location'), qr{/files/folder/$docs->{id}$}, '... to the folder they were in');
is_deeply([ sort map { $_->{name} } @{ J(api($A, 'GET', "/folders/$dest->{id}"))->{children} } ], [ 'one.txt', 'two.txt' ],
          '... both are in Archive');
$res = post_form('/files/bulk', csrf => $csrf, action => 'delete', item => "file:$f1", item => "folder:$docs->{id}");
is($res->code, 303, 'a file and a folder ticked and deleted');
is_deeply([ sort map { $_->{name} } @{ J(api($A, 'GET', '/trash'))->{items} } ], [ 'Docs', 'one.txt' ], '... both in the trash');
my $bf = upload_small($B, '/api/v1/uploads', 'bb.txt', 'B2')->{file_id};
$res = post_form('/files/bulk', csrf => $csrf, action => 'delete', item => "file:$f2", item => "file:$bf");
is($res->code, 409, "one of B's files among them: 409, the page says what was not done");
like($res->content, qr/1 of the 2 items could not be deleted/, '... 1 of 2');
is(api($B, 'GET', "/files/$bf/content")->code, 200, "... B's file is untouched");
is(post_form('/files/bulk', csrf => $csrf, action => 'explode', item => "file:$f2")->code, 400, 'an unknown action: 400');

# --- Changing a link on the Shared page -------------------------------------------------------------
my $lk = J(api($A, 'POST', '/links', { file_id => $f2 }));
$res = post_form("/files/shared/link/$lk->{id}/limits", csrf => $csrf, days => 2, max_downloads => 9);
is($res->code, 303, 'Change on the Shared page: 303');
my ($row) = grep { $_->{id} eq $lk->{id} } @{ J(api($A, 'GET', '/links'))->{links} };
is($row->{max_downloads}, 9, '... the link allows 9 downloads now');
is(post_form("/files/shared/link/$lk->{id}/limits", csrf => $csrf, days => 0)->code, 400, '... 0 days: 400');
my $blink = J(api($B, 'POST', '/links', { file_id => $bf }));
is(post_form("/files/shared/link/$blink->{id}/limits", csrf => $csrf, days => 2)->code, 404, "... B's link: 404");

# --- The list's order and pages ------------------------------------------------------------------------
my $big = J(api($A, 'POST', '/folders', { name => 'Big' }));
my ($rc, $out) = ctl('fill-folder', '--user', $email, '--folder', $big->{id}, '--count', 205, '--prefix', 'row');
is($rc, 0, 'lenzctl fill-folder: 205 files in Big') or diag $out;
$res = page("/files/folder/$big->{id}");
my @names = $res->content =~ m{<th scope="row">([^<]+)</th>}g;
is(scalar @names, 200, 'the folder page shows 200 rows');
like($res->content, qr{<th scope="col" aria-sort="ascending"><a href="[^"]*\?sort=name&amp;order=desc">Name}, '... by name, ascending, the header links the other way');
my ($next) = $res->content =~ m{<a href="([^"]+)">Next page</a>};
ok($next, '... and a Next page link');
$next =~ s/&amp;/&/g;
$res = page(path_of($next));
is(scalar(() = $res->content =~ m{<th scope="row">}g), 5, '... which shows the last 5');
$res = page("/files/folder/$big->{id}?sort=size&order=desc");
my @sizes = map { s/<[^>]*>//gr } $res->content =~ m{<td class="num">([^<]*)</td>}g;
like($res->content, qr{<th scope="col" class="num" aria-sort="descending">}, 'sorted by size, descending');
my $psize = psql("SELECT name FROM files WHERE folder_id = '$big->{id}' ORDER BY size DESC, name LIMIT 1");
my ($first) = $res->content =~ m{<th scope="row">([^<]+)</th>};
is($first, $psize, '... the largest file first');
is(page("/files/folder/$big->{id}?sort=colour")->code, 400, 'an unknown sort: 400');
is(page("/files/folder/$big->{id}?cursor=nonsense")->code, 400, 'a cursor not ours: 400');

# --- Where uploads go ------------------------------------------------------------------------------
$res = api($A, 'GET', '/me/storage');
is_deeply([ @{ J($res) }{qw(policy upload_default)} ], [ 'choice', 'encrypted' ], 'GET /me/storage: policy choice, default encrypted');
like(page('/upload/')->content, qr{<input id="encrypt" name="encrypt" type="checkbox" checked}, '... the upload page box ticked');
like(page('/files')->content, qr{<input type="radio" name="upload_default" value="encrypted" checked>}, '... the files page says so');
is(post_form('/files/settings', csrf => $csrf, upload_default => 'plain')->code, 303, 'the default set to plain on the page');
is(J(api($A, 'GET', '/me/storage'))->{upload_default}, 'plain', '... the API says plain');
like(page('/upload/')->content, qr{<input id="encrypt" name="encrypt" type="checkbox" aria-describedby}, '... the box starts unticked');
$res = api($A, 'PATCH', '/me/storage', { upload_default => 'encrypted' });
is($res->code . ' ' . J($res)->{upload_default}, '200 encrypted', 'PATCH /me/storage back to encrypted');
$res = api($A, 'PATCH', '/me/storage', { upload_default => 'sideways' });
is($res->code . ' ' . (J($res)->{field} // ''), '400 upload_default', '... anything else: 400');
is(post_form('/files/settings', csrf => $csrf, upload_default => 'sideways')->code, 400, '... on the page too');
is(J(api($B, 'GET', '/me/storage'))->{upload_default}, 'encrypted', "B's default is their own");

done_testing();
