# Sharing from the file manager (issue 16): share links to a folder (what
# it holds when the link is used, at any depth: a listing page for
# browsers, a ZIP streamed with the folders' paths kept, each file alone)
# and to a set of files; the link list names what each link holds; a
# folder in the trash takes its link with it until restored; another
# member's folder or files answer 404, the root 409.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use IO::Uncompress::Unzip qw($UnzipError);
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('sl');
my $A = member("a-$tag\@example.org");
my $B = member("b-$tag\@example.org");

sub up { my ($tok, $name, $data, $folder) = @_;
         upload_small($tok, '/api/v1/uploads', $name, $data, $folder ? (folder_id => $folder) : ())->{file_id} }
# The entries of a ZIP body: name => content.
sub unzip {
    my ($zip) = @_;
    my %e;
    return {} if substr($zip, 0, 4) eq "PK\x05\x06";     # no entries: the end record alone
    my $z = IO::Uncompress::Unzip->new(\$zip) or return { error => $UnzipError };
    for (my $st = 1; $st > 0; $st = $z->nextStream) {
        my $name = $z->getHeaderInfo->{Name};
        my ($buf, $all) = ('', '');
        while ((my $n = $z->read($buf)) > 0) { $all .= $buf }
        $e{$name} = $all;
    }
    return \%e;
}

my $trip = J(api($A, 'POST', '/folders', { name => 'Trip' }));
my $day1 = J(api($A, 'POST', '/folders', { name => 'Day 1', parent_id => $trip->{id} }));
my $a = up($A, 'a.jpg', 'A' x 300, $trip->{id});
my $b = up($A, 'b.jpg', 'B' x 200, $day1->{id});
my $outside = up($A, 'outside.txt', 'not in the trip');

# --- A folder's link ----------------------------------------------------------------------------
my $res = api($A, 'POST', '/links', { folder_id => $trip->{id}, max_downloads => 100 });
is($res->code, 201, 'POST /links {folder_id}: 201');
my $fl = J($res);
ok($fl->{token} && $fl->{url}, '... with its token and URL');
my $dl = "/download/$fl->{token}";

$res = http_get("$dl/info");
is($res->code, 200, 'its info: 200');
is_deeply([ sort map { "$_->{path}|$_->{name}|$_->{size}" } @{ J($res)->{files} } ],
          [ sort '|a.jpg|300', 'Day 1|b.jpg|200' ], '... both files, each with its path in the folder ("" at its top)');
is(J($res)->{folder}, 'Trip', '... and the folder named');
is(J($res)->{size}, 500, '... 500 bytes in all');

