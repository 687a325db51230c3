# Expiry as scheduled jobs, against the real database and S3:
#   lenz-purge-expired       one-time codes, sessions, refresh tokens and
#                            token families, share links, notifications,
#                            deleted file rows and empty transfers: what is
#                            old goes, what is young or alive stays;
#   lenz-expire-files        a guest's file past its expiry leaves S3, its
#                            row is marked deleted, its link answers 410, a
#                            file.expired event is written; an unfinished
#                            upload past expiry has its multipart aborted;
#   lenz-s3-abort-abandoned  an upload the database records as open for
#                            longer than LenzUploadAbandonAfter is aborted
#                            even though S3 says it started a moment ago.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Lenz::Test;
use Lenz::Jobs;

my $env = stack_env();
my $top = top_dir();
my $J = JSON::PP->new->canonical;
my $tag = uniq('exp');
my $s3 = "/usr/bin/python3 $top/scripts/s3-admin.py --env $env->{LENZ_STACK_DIR}/stack.env";

sub run_schedule {
    my ($name) = @_;
    my $last = psql("SELECT coalesce(max(id), 0) FROM jobs WHERE kind = '$name'");
    my ($rc, $out) = ctl('run-schedule', $name);
    is($rc, 0, "run-schedule $name") or diag $out;
    my ($id) = wait_until(sub { psql("SELECT min(id) FROM jobs WHERE kind = '$name' AND id > $last") }, 10);
    my ($st) = wait_until(sub { my $s = job_row($id)->{state}; $s =~ /^(done|dead)$/ ? $s : '' }, 30);
    is($st, 'done', "$name ran") or diag job_row($id)->{last_error};
}
sub count { psql("SELECT count(*) FROM $_[0]") }
sub rnd32 { "decode(md5(random()::text) || md5(random()::text), 'hex')" }
sub guest_init {
    my ($name, $size) = @_;
    my $res = http_req('POST', '/upload/guest/encrypted/initiate', ['Content-Type' => 'application/json'],
                       $J->encode({ filename => $name, size => $size }));
    die 'initiate: ' . $res->content unless $res->code == 201;
    return json_of($res);
}

is(psql("SELECT string_agg(name || '=' || period, ',' ORDER BY name) FROM job_schedules "
        . "WHERE name IN ('lenz-purge-expired', 'lenz-expire-files')"),
   'lenz-expire-files=00:10:00,lenz-purge-expired=01:00:00', 'the schedules are there');

# --- lenz-purge-expired -------------------------------------------------------------
my $email = "$tag\@example.org";
`echo 'correct horse battery' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --password-stdin 2>&1`;
my $uid = psql("SELECT id FROM users WHERE email = '$email'");
like($uid, qr/^[0-9a-f-]{36}$/, 'a member to own the rows');

psql("INSERT INTO otps (purpose, subject, code_hash, expires_at) VALUES "
     . "('register', '$tag-old', '\\x00', now() - interval '2 days'), "
     . "('register', '$tag-recent', '\\x00', now() - interval '1 hour'), "
     . "('register', '$tag-live', '\\x00', now() + interval '1 hour')");
psql("INSERT INTO sessions (id_hash, user_id, expires_at, last_seen_at, user_agent) VALUES "
     . "(" . rnd32() . ", '$uid', now() - interval '1 minute', now() - interval '2 minutes', '$tag-expired'), "
     . "(" . rnd32() . ", '$uid', now() + interval '1 day', now() - interval '3 hours', '$tag-idle'), "
     . "(" . rnd32() . ", '$uid', now() + interval '1 day', now(), '$tag-live')");
psql("INSERT INTO token_families (user_id, revoked_at, last_used_at, user_agent) VALUES "
     . "('$uid', now() - interval '2 days', now() - interval '2 days', '$tag-revoked'), "
     . "('$uid', NULL, now() - interval '3 days', '$tag-idle'), "
     . "('$uid', NULL, now(), '$tag-live')");
for my $f (['revoked', '+ interval 1 day'], ['idle', '- interval 2 days'], ['live', '- interval 2 days'],
           ['live', '+ interval 1 day']) {
    my ($ua, $when) = @$f;
    $when =~ s/interval (\d+ \w+)/interval '$1'/;
    psql("INSERT INTO refresh_tokens (hash, family_id, expires_at) SELECT " . rnd32()
         . ", id, now() $when FROM token_families WHERE user_agent = '$tag-$ua'");
}
psql("INSERT INTO transfers (owner_id, guest_ip, expires_at) VALUES "
     . "('$uid', '$tag-t1', now() - interval '40 days'), ('$uid', '$tag-t2', now() - interval '31 days'), "
     . "('$uid', '$tag-t3', now() + interval '1 day'), ('$uid', '$tag-t4', now() - interval '31 days')");
my %t = map { $_ => psql("SELECT id FROM transfers WHERE guest_ip = '$tag-$_'") } qw(t1 t2 t3 t4);
psql("INSERT INTO files (owner_id, transfer_id, name, size, storage, s3_key, state, updated_at) VALUES "
     . "('$uid', '$t{t1}', '$tag-gone', 1, 'plain', 'files/$tag-gone', 'deleted', now() - interval '31 days'), "
     . "('$uid', '$t{t4}', '$tag-kept', 1, 'plain', 'files/$tag-kept', 'deleted', now() - interval '1 day')");
