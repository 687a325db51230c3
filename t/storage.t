# Secure storage through /api/v1 (issue 16): a member's tree of folders,
# their files in it, names (unique per folder, case-insensitive after NFC,
# "name (2)" suggested on a clash), moves (a folder with everything below
# it, one statement), If-Match, the trash (delete, restore, empty), storage
# use kept exact under parallel uploads and deletes, search with typos,
# keyset pages; bad input answers 400 with the field; another member's ids
# answer 404 on every route, as ids that do not exist do.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Encode qw(encode_utf8);
use File::Temp ();
use LWP::UserAgent;
use Lenz::Test;
use Lenz::Jobs;

my $env = stack_env();
my $top = top_dir();
my $tag = uniq('st');
my $PW = 'correct horse battery';
my $J = JSON::PP->new->canonical->utf8;
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";

sub member {
    my ($email) = @_;
    my $out = `echo '$PW' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --password-stdin 2>&1`;
    die "create-user: $out" if $?;
    my $res = post_json('/api/v1/auth/login', { email => $email, password => $PW });
    die 'login: ' . $res->content unless $res->code == 200;
    return json_of($res)->{access_token};
}
my $A = member("a-$tag\@example.org");
my $B = member("b-$tag\@example.org");
sub api {
    my ($tok, $method, $path, $body, @h) = @_;
    return http_req($method, "/api/v1$path", [bearer($tok), 'Content-Type' => 'application/json', @h],
                    defined $body ? $J->encode($body) : undef);
}
sub J { my $r = shift; my $j = eval { JSON::PP->new->decode($r->content) }; $j // {} }
my %link_of;                    # file id -> its transfer's share-link token
sub upload {
    my ($tok, $name, $data, %o) = @_;
    my $res = api($tok, 'POST', '/uploads/encrypted/initiate', { filename => $name, size => length $data, %o });
    die 'initiate: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    my $i = J($res);
    $res = http_req('POST', "/api/v1/uploads/encrypted/upload-part?token=$i->{token}&part=1", [bearer($tok)], $data);
    die 'part: ' . $res->content unless $res->code == 200;
    $res = api($tok, 'POST', '/uploads/encrypted/complete', { token => $i->{token} });
    die 'complete: ' . $res->content unless $res->code == 201;
    $link_of{ J($res)->{file_id} } = J($res)->{token};
    return J($res)->{file_id};
}
sub names_in { my ($tok, $id, $q) = @_; [ map { $_->{name} } @{ J(api($tok, 'GET', "/folders/$id" . ($q // '')))->{children} } ] }

# --- The root and folders -------------------------------------------------------------
my $res = api($A, 'GET', '/folders/root');
is($res->code, 200, 'GET /folders/root: 200');
my $root = J($res);
is($root->{path}, '/', '... path /');
is($root->{parent_id}, undef, '... no parent');
is_deeply($root->{children}, [], '... empty');
ok(exists $root->{next_cursor} && !defined $root->{next_cursor}, '... next_cursor null');

$res = api($A, 'POST', '/folders', { name => 'Docs' });
is($res->code, 201, 'POST /folders: 201');
my $docs = J($res);
is_deeply([ @$docs{qw(type name parent_id path)} ], [ 'folder', 'Docs', $root->{id}, '/Docs' ], '... the folder');
ok($docs->{etag} && $res->header('ETag') eq $docs->{etag}, '... with its ETag');
my $sub = J(api($A, 'POST', '/folders', { name => 'Sub', parent_id => $docs->{id} }));
is($sub->{path}, '/Docs/Sub', 'a folder in a folder: /Docs/Sub');

$res = api($A, 'POST', '/folders', { name => 'docs' });
is($res->code, 409, 'a name differing in case only: 409');
is(J($res)->{suggested_name}, 'docs (2)', '... suggested_name "docs (2)"');
is(J($res)->{field}, 'name', '... field name');
my $e1 = J(api($A, 'POST', '/folders', { name => "caf\x{e9}" }));
$res = api($A, 'POST', '/folders', { name => "cafe\x{301}" });
is($res->code, 409, 'the same name after NFC (e + combining acute): 409');

for my $bad ('', '.', '..', 'a/b', 'a\\b', "a\x{0}b", "a\tb", ('x' x 256), "ok\x{202e}txt.exe") {
    $res = api($A, 'POST', '/folders', { name => $bad });
    is($res->code . ' ' . (J($res)->{field} // ''), '400 name', 'bad name ' . $J->encode([$bad]) . ': 400 field name');
}
$res = http_req('POST', '/api/v1/folders', [bearer($A), 'Content-Type' => 'application/json'],
                "{\"name\":\"a\xff\"}");
is($res->code, 400, 'invalid UTF-8 in the body: 400');

# Depth: LenzFolderDepth (32 by default) below the root.
my $parent = $root->{id};
my $made = 0;
for my $d (1 .. 32) {
    my $r = api($A, 'POST', '/folders', { name => "d$d", parent_id => $parent });
    last unless $r->code == 201;
    $made++;
    $parent = J($r)->{id};
}
is($made, 32, 'folders nest 32 deep');
$res = api($A, 'POST', '/folders', { name => 'd33', parent_id => $parent });
is($res->code, 400, 'the 33rd level: 400');
is(J($res)->{field}, 'parent_id', '... field parent_id');

# --- Moves and renames --------------------------------------------------------------------
my $d1 = J(api($A, 'GET', '/folders/root'))->{children};
($d1) = grep { $_->{name} eq 'd1' } @$d1;
$res = api($A, 'PATCH', "/folders/$d1->{id}", { parent_id => $d1->{id} });
is($res->code, 409, 'a folder into itself: 409');
$res = api($A, 'PATCH', "/folders/$d1->{id}", { parent_id => $parent });
is($res->code, 409, 'a folder into its own descendant: 409');
$res = api($A, 'PATCH', "/folders/$d1->{id}", { parent_id => $docs->{id} });
is($res->code, 400, 'a move that would nest 33 deep: 400');
$res = api($A, 'PATCH', "/folders/$sub->{id}", { parent_id => $root->{id} });
is($res->code, 200, 'a move to the root: 200');
is(J($res)->{path}, '/Sub', '... its path follows');
$res = api($A, 'PATCH', "/folders/$d1->{id}", { name => 'deep' });
is($res->code, 200, 'rename a folder with 31 levels below it');
my $leaf = J(api($A, 'GET', "/folders/$parent"));
is($leaf->{path}, '/deep/' . join('/', map { "d$_" } 2 .. 32), '... the deepest path changed with it (one statement)');

my $fid = upload($A, 'report.pdf', 'r' x 1000);
my $list = J(api($A, 'GET', '/folders/root'));
my ($file) = grep { $_->{type} eq 'file' } @{ $list->{children} };
is($file->{id}, $fid, "a member's upload lands in their root");
is($file->{size}, 1000, '... with its size');
upload($A, 'Report.PDF', 'x');
ok(grep({ $_ eq 'Report (2).PDF' } @{ names_in($A, 'root') }), 'another upload of that name (in another case) is stored as "Report (2).PDF"');

$res = api($A, 'PATCH', "/files/$fid", { folder_id => $docs->{id} }, 'If-Match' => '"1"');
is($res->code, 412, 'PATCH with a stale If-Match: 412');
$res = api($A, 'PATCH', "/files/$fid", { folder_id => $docs->{id}, name => 'Report 2024.pdf' }, 'If-Match' => $file->{etag});
is($res->code, 200, 'move and rename a file with its ETag: 200');
is(J($res)->{path}, '/Docs/Report 2024.pdf', '... now /Docs/Report 2024.pdf');
$res = api($A, 'PATCH', "/files/$fid", { name => 'Sub' , folder_id => 'root' });
is($res->code, 409, 'a file into a name a folder has there: 409');

# Two renames into one name at once: one wins, never two equal names.
my @ids = map { J(api($A, 'POST', '/folders', { name => "race$_-$tag" }))->{id} } 1 .. 6;
my @pids;
for my $id (@ids) {
    my $pid = fork // die;
    if (!$pid) { api($A, 'PATCH', "/folders/$id", { name => "winner-$tag" }); require POSIX; POSIX::_exit(0) }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
is(psql("SELECT count(*) FROM folders WHERE name = 'winner-$tag' AND trashed_at IS NULL"), 1,
   'six parallel renames into one name: exactly one has it');

# --- Trash ---------------------------------------------------------------------------------
my $keep = upload($A, 'keep.txt', 'k' x 10);
api($A, 'PATCH', "/files/$keep", { folder_id => $sub->{id} });
$res = api($A, 'DELETE', "/folders/$sub->{id}");
is($res->code, 204, 'DELETE a folder: 204 (to the trash)');
is(api($A, 'GET', "/folders/$sub->{id}")->code, 404, '... it is gone from the tree');
is(api($A, 'PATCH', "/files/$keep", { name => 'x.txt' })->code, 404, '... and so is the file in it');
$res = api($A, 'POST', '/folders', { name => 'Sub' });
is($res->code, 201, '... its name is free again');
my $sub2 = J($res);
my $trash = J(api($A, 'GET', '/trash'));
my ($item) = grep { $_->{id} eq $sub->{id} } @{ $trash->{items} };
is_deeply([ @$item{qw(type name original_path)} ], [ 'folder', 'Sub', '/Sub' ], 'the trash lists it with where it was');
ok($item->{trashed_at}, '... and when');
$res = api($A, 'POST', "/trash/$sub->{id}/restore");
is($res->code, 200, 'restore: 200');
is(J($res)->{name}, 'Sub (2)', '... named "Sub (2)": its name was taken meanwhile');
is(J(api($A, 'GET', "/folders/$sub->{id}"))->{children}[0]{id}, $keep, '... with its file');
api($A, 'DELETE', "/folders/$docs->{id}");
api($A, 'DELETE', "/files/$keep");
is(api($A, 'DELETE', '/folders/root')->code, 409, 'the root cannot be deleted: 409');
$res = api($A, 'POST', "/trash/$fid/restore");
is($res->code, 404, 'a file inside a trashed folder is not a trash item: 404');

my $st = J(api($A, 'GET', '/me/storage'));
is($st->{used}, 1011, 'GET /me/storage: used counts every stored byte (1000 + 1 + 10)');
is($st->{trash}, 1010, '... trash the bytes in the trash (1000 in Docs, 10 of keep.txt)');
ok($st->{quota} > 0, '... quota');
$res = api($A, 'DELETE', '/trash');
is($res->code, 204, 'DELETE /trash: 204');
is_deeply(J(api($A, 'GET', '/trash'))->{items}, [], '... the trash is empty');
is(J(api($A, 'GET', '/me/storage'))->{used}, 1, '... and the storage used is 1 byte');
is(psql("SELECT count(*) FROM s3_garbage g JOIN files f ON f.s3_key = g.s3_key"), 0,
   '... the emptied files are gone, their objects queued for deletion');

# --- Listing pages, sorts, search -------------------------------------------------------------
my $big = J(api($A, 'POST', '/folders', { name => "many-$tag" }))->{id};
api($A, 'POST', '/folders', { name => sprintf('f%02d', $_), parent_id => $big }) for reverse 1 .. 25;
my (@seen, $cursor, $pages);
do {
    my $page = J(api($A, 'GET', "/folders/$big?limit=10" . ($cursor ? "&cursor=$cursor" : '')));
    push @seen, map { $_->{name} } @{ $page->{children} };
    $cursor = $page->{next_cursor};
    $pages++;
} while ($cursor && $pages < 10);
is($pages, 3, 'twenty-five children in pages of ten: three pages');
is_deeply(\@seen, [ map { sprintf('f%02d', $_) } 1 .. 25 ], '... by name, none twice, none missed');
is(names_in($A, $big, '?sort=name&order=desc&limit=3')->[0], 'f25', 'order=desc');
is(api($A, 'GET', "/folders/$big?sort=colour")->code, 400, 'an unknown sort: 400');
# Sizes and times sort as numbers, not as their text ("9" before "10").
{
    my $C = member("sz-$tag\@example.org");    # (A's storage figures are checked below)
    my $sz = J(api($C, 'POST', '/folders', { name => 'Sizes' }))->{id};
    upload($C, "s$_.bin", 'x' x $_, folder_id => $sz) for 9, 10, 100;
    is_deeply(names_in($C, $sz, '?sort=size&order=desc'), [ 's100.bin', 's10.bin', 's9.bin' ], 'sort=size&order=desc: by bytes');
    is_deeply(names_in($C, $sz, '?sort=size'), [ 's9.bin', 's10.bin', 's100.bin' ], 'sort=size: by bytes, ascending');
    my $p1 = J(api($C, 'GET', "/folders/$sz?sort=size&limit=1"));
    my $p2 = J(api($C, 'GET', "/folders/$sz?sort=size&limit=1&cursor=$p1->{next_cursor}"));
    is($p2->{children}[0]{name}, 's10.bin', '... and the cursor pages in the same order');
    is_deeply(names_in($C, $sz, '?sort=modified'), [ 's9.bin', 's10.bin', 's100.bin' ], 'sort=modified: oldest first');
    my @seen;
    my $cur = '';
    for (1 .. 4) {
        my $pg = J(api($C, 'GET', "/folders/$sz?sort=modified&order=desc&limit=1" . ($cur ? "&cursor=$cur" : '')));
        push @seen, map { $_->{name} } @{ $pg->{children} };
        last unless $cur = $pg->{next_cursor};
    }
    is_deeply(\@seen, [ 's100.bin', 's10.bin', 's9.bin' ], '... newest first, page by page through the cursor');
}
is(api($A, 'GET', "/folders/$big?limit=0")->code, 400, 'limit 0: 400');
is(api($A, 'GET', "/folders/$big?cursor=bm90IG91cnM")->code, 400, 'a cursor not ours: 400');
my $inv = upload($A, 'invoice-2024.pdf', 'i' x 5);
$res = api($A, 'GET', '/files/search?q=invoce');
is($res->code, 200, 'search: 200');
my ($hit) = grep { $_->{id} eq $inv } @{ J($res)->{results} };
ok($hit, '"invoce" finds invoice-2024.pdf');
is($hit && $hit->{path}, '/invoice-2024.pdf', '... with its path');
is(scalar(@{ J(api($B, 'GET', '/files/search?q=invoice'))->{results} }), 0, "another member's search finds none of it");

# --- Another member's ids: 404 everywhere, like ids that do not exist ------------------------
my $afolder = J(api($A, 'POST', '/folders', { name => "mine-$tag" }))->{id};
my $atrash = J(api($A, 'POST', '/folders', { name => "binned-$tag" }))->{id};
api($A, 'DELETE', "/folders/$atrash");
my $none = '00000000-0000-0000-0000-000000000001';
for my $case (
    [ 'GET', "/folders/%s", undef, $afolder ],
    [ 'PATCH', "/folders/%s", { name => 'x' }, $afolder ],
    [ 'DELETE', "/folders/%s", undef, $afolder ],
    [ 'PATCH', "/files/%s", { name => 'x' }, $inv ],
    [ 'DELETE', "/files/%s", undef, $inv ],
    [ 'POST', "/trash/%s/restore", undef, $atrash ],
    [ 'POST', '/folders', { name => 'x', parent_id => '%s' }, $afolder ],
) {
    my ($m, $p, $body, $id) = @$case;
    my @got = map {
        my $x = $_;
        my $b = $body ? $J->decode($J->encode($body) =~ s/%s/$x/r) : undef;
        my $r = api($B, $m, $p =~ /%s/ ? sprintf($p, $x) : $p, $b);
        $r->code . ' ' . (J($r)->{type} // '');
    } $id, $none;
    is($got[0], $got[1], "$m " . ($p =~ /%s/ ? sprintf($p, '{id}') : "$p (parent_id)") . ": another member's id answers as one that does not exist ($got[0])");
    like($got[0], qr/^404 /, '... 404');
}
is(api($A, 'GET', "/folders/$afolder")->code, 200, "... and the owner's folder is untouched");

# --- Reading one's own files: content (as downloads send it) and a safe preview -----------
{
    my $data = join '', map { chr(($_ * 7) % 251) } 1 .. 300_000;
    my $id = upload($A, 'data.bin', $data);
    $res = api($A, 'GET', "/files/$id/content");
    is($res->code, 200, 'GET /files/{id}/content: 200');
    ok($res->content eq $data, '... the bytes, decrypted (300000)');
    like($res->header('Content-Disposition') // '', qr/^attachment/, '... as an attachment');
    my $etag = $res->header('ETag');
    $res = api($A, 'GET', "/files/$id/content", undef, Range => 'bytes=100000-100009');
    is($res->code, 206, '... a Range: 206');
    ok($res->content eq substr($data, 100000, 10), '... those ten bytes');
    is(api($A, 'GET', "/files/$id/content", undef, 'If-None-Match' => $etag)->code, 304, '... If-None-Match: 304');
    $res = http_req('HEAD', "/api/v1/files/$id/content", [bearer($A)]);
    is($res->code . ' ' . ($res->header('Content-Length') // ''), '200 300000', '... HEAD: the length, no body');
    is(api($B, 'GET', "/files/$id/content")->code, 404, "... another member's read: 404");
    is(api($A, 'GET', '/files/00000000-0000-0000-0000-000000000009/content')->code, 404, '... an unknown id: 404');

    my $html = upload($A, 'page.html', '<script>alert(1)</script><b>hi</b>', content_type => 'text/html');
    $res = api($A, 'GET', "/files/$html/preview");
    is($res->code, 200, 'GET /files/{id}/preview: 200');
    like($res->header('Content-Type') // '', qr{^text/plain}, '... HTML is shown as text/plain');
    like($res->header('Content-Disposition') // '', qr/^inline/, '... inline');
    like($res->header('Content-Security-Policy') // '', qr/\bsandbox\b/, '... in a sandbox');
    like($res->header('Content-Security-Policy') // '', qr/default-src 'none'/, "... default-src 'none'");
    is($res->header('X-Content-Type-Options'), 'nosniff', '... nosniff');
    my $png = upload($A, 'pic.png', "\x89PNG\r\n\x1a\n" . ('p' x 100), content_type => 'image/png');
    is(api($A, 'GET', "/files/$png/preview")->header('Content-Type'), 'image/png', 'an image previews as itself');

    # A share link follows its file into the trash and back.
    my $tok = $link_of{$id};
    is(http_get("/download/$tok")->code, 200, 'the file\'s share link works');
    api($A, 'DELETE', "/files/$id");
    is(http_get("/download/$tok")->code, 410, '... 410 while the file is in the trash');
    is(api($A, 'GET', "/files/$id/content")->code, 404, '... and its content is not found');
    is(api($A, 'POST', "/trash/$id/restore")->code, 200, 'restored');
    is(http_get("/download/$tok")->code, 200, '... the link works again');
    my $f2 = J(api($A, 'POST', '/folders', { name => "linked-$tag" }))->{id};
    api($A, 'PATCH', "/files/$id", { folder_id => $f2 });
    api($A, 'DELETE', "/folders/$f2");
    is(http_get("/download/$tok")->code, 410, '... 410 again when the folder it is in goes to the trash');
    api($A, 'POST', "/trash/$f2/restore");
    is(http_get("/download/$tok")->code, 200, '... and 200 once the folder is back');
    api($A, 'DELETE', "/folders/$f2");
    api($A, 'DELETE', "/files/$html");
    api($A, 'DELETE', "/files/$png");
    api($A, 'DELETE', '/trash');
}

# --- Copies: a server-side S3 copy, nothing decrypted or sealed again -----------------------
{
    my $data = join '', map { chr(($_ * 13) % 251) } 1 .. 200_000;
    my $orig = upload($A, 'orig.bin', $data);
    my $used0 = J(api($A, 'GET', '/me/storage'))->{used};
    my $dest = J(api($A, 'POST', '/folders', { name => "copies-$tag" }))->{id};
    my $res = api($A, 'POST', "/files/$orig/copy", { folder_id => $dest });
    is($res->code, 201, 'POST /files/{id}/copy into a folder: 201');
    my $copy = J($res);
    is_deeply([ @$copy{qw(type name path)} ], [ 'file', 'orig.bin', "/copies-$tag/orig.bin" ], '... the copy, named as the original');
    isnt($copy->{id}, $orig, '... a file of its own');
    ok(api($A, 'GET', "/files/$copy->{id}/content")->content eq $data, '... which reads back the same bytes');
    is(J(api($A, 'GET', '/me/storage'))->{used}, $used0 + 200_000, '... and counts in the storage used');
    $res = api($A, 'POST', "/files/$orig/copy", {});
    is($res->code, 409, 'a copy into the same folder under the same name: 409');
    is(J($res)->{suggested_name}, 'orig (2).bin', '... suggesting "orig (2).bin"');
    $res = api($A, 'POST', "/files/$orig/copy", { name => 'orig (2).bin' });
    is($res->code, 201, '... which a second try takes');
    is(psql("SELECT count(*) FROM files WHERE crypt_id = '$orig'"), 2, 'both copies share the original\'s encryption (crypt_id)');
    is(psql("SELECT count(DISTINCT s3_key) FROM files WHERE id = '$orig' OR crypt_id = '$orig'"), 3, '... each with an object of its own');
    is(api($B, 'POST', "/files/$orig/copy", {})->code, 404, "another member's copy: 404");
    is(api($A, 'POST', "/files/$orig/copy", { folder_id => '00000000-0000-0000-0000-00000000000b' })->code, 404,
       'a copy into a folder that is not there: 404');
    api($A, 'DELETE', "/files/$orig");
    api($A, 'DELETE', '/trash');
    ok(api($A, 'GET', "/files/$copy->{id}/content")->content eq $data, 'the original gone, the copy still reads back whole');
    api($A, 'DELETE', "/folders/$dest");
    api($A, 'DELETE', "/files/" . (grep { $_->{name} eq 'orig (2).bin' } @{ J(api($A, 'GET', '/folders/root?limit=1000'))->{children} })[0]{id});
    api($A, 'DELETE', '/trash');
}

# --- Uploads into a folder (folder_id at initiate) ----------------------------------------
{
    my $into = J(api($A, 'POST', '/folders', { name => "inbox-$tag" }))->{id};
    my $id = upload($A, 'into.txt', 'abc', folder_id => $into);
    is(names_in($A, $into)->[0], 'into.txt', 'initiate with folder_id: the file lands in that folder');
    is(upload($A, 'rooted.txt', 'abc', folder_id => 'root') ? 1 : 0, 1, 'folder_id "root" works too');
    my $res = api($B, 'POST', '/uploads/encrypted/initiate', { filename => 'x.txt', size => 3, folder_id => $into });
    is($res->code, 404, "initiate into another member's folder: 404");
    is(J($res)->{field}, 'folder_id', '... field folder_id');
    $res = api($A, 'POST', '/uploads/encrypted/initiate', { filename => 'x.txt', size => 3,
                                                            folder_id => '00000000-0000-0000-0000-00000000000a' });
    is($res->code, 404, '... into a folder that does not exist: the same 404');
    $res = http_req('POST', '/upload/guest/encrypted/initiate', ['Content-Type' => 'application/json'],
                    $J->encode({ filename => 'x.txt', size => 3, folder_id => $into }));
    is($res->code, 400, '... a guest naming a folder: 400');
    api($A, 'DELETE', "/folders/$into");
    api($A, 'DELETE', "/files/" . (grep { $_->{name} eq 'rooted.txt' } @{ J(api($A, 'GET', '/folders/root?limit=1000'))->{children} })[0]{id});
    api($A, 'DELETE', '/trash');
}

# --- Storage use stays exact under parallel uploads and deletes ----------------------------
my @up;
for my $n (1 .. 8) {
    my $pid = fork // die;
    if (!$pid) {
        my $id = eval { upload($A, "par-$n.bin", 'p' x (1000 * $n)) };
        api($A, 'DELETE', "/files/$id") if $id && $n % 2;
        require POSIX;
        POSIX::_exit(0);
    }
    push @up, $pid;
}
waitpid $_, 0 for @up;
api($A, 'DELETE', '/trash');
my $aid = psql("SELECT id FROM users WHERE email = 'a-$tag\@example.org'");
is(psql("SELECT used FROM storage_usage WHERE user_id = '$aid'"),
   psql("SELECT coalesce(sum(size), 0) FROM files WHERE owner_id = '$aid' AND state <> 'deleted'"),
   'after eight parallel uploads and four deletes the use kept is the sum of the files');
is(J(api($A, 'GET', '/me/storage'))->{used}, 1 + 5 + 2000 + 4000 + 6000 + 8000, '... 20006 bytes');

# --- The quota holds for initiates at once (the usage row is locked) ----------------------
{
    my ($base, $stop) = second_httpd(offset => 600, config => 'LenzMemberQuota 10K');
    my $C = member("c-$tag\@example.org");
    my @pids;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    for my $n (1 .. 8) {
        my $pid = fork // die;
        if (!$pid) {
            my $ua = LWP::UserAgent->new(timeout => 60);
            my $r = $ua->post("$base/api/v1/uploads/encrypted/initiate", 'Content-Type' => 'application/json',
                              Authorization => "Bearer $C",
                              Content => $J->encode({ filename => "q$n.bin", size => 3000 }));
            open my $fh, '>', "$dir/$n" or die;
            print $fh $r->code;
            close $fh;
            require POSIX;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my @codes = map { open my $fh, '<', "$dir/$_" or die; scalar <$fh> } 1 .. 8;
    is(scalar(grep { $_ == 201 } @codes), 3, "eight 3000-byte initiates at once against a 10K quota: three taken (@codes)");
    is(scalar(grep { $_ == 413 } @codes), 5, '... five refused 413');
    $stop->();
}

done_testing();
