# File requests (issue 16): a member's upload-only link into one of their
# folders.  Anyone with it sees a page naming the owner and the folder and
# nothing of the folder's content, uploads encrypted files with their name
# and a message; the files are the owner's (their folder, their key, their
# quota); the request's expiry, file count, size and password hold, also
# against uploads in parallel; the owner hears once per batch (a
# notification and a mail); closing it, its folder going to the trash and
# another member's ids all answer as they should.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Encode ();
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('fr');
my $A = member("a-$tag\@example.org");
my $B = member("b-$tag\@example.org");
psql("UPDATE users SET name = 'Ann Owner' WHERE email = 'a-$tag\@example.org'");

my $inbox = J(api($A, 'POST', '/folders', { name => 'Inbox' }));
ok($inbox->{id}, 'A has a folder Inbox');
upload_small($A, '/api/v1/uploads', 'secret-plan.txt', 'not for uploaders', folder_id => $inbox->{id});

# --- Creating one ---------------------------------------------------------------------------------
my $res = api($A, 'POST', '/file-requests', { folder_id => $inbox->{id}, title => 'Tax papers',
                                              message => 'Please send the 2025 receipts', max_files => 3,
                                              max_bytes => 5000 });
is($res->code, 201, 'POST /file-requests: 201');
my $fr = J($res);
ok($fr->{token} && $fr->{id}, '... with a token and an id');
like($fr->{url}, qr{/upload/request/\Q$fr->{token}\E$}, '... and the URL to hand out');
is_deeply([ @$fr{qw(folder_id folder title max_files max_bytes files_received closed has_password)} ],
          [ $inbox->{id}, 'Inbox', 'Tax papers', 3, 5000, 0, JSON::PP::false, JSON::PP::false ], '... the request');
my $base = "/upload/request/$fr->{token}";

$res = api($A, 'GET', '/file-requests');
my ($listed) = grep { $_->{id} eq $fr->{id} } @{ J($res)->{requests} };
ok($listed && !exists $listed->{token}, 'GET /file-requests lists it, without its token');
ok(!grep({ $_->{id} eq $fr->{id} } @{ J(api($B, 'GET', '/file-requests'))->{requests} }), "... not in B's list");

# --- What an uploader sees ---------------------------------------------------------------------------
$res = http_get($base, Accept => 'application/json');
is($res->code, 200, 'GET /upload/request/{token} as JSON: 200');
is_deeply([ @{ J($res) }{qw(title owner folder files_left bytes_left)} ], [ 'Tax papers', 'Ann Owner', 'Inbox', 3, 5000 ],
          '... title, owner, folder and what it still takes');
is_deeply(J($res)->{requires}, [], '... no password needed');
$res = http_get($base, Accept => 'text/html');
is($res->code, 200, 'the page: 200');
like($res->content, qr/Ann Owner.*Inbox/s, '... names the owner and the folder');
like($res->content, qr/Please send the 2025 receipts/, "... shows the owner's message");
unlike($res->content, qr/secret-plan/, "... and nothing of the folder's content");

# --- Uploading -----------------------------------------------------------------------------------
my $mark = psql("SELECT coalesce(max(id), 0) FROM notifications");
my $used0 = J(api($A, 'GET', '/me/storage'))->{used};
my $c1 = upload_small(undef, $base, 'receipt-1.pdf', 'x' x 1000, uploader_name => 'Carol', message => 'Here you go');
ok($c1->{file_id} && $c1->{transfer_id}, 'an upload without an account: 201 with its file and batch');
ok(!exists $c1->{download_url} && !exists $c1->{token}, '... and no share link');
my $c2 = upload_small(undef, $base, 'receipt-2.pdf', 'y' x 1500, transfer_id => $c1->{transfer_id});
is($c2->{transfer_id}, $c1->{transfer_id}, 'a second file joins the batch');
my %in = map { $_->{name} => $_ } @{ J(api($A, 'GET', "/folders/$inbox->{id}"))->{children} };
ok($in{'receipt-1.pdf'} && $in{'receipt-2.pdf'}, "both files are in A's Inbox");
is(api($A, 'GET', "/files/$c1->{file_id}/content")->content, 'x' x 1000, '... A reads the first one back, decrypted');
is(psql("SELECT kek_user_id || ' ' || storage || ' ' || owner_id FROM files WHERE id = '$c1->{file_id}'"),
   psql("SELECT id || ' enc ' || id FROM users WHERE email = 'a-$tag\@example.org'"),
   "... stored encrypted under A's key, and A's");