psql("INSERT INTO links (token_hash, transfer_id, owner_id, expires_at, revoked_at, password_hash) VALUES "
     . "(" . rnd32() . ", '$t{t3}', '$uid', now() - interval '31 days', NULL, '$tag-l1'), "
     . "(" . rnd32() . ", '$t{t3}', '$uid', now() - interval '1 day', NULL, '$tag-l2'), "
     . "(" . rnd32() . ", '$t{t3}', '$uid', now() + interval '1 day', now() - interval '31 days', '$tag-l3'), "
     . "(" . rnd32() . ", '$t{t3}', '$uid', now() + interval '1 day', NULL, '$tag-l4')");
psql("INSERT INTO notifications (user_id, type, title, created_at, read_at) VALUES "
     . "('$uid', 'test', '$tag-n1', now() - interval '100 days', now() - interval '91 days'), "
     . "('$uid', 'test', '$tag-n2', now() - interval '2 days', now() - interval '1 day'), "
     . "('$uid', 'test', '$tag-n3', now() - interval '400 days', NULL), "
     . "('$uid', 'test', '$tag-n4', now(), NULL)");

run_schedule('lenz-purge-expired');

is(psql("SELECT string_agg(subject, ',' ORDER BY subject) FROM otps WHERE subject LIKE '$tag-%'"),
   "$tag-live,$tag-recent", 'codes a day past expiry go; recent and live ones stay');
is(psql("SELECT string_agg(user_agent, ',') FROM sessions WHERE user_agent LIKE '$tag-%'"),
   "$tag-live", 'expired and idle (3 h > 2 h) sessions go; the live one stays');
is(psql("SELECT string_agg(user_agent, ',') FROM token_families WHERE user_agent LIKE '$tag-%'"),
   "$tag-live", 'revoked and idle token families go; the live one stays');
is(psql("SELECT count(*) FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id "
        . "WHERE f.user_agent = '$tag-live'"), 1, '... and of its refresh tokens only the live one');
is(psql("SELECT string_agg(password_hash, ',' ORDER BY password_hash) FROM links WHERE password_hash LIKE '$tag-%'"),
   "$tag-l2,$tag-l4", 'links 30 days past expiry or revocation go; the others stay');
is(psql("SELECT string_agg(title, ',' ORDER BY title) FROM notifications WHERE title LIKE '$tag-%'"),
   "$tag-n2,$tag-n4", 'notifications read 90 days ago or a year old go');
is(psql("SELECT string_agg(name, ',') FROM files WHERE name LIKE '$tag-%'"), "$tag-kept",
   'rows of files deleted 30 days ago go; younger ones stay');
is(psql("SELECT string_agg(guest_ip, ',' ORDER BY guest_ip) FROM transfers WHERE guest_ip LIKE '$tag-%'"),
   "$tag-t3,$tag-t4", 'old transfers with no file row left go; a live one and one with a file stay');

# --- lenz-expire-files ---------------------------------------------------------------
# A finished guest upload past its expiry.
my $data = "expiring bytes\n" x 1000;
my $i = guest_init("$tag-done.txt", length $data);
is(http_req('POST', "/upload/guest/encrypted/upload-part?token=$i->{token}&part=1", [], $data)->code, 200,
   'a guest uploads a file');
my $done = json_of(http_req('POST', '/upload/guest/encrypted/complete', ['Content-Type' => 'application/json'],
                            $J->encode({ token => $i->{token} })));
my ($fid, $key) = split /\|/, psql("SELECT id, s3_key FROM files WHERE name = '$tag-done.txt'");
is(http_get("/download/$done->{token}")->code, 200, '... its link works');
my $tmp = "/tmp/$tag.obj";
is(system("$s3 get $key $tmp >/dev/null 2>&1"), 0, '... its object is in S3');
# An unfinished one past expiry, with its multipart upload open.
my $open = guest_init("$tag-open.txt", 100);
my $okey = psql("SELECT s3_key FROM files WHERE name = '$tag-open.txt'");
like(`$s3 uploads files/ 2>&1`, qr/^\Q$okey\E\t/m, 'an unfinished upload is open in S3');
psql("UPDATE files SET expires_at = now() - interval '1 minute' WHERE name IN ('$tag-done.txt', '$tag-open.txt')");

run_schedule('lenz-expire-files');

is(psql("SELECT state FROM files WHERE id = '$fid'"), 'deleted', 'the expired file is marked deleted');
isnt(system("$s3 get $key $tmp >/dev/null 2>&1"), 0, '... its object is gone from S3');
is(http_get("/download/$done->{token}")->code, 410, '... its link answers 410');
ok(wait_until(sub { psql("SELECT count(*) FROM audit_log WHERE type = 'file.expired' AND subject = '$fid'") }, 10),
   '... and a file.expired event reached the audit log');
is(psql("SELECT state FROM files WHERE name = '$tag-open.txt'"), 'deleted', 'the unfinished one is marked deleted');
unlike(`$s3 uploads files/ 2>&1`, qr/^\Q$okey\E\t/m, '... its multipart upload is aborted');
unlink $tmp;

# --- lenz-s3-abort-abandoned: the database's record ---------------------------------
my $ab = guest_init("$tag-abandoned.txt", 100);
my ($afid, $akey) = split /\|/, psql("SELECT id, s3_key FROM files WHERE name = '$tag-abandoned.txt'");
psql("UPDATE uploads SET created_at = now() - interval '25 hours' WHERE file_id = '$afid'");
run_schedule('lenz-s3-abort-abandoned');
is(psql("SELECT state FROM files WHERE id = '$afid'"), 'deleted',
   'an upload recorded as open for 25 h (> LenzUploadAbandonAfter 24 h) is marked deleted');
unlike(`$s3 uploads files/ 2>&1`, qr/^\Q$akey\E\t/m, '... and aborted in S3, though S3 saw it start just now');

done_testing();
