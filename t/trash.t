# The trash's end (issue 16), against the real database and S3:
#   lenz-trash-purge  files and folders members trashed more than
#                     LenzTrashDays (30) ago are purged, every member's,
#                     with everything in the folders; newer trash and live
#                     files stay; their S3 objects are gone soon after;
#   DELETE /trash     queues a lenz-s3-garbage run at once: the objects go
#                     without waiting for the schedule;
#   lenz-s3-garbage   deletes the queued objects with DeleteObjects and then
#                     forgets them; when the run fails between S3's answer
#                     and forgetting the keys (a trigger makes that DELETE
#                     fail), the keys stay queued, and the next attempt
#                     finishes: objects gone, queue empty; a key whose
#                     object never existed leaves the queue too; a key S3
#                     refuses to delete (a bucket policy) stays queued, is
#                     logged (LENZ2340) and moves to the back of the queue.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Lenz::Test;
use Lenz::Jobs;

# The attempts made to fail below: the failing statement, the retried
# attempt, and the key S3 refuses.
expect_log('LENZ0202', 'LENZ2310', 'LENZ2340');
my $env = stack_env();
my $top = top_dir();
my $tag = uniq('trash');
my $PW = 'correct horse battery';
my $J = JSON::PP->new->canonical->utf8;
my $s3 = "/usr/bin/python3 $top/scripts/s3-admin.py --env $env->{LENZ_STACK_DIR}/stack.env";
my $tmp = "/tmp/$tag.obj";
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";