is(J(api($A, 'GET', '/me/storage'))->{used} - $used0, 2500, "... counted in A's storage");
is(api($B, 'GET', "/files/$c1->{file_id}/content")->code, 404, '... B gets 404 for it');

# The owner hears once for the batch.
my ($note) = wait_until(sub {
    psql("SELECT body FROM notifications WHERE id > $mark AND type = 'file_request.received' "
         . "AND user_id = (SELECT id FROM users WHERE email = 'a-$tag\@example.org') ORDER BY id LIMIT 1") }, 15);
ok($note, 'A gets a file_request.received notification');
my $nb = $note ? decode_json($note) : {};
is_deeply([ @$nb{qw(files uploader_name message title)} ], [ 2, 'Carol', 'Here you go', 'Tax papers' ],
          '... one for both files, naming the sender, their message and the request')
    or diag $note;
is(psql("SELECT title FROM notifications WHERE id > $mark AND type = 'file_request.received' ORDER BY id LIMIT 1"),
   Encode::encode_utf8("Received 2 files for \x{201c}Tax papers\x{201d} from Carol"), '... titled so');
my $mail = mail_to("a-$tag\@example.org", 15, qr/request/i);
ok($mail, '... and a mail') and like($mail, qr/receipt-1\.pdf/, '... listing the files');
sleep 2;
is(psql("SELECT count(*) FROM notifications WHERE id > $mark AND type = 'file_request.received'"), 1,
   '... once (a second run has nothing new to tell)');

# --- Limits -------------------------------------------------------------------------------------
$res = http_req('POST', "$base/encrypted/initiate", ['Content-Type' => 'application/json'],
                encode_json({ filename => 'big.bin', size => 2600 }));
is($res->code, 413, 'a file larger than what is left of max_bytes (2500): 413');
is(J($res)->{type} =~ /request-full$/ ? 1 : 0, 1, '... request-full');
$res = http_req('POST', "$base/encrypted/initiate", ['Content-Type' => 'application/json'],
                encode_json({ filename => 'r3.pdf', size => 10 }));
is($res->code, 201, 'the third file may start');
my $r3 = J($res);
$res = http_req('POST', "$base/encrypted/initiate", ['Content-Type' => 'application/json'],
                encode_json({ filename => 'r4.pdf', size => 10 }));
is($res->code, 413, 'a fourth (max_files 3): 413');
$res = http_req('POST', "$base/abort", ['Content-Type' => 'application/json'], encode_json({ token => $r3->{token} }));
is($res->code, 204, 'the third is aborted');
is(J(http_get($base, Accept => 'application/json'))->{files_left}, 1, '... which gives its place back');

# Parallel initiates for the last place: exactly one wins.
my @pids;
for my $i (1 .. 6) {
    my $pid = fork // die;
    if (!$pid) {
        my $r = http_req('POST', "$base/encrypted/initiate", ['Content-Type' => 'application/json'],
                         encode_json({ filename => "p$i.bin", size => 10 }));
        exit($r->code == 201 ? 0 : $r->code == 413 ? 1 : 2);
    }
    push @pids, $pid;
}
my %codes;
for (@pids) { waitpid $_, 0; $codes{ $? >> 8 }++ }
is_deeply(\%codes, { 0 => 1, 1 => 5 }, 'six initiates at once for the last place: one 201, five 413');

# --- Password ------------------------------------------------------------------------------------
my $pr = J(api($A, 'POST', '/file-requests', { folder_id => 'root', password => 'open sesame' }));
ok($pr->{has_password}, 'a request with a password');
is($pr->{title}, 'Files', '... titled "Files" when the root is its folder and no title is given');
my $pbase = "/upload/request/$pr->{token}";
is_deeply(J(http_get($pbase, Accept => 'application/json'))->{requires}, ['password'], '... its info says so');
$res = http_req('POST', "$pbase/encrypted/initiate", ['Content-Type' => 'application/json'],
                encode_json({ filename => 'a.txt', size => 3 }));
