# File names with Unicode bidirectional controls: "photo<U+202E>gpj.exe"
# shows as "photoexe.jpg".  Refused at upload initiate (400 problem+json,
# field filename) and by lenzctl import; a name stored before that is shown
# with each control as '_' wherever it reaches someone: Content-Disposition
# (streamed, and the presigned redirect of a plain file), ZIP entry names,
# the gate page and the link's info, the "downloaded" mail (subject and
# text) and the in-app notification.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Encode ();
use MIME::QuotedPrint ();
use URI::Escape qw(uri_unescape);
use Lenz::Test;
use Lenz::Jobs;

my $RLO = "\xe2\x80\xae";                       # U+202E in UTF-8
my $NAME = "photo${RLO}gpj.exe";               # shows as "photoexe.jpg"
my $SAFE = 'photo_gpj.exe';
my $tag = uniq('names');
my $PW = 'correct horse battery';

# Sets a stored file's name as an older version could have stored it.
sub set_name {
    my ($file_id, $sql_literal) = @_;
    psql("UPDATE files SET name = $sql_literal WHERE id = '$file_id'");
    return psql("SELECT name FROM files WHERE id = '$file_id'");
}
my $RLO_SQL = q{E'photo\\u202Egpj.exe'};
sub no_bidi { $_[0] !~ /\xe2\x80\xae|\xe2\x81[\xa6-\xa9]|\xe2\x80[\x8e\x8f\xaa-\xad]|\xd8\x9c/ }