sub member {
    my ($email) = @_;
    my $out = `echo '$PW' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --password-stdin 2>&1`;
    die "create-user: $out" if $?;
    my $res = post_json('/api/v1/auth/login', { email => $email, password => $PW });
    die 'login: ' . $res->content unless $res->code == 200;
    return json_of($res)->{access_token};
}
sub api {
    my ($tok, $method, $path, $body) = @_;
    return http_req($method, "/api/v1$path", [bearer($tok), 'Content-Type' => 'application/json'],
                    defined $body ? $J->encode($body) : undef);
}
sub J { my $r = shift; my $j = eval { JSON::PP->new->decode($r->content) }; $j // {} }
sub upload {
    my ($tok, $name, $folder) = @_;
    my $data = "$name\n" x 100;
    my $res = api($tok, 'POST', '/uploads/encrypted/initiate', { filename => $name, size => length $data });
    die 'initiate: ' . $res->code . ' ' . $res->content unless $res->code == 201;
    my $i = J($res);
    $res = http_req('POST', "/api/v1/uploads/encrypted/upload-part?token=$i->{token}&part=1", [bearer($tok)], $data);
    die 'part: ' . $res->content unless $res->code == 200;
    $res = api($tok, 'POST', '/uploads/encrypted/complete', { token => $i->{token} });
    die 'complete: ' . $res->content unless $res->code == 201;
    my $id = J($res)->{file_id};
    api($tok, 'PATCH', "/files/$id", { folder_id => $folder }) if $folder;
    return $id;
}
sub folder { my ($tok, $name, $parent) = @_; J(api($tok, 'POST', '/folders', { name => $name, $parent ? (parent_id => $parent) : () }))->{id} }
sub key_of { psql("SELECT s3_key FROM files WHERE id = '$_[0]'") }
sub in_s3 { system("$s3 get '$_[0]' $tmp >/dev/null 2>&1") == 0 }
sub put_s3 { system("$s3 put '$_[0]' $0 >/dev/null 2>&1") == 0 or die "s3 put $_[0] failed" }
sub queued { psql("SELECT count(*) FROM s3_garbage WHERE s3_key IN (" . join(',', map { "'$_'" } @_) . ")") }
sub last_job { psql("SELECT coalesce(max(id), 0) FROM jobs WHERE kind = '$_[0]'") }
# The first job of kind after id $after; with $queued, only one a producer
# queued itself (not the schedule's, whose unique_key is 'schedule:...').
sub job_after {
    my ($kind, $after, $timeout, $queued) = @_;
    my $own = $queued ? ' AND unique_key IS NULL' : '';
    my ($id) = wait_until(sub { psql("SELECT min(id) FROM jobs WHERE kind = '$kind' AND id > $after$own") }, $timeout // 10);
    return $id;
}
sub finished {
    my ($id, $timeout) = @_;
    my ($st) = wait_until(sub { my $s = job_row($id)->{state}; $s =~ /^(done|dead)$/ ? $s : '' }, $timeout // 30);
    return $st // '';
}
sub run_schedule {
    my ($name) = @_;
    my $last = last_job($name);
    my ($rc, $out) = ctl('run-schedule', $name);
    is($rc, 0, "run-schedule $name") or diag $out;
    my $id = job_after($name, $last);
    is(finished($id), 'done', "$name ran (job $id)") or diag job_row($id)->{last_error};
    return $id;
}
END { unlink $tmp if $tmp }

is(psql("SELECT string_agg(name || '=' || kind || '=' || period, ',' ORDER BY name) FROM job_schedules "
        . "WHERE name IN ('lenz-trash-purge', 'lenz-s3-garbage')"),
   'lenz-s3-garbage=lenz-s3-garbage=00:05:00,lenz-trash-purge=lenz-trash-purge=01:00:00',
   'the schedules are there: the purge hourly, the S3 garbage every 5 minutes');

# --- lenz-trash-purge: old trash goes, new trash stays ------------------------------------------
my $A = member("a-$tag\@example.org");
my $B = member("b-$tag\@example.org");
my %id;
$id{live}    = upload($A, 'live.txt');
$id{old}     = upload($A, 'old.txt');
$id{new}     = upload($A, 'new.txt');
my $olddir   = folder($A, 'OldDir');
my $deep     = folder($A, 'Deep', $olddir);
$id{inner}   = upload($A, 'inner.txt', $olddir);
$id{deep}    = upload($A, 'deep.txt', $deep);
my $newdir   = folder($A, 'NewDir');
$id{newin}   = upload($A, 'newin.txt', $newdir);
$id{b_old}   = upload($B, 'b-old.txt');
my %key = map { $_ => key_of($id{$_}) } keys %id;
is(scalar(grep { in_s3($key{$_}) } keys %key), 7, 'seven files uploaded by two members, each an object in S3');

is(api($A, 'DELETE', "/files/$_")->code, 204, 'a file to the trash') for @id{qw(old new)};
is(api($A, 'DELETE', "/folders/$_")->code, 204, 'a folder to the trash') for $olddir, $newdir;
is(api($B, 'DELETE', "/files/$id{b_old}")->code, 204, "another member's file to the trash");
# What LenzTrashDays (30) ago looks like: trashed 31 days ago.
psql("UPDATE files SET trashed_at = now() - interval '31 days' WHERE id IN ('$id{old}', '$id{b_old}')");
psql("UPDATE folders SET trashed_at = now() - interval '31 days' WHERE id = '$olddir'");
psql("UPDATE files SET trashed_at = now() - interval '29 days' WHERE id = '$id{new}'");

my $g0 = last_job('lenz-s3-garbage');
run_schedule('lenz-trash-purge');
my @purged = qw(old inner deep b_old);
is(psql("SELECT count(*) FROM files WHERE id IN (" . join(',', map { "'$id{$_}'" } @purged) . ")"), 0,
   'the files trashed 31 days ago are purged: a file of each member, and both files in the old folder, one a level down');
is(psql("SELECT count(*) FROM folders WHERE id IN ('$olddir', '$deep')"), 0, '... the old folder and its subfolder too');
is_deeply([ sort map { $_->{name} } @{ J(api($A, 'GET', '/trash'))->{items} } ], [ 'NewDir', 'new.txt' ],
          'the trash still holds what was trashed 29 days ago and today');
is(J(api($A, 'GET', "/folders/root"))->{children}[0]{name} // '', 'live.txt', 'the live file is untouched');
my $gid = job_after('lenz-s3-garbage', $g0, 10, 1);
ok($gid, 'the purge queued a lenz-s3-garbage run');
is(finished($gid), 'done', '... which is done') or diag job_row($gid)->{last_error};
ok(wait_until(sub { !grep { in_s3($key{$_}) } @purged }, 10), "the purged files' objects are gone from S3");
is(queued(@key{@purged}), 0, '... and from the queue');
is(scalar(grep { in_s3($key{$_}) } qw(live new newin)), 3, "the others' objects are still there");

# --- DELETE /trash: the objects go at once, not at the schedule ------------------------------------
$g0 = last_job('lenz-s3-garbage');
is(api($A, 'DELETE', '/trash')->code, 204, 'A empties the trash');
$gid = job_after('lenz-s3-garbage', $g0, 5, 1);
ok($gid, '... which queued a lenz-s3-garbage run itself');
my ($gone, $secs) = wait_until(sub { !in_s3($key{new}) && !in_s3($key{newin}) }, 15);
ok($gone, sprintf("... and the two files' objects are gone from S3 %.1f s later", $secs));
is(queued(@key{qw(new newin)}), 0, '... and from the queue');
ok(in_s3($key{live}), 'the live file keeps its object');
my $g1 = last_job('lenz-s3-garbage');
is(api($A, 'DELETE', '/trash')->code, 204, 'emptying an empty trash');
sleep 1;
is(psql("SELECT count(*) FROM jobs WHERE kind = 'lenz-s3-garbage' AND id > $g1 AND unique_key IS NULL"), 0,
   '... queues no run');

# --- lenz-s3-garbage: a run that fails after DeleteObjects, and the next one -------------------
# Objects nothing refers to, queued as an emptying would, and a key whose
# object never existed.
my @crash = map { "files/$tag-crash-$_" } 1 .. 3;
put_s3($_) for @crash;
my $never = "files/$tag-never";
is(scalar(grep { in_s3($_) } @crash), 3, 'three objects in S3');
psql("INSERT INTO s3_garbage (s3_key) VALUES " . join(',', map { "('$_')" } @crash, $never));
# The fault: forgetting these keys fails, after S3 has deleted them.
psql(<<"SQL");
CREATE OR REPLACE FUNCTION lenz_test_garbage_fault() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    RAISE EXCEPTION 'test: the run dies before forgetting %', OLD.s3_key;
END \$\$;
DROP TRIGGER IF EXISTS lenz_test_garbage_fault ON s3_garbage;
CREATE TRIGGER lenz_test_garbage_fault BEFORE DELETE ON s3_garbage FOR EACH ROW
    WHEN (OLD.s3_key LIKE 'files/$tag-%') EXECUTE FUNCTION lenz_test_garbage_fault();
SQL
END { psql('DROP TRIGGER IF EXISTS lenz_test_garbage_fault ON s3_garbage; DROP FUNCTION IF EXISTS lenz_test_garbage_fault()') }

$g0 = last_job('lenz-s3-garbage');
my ($rc, $out) = ctl('run-schedule', 'lenz-s3-garbage');
is($rc, 0, 'run-schedule lenz-s3-garbage') or diag $out;
$gid = job_after('lenz-s3-garbage', $g0);
my ($failed) = $gid && wait_until(sub { job_row($gid)->{last_error} =~ /recording the deleted keys failed/ }, 15);
ok($failed, 'the run fails between DeleteObjects and forgetting the keys') or diag explain job_row($gid);
ok(!grep({ in_s3($_) } @crash), '... after S3 deleted the objects');
is(queued(@crash, $never), 4, '... and the keys are all still queued (the transaction rolled back)');
psql('DROP TRIGGER lenz_test_garbage_fault ON s3_garbage');
is(finished($gid), 'done', 'without the fault the retry finishes') or diag explain job_row($gid);
ok(job_row($gid)->{attempts} >= 2, '... on attempt ' . job_row($gid)->{attempts});
is(queued(@crash), 0, '... the deleted keys are forgotten (S3 answers "deleted" for objects already gone)');
is(queued($never), 0, '... and so is the key whose object never existed');

# --- A key S3 refuses stays queued, at the back --------------------------------------------------
my $pol = "/tmp/$tag.policy";
my $denied = "files/$tag-denied/x";
my $other = "files/$tag-other";
put_s3($_) for $denied, $other;
{
    open my $fh, '>', $pol or die;
    print $fh $J->encode({ Version => '2012-10-17', Statement => [ {
        Effect => 'Deny', Principal => '*', Action => 's3:DeleteObject',
        Resource => "arn:aws:s3:::$env->{LENZ_S3_BUCKET}/files/$tag-denied/*" } ] });
    close $fh;
}
is(system("$s3 put-policy $pol >/dev/null"), 0, 'a bucket policy denies deleting one object');
END { system("$s3 delete-policy >/dev/null 2>&1"); unlink $pol if $pol }
psql("INSERT INTO s3_garbage (s3_key, queued_at) VALUES ('$denied', now() - interval '1 hour'), ('$other', now())");
my $mark = error_log_mark();
run_schedule('lenz-s3-garbage');
ok(in_s3($denied) && !in_s3($other), 'the run deletes the other object, not the denied one');
is(queued($other), 0, '... forgets the other key');
is(queued($denied), 1, '... keeps the denied one queued');
ok(psql("SELECT queued_at > now() - interval '1 minute' FROM s3_garbage WHERE s3_key = '$denied'") eq 't',
   '... moved to the back of the queue');
like(error_log_since($mark), qr/LENZ2340: S3 garbage: 1 object\(s\) could not be deleted and stay queued .*\Q$denied\E: AccessDenied/,
     '... and logs it (LENZ2340) with its key and code');
is(system("$s3 delete-policy >/dev/null"), 0, 'the policy removed');
run_schedule('lenz-s3-garbage');
ok(!in_s3($denied) && !queued($denied), 'the next run deletes it and forgets it');

done_testing();