is($res->code, 401, 'an upload without the password: 401');
is_deeply(J($res)->{requires}, ['password'], '... requires password');
$res = http_req('POST', "$pbase/unlock", ['Content-Type' => 'application/json'], encode_json({ password => 'wrong' }));
is($res->code, 403, 'a wrong password: 403');
$res = http_req('POST', "$pbase/unlock", ['Content-Type' => 'application/json'], encode_json({ password => 'open sesame' }));
is($res->code, 200, 'the right one: 200');
my $grant = J($res)->{grant};
like($res->header('Set-Cookie') // '', qr{lenz_rgrant=.*Path=/upload/request/\Q$pr->{token}\E; HttpOnly}, '... and a cookie for its own path');
my $cp = upload_small(undef, $pbase, 'a.txt', 'abc', headers => [ Authorization => "Grant $grant" ]);
ok($cp->{file_id}, '... with the grant the upload goes through');
$res = http_req('POST', "/upload/request/$fr->{token}/encrypted/initiate",
                ['Content-Type' => 'application/json', Authorization => "Grant $grant"],
                encode_json({ filename => 'x', size => 1 }));
isnt($res->code, 401, "(the first request has no password: a grant is not needed there)");
$res = http_req('POST', "/upload/request/$fr->{token}/abort", ['Content-Type' => 'application/json'],
                encode_json({ token => J($res)->{token} // '' }));

# --- Closed, expired, gone, unknown ---------------------------------------------------------------
my $er = J(api($A, 'POST', '/file-requests', { folder_id => $inbox->{id}, expires_in => 60 }));
psql("UPDATE file_requests SET expires_at = now() - interval '1 second' WHERE id = '$er->{id}'");
is(http_get("/upload/request/$er->{token}", Accept => 'application/json')->code, 410, 'an expired request: 410');
is(http_get("/upload/request/$er->{token}", Accept => 'text/html')->code, 410, '... its page too');
like(http_get("/upload/request/$er->{token}", Accept => 'text/html')->content, qr/<h1[^>]*>This request is closed/,
     '... a page saying so');

my $tr = J(api($A, 'POST', '/folders', { name => 'Soon trashed' }));
my $tq = J(api($A, 'POST', '/file-requests', { folder_id => $tr->{id} }));
is(api($A, 'DELETE', "/folders/$tr->{id}")->code, 204, 'the folder of another request goes to the trash');
is(http_get("/upload/request/$tq->{token}", Accept => 'application/json')->code, 410, '... and its request answers 410');

is(api($B, 'DELETE', "/file-requests/$fr->{id}")->code, 404, "B closing A's request: 404");
is(api($A, 'DELETE', "/file-requests/$fr->{id}")->code, 204, 'A closes it: 204');
is(api($A, 'DELETE', "/file-requests/$fr->{id}")->code, 404, '... again: 404');
is(http_get($base, Accept => 'application/json')->code, 410, '... the link answers 410');
$res = http_req('POST', "$base/encrypted/initiate", ['Content-Type' => 'application/json'],
                encode_json({ filename => 'late.pdf', size => 10 }));
is($res->code, 410, '... uploads too');
ok((grep { $_->{id} eq $fr->{id} && $_->{closed} } @{ J(api($A, 'GET', '/file-requests'))->{requests} }),
   '... listed as closed, with its files kept') and
    is(scalar(grep { /^receipt-/ } map { $_->{name} } @{ J(api($A, 'GET', "/folders/$inbox->{id}"))->{children} }), 2,
       '... (both files still in Inbox)');
is(http_get('/upload/request/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', Accept => 'application/json')->code, 404,
   'an unknown token: 404');
is(http_get('/upload/request/x', Accept => 'text/html')->code, 404, '... a malformed one too, as a page');

# --- Bad input ------------------------------------------------------------------------------------
my $bf = J(api($B, 'POST', '/folders', { name => 'B only' }));
is(api($A, 'POST', '/file-requests', { folder_id => $bf->{id} })->code, 404, "a request into B's folder: 404");
is(api($A, 'POST', '/file-requests', { folder_id => 'nope' })->code, 404, '... into a folder id that is not one: 404');
for my $bad ([ max_files => 0 ], [ max_bytes => -1 ], [ expires_in => 10 ], [ title => '' ],
             [ title => "ok\x{202e}fdp.exe" ], [ title => 'x' x 201 ]) {
    $res = api($A, 'POST', '/file-requests', { folder_id => $inbox->{id}, @$bad });
    is($res->code . ' ' . (J($res)->{field} // ''), "400 $bad->[0]", "$bad->[0] " . encode_json([$bad->[1]]) . ': 400');
}
$res = http_req('POST', "/upload/request/$pr->{token}/encrypted/initiate",
                ['Content-Type' => 'application/json', Authorization => "Grant $grant"],
                encode_json({ filename => 'n.txt', size => 1, uploader_name => "x\x{202e}y" }));
is($res->code . ' ' . (J($res)->{field} // ''), '400 uploader_name', 'an uploader_name with a bidi control: 400');
is(api(undef, 'POST', '/file-requests', { folder_id => 'root' })->code, 401, 'without signing in: 401');

done_testing();