# --- Refused at initiate ------------------------------------------------------------------------
my %controls = (
    'U+202E RLO' => "\xe2\x80\xae", 'U+202D LRO' => "\xe2\x80\xad", 'U+202A LRE' => "\xe2\x80\xaa",
    'U+2067 RLI' => "\xe2\x81\xa7", 'U+2069 PDI' => "\xe2\x81\xa9", 'U+200E LRM' => "\xe2\x80\x8e",
    'U+200F RLM' => "\xe2\x80\x8f", 'U+061C ALM' => "\xd8\x9c",
);
for my $what (sort keys %controls) {
    my $res = post_json('/upload/guest/encrypted/initiate', { filename => "a$controls{$what}b.txt", size => 10 });
    my $p = $res->code == 400 ? json_of($res) : {};
    ok($res->code == 400 && ($p->{field} // '') eq 'filename'
       && ($p->{type} // '') eq 'urn:lenz:problem:invalid-field'
       && ($res->header('Content-Type') // '') =~ m{^application/problem\+json},
       "initiate with $what in the filename: 400 problem+json, field filename")
        or diag $res->code . ' ' . $res->content;
}
my $res = post_json('/upload/guest/initiate', { filename => $NAME, size => 10 });
is($res->code, 400, 'the plain route refuses it too');
like(json_of($res)->{detail} // '', qr/bidirectional/, '... saying why');
$res = post_json('/upload/guest/encrypted/initiate', { filename => "caf\xc3\xa9 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d.txt", size => 10 });
is($res->code, 201, 'accents and right-to-left letters are fine (201)');
my ($rc, $out) = ctl('import', '--owner', "nobody-$tag\@example.org", '--name', $NAME, '/etc/hostname');
ok($rc != 0 && $out =~ /bidirectional/, 'lenzctl import refuses such a --name') or diag $out;

# --- A member's encrypted file stored under such a name ---------------------------------------------
my $email = "names-$tag\@example.org";
my $ctl = top_dir() . '/build/lenzctl -e ' . stack_env()->{LENZ_STACK_DIR} . '/stack.env';
`echo '$PW' | $ctl create-user $email --name Nomen --password-stdin 2>&1`;
my $tk = json_of(post_json('/api/v1/auth/login', { email => $email, password => $PW }));
my @auth = bearer($tk->{access_token});
my $body = "the bytes of a photo, honestly\n";
my $init = json_of(post_json('/api/v1/uploads/encrypted/initiate', { filename => 'innocent.bin', size => length $body }, @auth));
is(http_req('POST', "/api/v1/uploads/encrypted/upload-part?token=$init->{token}&part=1", [@auth], $body)->code, 200,
   "a member's part");
$res = post_json('/api/v1/uploads/encrypted/complete', { token => $init->{token} }, @auth);
is($res->code, 201, '... complete');
my $done = json_of($res);
is(set_name($done->{file_id}, $RLO_SQL), $NAME, 'the stored name now holds U+202E (as before the check)');

$res = http_get("/download/$done->{token}/info");
is(json_of($res)->{files}[0]{name}, $SAFE, "the link's info shows it with '_'");
$res = http_get("/download/$done->{token}");
is($res->code, 200, 'the download: 200');
my $cd = $res->header('Content-Disposition') // '';
like($cd, qr/filename="\Q$SAFE\E"; filename\*=UTF-8''\Q$SAFE\E$/, "... Content-Disposition names $SAFE") or diag $cd;
ok(no_bidi(uri_unescape($cd)), '... and holds no bidi control, encoded or not');

# The first download mails the owner and notifies them.
my $m = mail_to($email, 10, qr/was downloaded/);
ok($m, 'the "downloaded" mail arrives');
my ($h, $mb) = mail_parse($m // "Subject: (no mail)\r\n\r\n");
is(mail_subject($h), "Downloaded: $SAFE", "... its subject shows $SAFE");
my $text = MIME::QuotedPrint::decode($mb // '');
like($text, qr/\Q$SAFE\E was downloaded/, '... and so does its text');
ok(no_bidi($text), '... with no bidi control anywhere');
my $uid = psql("SELECT id FROM users WHERE email = '$email'");
ok(wait_until(sub { psql("SELECT count(*) FROM notifications WHERE user_id = '$uid' AND title LIKE 'Downloaded:%'") }, 10),
   'the notification is made');
is(psql("SELECT title FROM notifications WHERE user_id = '$uid' AND title LIKE 'Downloaded:%'"), "Downloaded: $SAFE",
   "... its title shows $SAFE");

# The gate page of a password link to the same file.
$res = post_json('/api/v1/links', { file_id => $done->{file_id}, password => 'open sesame' }, @auth);
is($res->code, 201, 'a password link to it');
$res = http_get('/download/' . json_of($res)->{token}, Accept => 'text/html');
is($res->code, 401, '... its gate page (401)');
like($res->content, qr{<span class="name">\Q$SAFE\E</span>}, "... lists the file as $SAFE");
ok(no_bidi($res->content), '... with no bidi control in the page');

# --- A plain file: the redirect's presigned Content-Disposition -------------------------------------
my $plain = guest_upload('plain bytes', plain => 1, name => 'plain.bin');
set_name($plain->{file_id}, $RLO_SQL);
$res = http_get("/download/$plain->{token}");
is($res->code, 302, 'a plain file: 302 to S3');
my $loc = uri_unescape(uri_unescape($res->header('Location') // ''));
like($loc, qr/response-content-disposition=attachment; filename="\Q$SAFE\E"/, "... whose Content-Disposition names $SAFE");
ok(no_bidi($loc), '... and holds no bidi control');

# --- ZIP entry names ----------------------------------------------------------------------------------
my $z1 = guest_upload('first', name => 'one.bin');
my $z2 = guest_upload('second', name => 'two.bin', transfer_id => $z1->{transfer_id});
set_name($z1->{file_id}, $RLO_SQL);
set_name($z2->{file_id}, $RLO_SQL);
$res = http_get("/download/$z2->{token}");
is($res->code, 200, 'a transfer of two files: the ZIP');
my $zip = $res->content;
my @entries;
while ($zip =~ /PK\x01\x02/g) {       # central directory headers: name length at +28, name at +46
    my $at = pos($zip) - 4;
    my $len = unpack('v', substr($zip, $at + 28, 2));
    push @entries, substr($zip, $at + 46, $len);
}
is_deeply([sort @entries], [sort($SAFE, 'photo_gpj (2).exe')], "... entries $SAFE and 'photo_gpj (2).exe'")
    or diag explain \@entries;
is(index($zip, $RLO), -1, '... and U+202E nowhere in the archive');

done_testing();