$res = http_get($dl, Accept => 'text/html');
is($res->code, 200, 'opened in a browser: a listing page');
like($res->content, qr/<h1[^>]*>Trip</, '... titled with the folder');
like($res->content, qr/a\.jpg.*Day 1\/.*b\.jpg/s, '... the files under their folders');
like($res->content, qr{href="[^"]*\Q$dl\E/zip"}, '... a link to everything as a ZIP');
like($res->content, qr{href="[^"]*\Q$dl\E/files/$b"}, '... and one per file');
unlike($res->content, qr/outside\.txt/, '... nothing from outside the folder');

$res = http_get($dl);
is($res->code, 200, 'fetched by a client: the ZIP');
is($res->header('Content-Type'), 'application/zip', '... application/zip');
like($res->header('Content-Disposition') // '', qr/Trip\.zip/, '... named after the folder');
is_deeply(unzip($res->content), { 'a.jpg' => 'A' x 300, 'Day 1/b.jpg' => 'B' x 200 },
          '... holding both files, decrypted, with their paths below the folder');
is(http_get("$dl/zip", Accept => 'text/html')->header('Content-Type'), 'application/zip',
   '/zip gives the ZIP to a browser too');
is(http_get("$dl/files/$b")->content, 'B' x 200, 'one file of the folder alone');
is(http_get("$dl/files/$outside")->code, 404, '... a file outside it: 404');

# The link serves what the folder holds now.
my $c = up($A, 'c.txt', 'new after the link', $day1->{id});
is_deeply([ sort keys %{ unzip(http_get("$dl/zip")->content) } ], [ 'Day 1/b.jpg', 'Day 1/c.txt', 'a.jpg' ],
          'a file added to the folder later is in the next ZIP');
is(api($A, 'PATCH', "/files/$b", { folder_id => 'root' })->code, 200, 'b.jpg is moved out of the folder');
ok(!grep({ $_->{name} eq 'b.jpg' } @{ J(http_get("$dl/info"))->{files} }), '... and is no longer shared');

# The trash takes the link with it until a restore.
is(api($A, 'DELETE', "/folders/$trip->{id}")->code, 204, 'the folder goes to the trash');
is(http_get("$dl/info")->code, 410, '... its link answers 410');
is(http_get($dl, Accept => 'text/html')->code, 410, '... its page too');
is(api($A, 'POST', "/trash/$trip->{id}/restore")->code, 200, 'the folder is restored');
is(http_get("$dl/info")->code, 200, '... and its link works again');

# An empty folder's link: an empty listing and an empty ZIP, not an error.
my $empty = J(api($A, 'POST', '/folders', { name => 'Empty' }));
my $el = J(api($A, 'POST', '/links', { folder_id => $empty->{id} }));
$res = http_get("/download/$el->{token}", Accept => 'text/html');
is($res->code, 200, "an empty folder's link: 200");
like($res->content, qr/empty/i, '... saying it is empty');
is_deeply(unzip(http_get("/download/$el->{token}/zip")->content), {}, '... and an empty ZIP');

# --- A set of files -------------------------------------------------------------------------------
$res = api($A, 'POST', '/links', { file_ids => [ $a, $outside, $a ] });
is($res->code, 201, 'POST /links {file_ids}: 201 (a repeated id counts once)');
my $sl = J($res);
is_deeply([ sort map { $_->{name} } @{ J(http_get("/download/$sl->{token}/info"))->{files} } ],
          [ 'a.jpg', 'outside.txt' ], '... both files, from two folders');
is_deeply(unzip(http_get("/download/$sl->{token}")->content), { 'a.jpg' => 'A' x 300, 'outside.txt' => 'not in the trip' },
          '... as one ZIP');
like(http_get("/download/$sl->{token}", Accept => 'text/html')->content, qr/outside\.txt/, '... and a listing page');

# --- The list names what each link holds -----------------------------------------------------------
my %mine = map { $_->{id} => $_ } @{ J(api($A, 'GET', '/links'))->{links} };
is_deeply([ @{ $mine{ $fl->{id} } }{qw(kind name folder_id max_downloads)} ], [ 'folder', 'Trip', $trip->{id}, 100 ],
          "GET /links: the folder link, kind folder, named after it");
is_deeply([ @{ $mine{ $sl->{id} } }{qw(kind name)} ], [ 'files', '2 files' ], '... the set, kind files');
ok($mine{ $fl->{id} }{downloads} >= 1, '... with its downloads counted');

# --- Bad input and other people's things ----------------------------------------------------------
my $bf = J(api($B, 'POST', '/folders', { name => 'Bs' }));
my $bfile = up($B, 'b-only.txt', 'B', $bf->{id});
is(api($A, 'POST', '/links', { folder_id => $bf->{id} })->code, 404, "A sharing B's folder: 404");
is(api($A, 'POST', '/links', { file_ids => [ $a, $bfile ] })->code, 404, "... a set with one of B's files: 404");
is(api($A, 'POST', '/links', { folder_id => '00000000-0000-0000-0000-000000000000' })->code, 404,
   '... a folder that does not exist: 404');
my $root = J(api($A, 'GET', '/folders/root'))->{id};
$res = api($A, 'POST', '/links', { folder_id => $root });
is($res->code . ' ' . (J($res)->{type} // ''), '409 ' . (J($res)->{type} // 'x'), 'the root folder: 409');
like(J($res)->{type} // '', qr/root-folder$/, '... root-folder');
for my $bad ([ { file_ids => [] }, 'file_ids' ], [ { file_ids => ['nope'] }, 'file_ids' ],
             [ { file_ids => [ ($a) x 1001 ] }, 'file_ids' ], [ { file_ids => 'x' }, 'file_ids' ],
             [ { folder_id => $trip->{id}, file_id => $a }, 'transfer_id' ], [ {}, 'file_id' ],
             [ { folder_id => 'nope' }, 'folder_id' ]) {
    $res = api($A, 'POST', '/links', $bad->[0]);
    is($res->code . ' ' . (J($res)->{field} // ''), "400 $bad->[1]", 'bad ' . encode_json($bad->[0]) . ": 400 $bad->[1]");
}

done_testing();
