# Secrets in the job queue: a reset link, a sign-up code and a share
# link's code reach their mail, and never the database in clear.  Their
# mail jobs hold them sealed ("sealed", under a key derived from the
# master key) and name them only ("sealed_fields"); the runner opens them
# to render the mail; once the job ends, sent or dead, the sealed part is
# removed too.  Checked in real pg_dump output (jobs, job_runs, events,
# audit_log and every other table), in `lenzctl job`, and across a retry:
# a mail whose first attempt fails (a trigger makes recording its
# Message-ID fail) is still sent, with the right link, and one that dies
# keeps nothing and is never sent without its link.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use MIME::QuotedPrint ();
use Lenz::Test;
use Lenz::Jobs;

expect_log('LENZ0202', 'LENZ2310', 'LENZ2311');   # the attempts made to fail below
my $env = stack_env();
my $J = JSON::PP->new->canonical;
my $tag = uniq('seal');
my $PW = 'correct horse battery';
my $ctl = top_dir() . "/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";

my $PG_DUMP = -x '/usr/lib/postgresql/15/bin/pg_dump' ? '/usr/lib/postgresql/15/bin/pg_dump' : 'pg_dump';
# The whole database as a backup would hold it.
sub dump_db {
    my $out = `$PG_DUMP --data-only --no-owner -d '$env->{LENZ_PG_CONNINFO}' 2>&1`;
    die "pg_dump failed: $out" if $?;
    return $out;
}
# The same four tables as psql COPY prints them.
sub copy_tables {
    join "\n", map { psql("COPY $_ TO STDOUT") } qw(jobs job_runs events audit_log);
}
# Occurrences of a six-digit code as a number of its own (not in a longer
# number, nor the microseconds of a timestamp).
sub count_code { my ($text, $code) = @_; scalar(() = $text =~ /(?<![\d.])\Q$code\E(?!\d)/g) }
sub mail_text {
    my ($rcpt, $subject) = @_;
    my $m = mail_to($rcpt, 15, qr/^Subject: .*\Q$subject\E/m) // return '';
    return MIME::QuotedPrint::decode((split /\r?\n\r?\n/, $m, 2)[1] // '');
}
sub code_in { $_[0] =~ /^\s+(\d{6})\s*$/m ? $1 : undef }
sub mail_job { psql("SELECT id FROM jobs WHERE kind = 'mail' AND payload->>'template' = '$_[1]' "
                    . "AND payload->'to'->>0 = '$_[0]' ORDER BY id DESC LIMIT 1") }
sub payload { my $p = psql("SELECT payload FROM jobs WHERE id = $_[0]"); $p ? decode_json($p) : {} }
sub create_user { `echo '$PW' | $ctl create-user $_[0] --password-stdin 2>&1` }

# Fault injection for the retry cases: recording a result (the mail job's
# Message-ID, written before it sends) fails for the listed recipients.
psql(<<'SQL');
CREATE TABLE IF NOT EXISTS lenz_test_fail_record (addr text PRIMARY KEY);
CREATE OR REPLACE FUNCTION lenz_test_fail_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.result IS DISTINCT FROM OLD.result
       AND NEW.payload->'to'->>0 IN (SELECT addr FROM lenz_test_fail_record) THEN
        RAISE EXCEPTION 'test: recording this job''s result fails';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS lenz_test_fail_record ON jobs;
CREATE TRIGGER lenz_test_fail_record BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION lenz_test_fail_record();
SQL
END {
    psql('DROP TRIGGER IF EXISTS lenz_test_fail_record ON jobs; '
         . 'DROP FUNCTION IF EXISTS lenz_test_fail_record(); DROP TABLE IF EXISTS lenz_test_fail_record');
}

# --- A reset link, sent at once ---------------------------------------------------------------
my $ann = "ann-$tag\@example.org";
create_user($ann);
is(post_json('/api/v1/auth/reset', { email => $ann })->code, 202, 'reset requested');
my ($token) = mail_text($ann, 'Reset') =~ m{/account/reset/([A-Za-z0-9_-]{43})\b};
ok($token, 'the mail arrives with its link');
my $id = mail_job($ann, 'reset_link');
ok(wait_until(sub { job_row($id)->{state} eq 'done' }, 10), "its job ($id) is done");
my $pl = payload($id);
ok(!exists $pl->{sealed}, '... and its sealed part is gone from the row');
is_deeply($pl->{sealed_fields}, ['url'], '... which still says what was sealed: url');
ok(!exists $pl->{data}{url}, '... and never held the url in its data');
my $dump = dump_db();
ok(length $dump > 1000 && $dump =~ /^COPY public\.jobs /m, 'a pg_dump of the database');
is(index($dump, $token), -1, '... holds the token nowhere');
is(index(copy_tables(), $token), -1, '... nor do jobs, job_runs, events, audit_log (psql COPY)');
my ($rc, $out) = ctl('job', $id);
ok($rc == 0 && $out =~ /payload/ && index($out, $token) == -1, '`lenzctl job` shows the job, and not the token')
    or diag $out;
is(post_json('/api/v1/auth/reset/confirm', { token => $token, password => 'a brand new passphrase' })->code, 200,
   'the link from the mail resets the password');

# --- A reset link whose first attempt fails ----------------------------------------------------
my $ben = "ben-$tag\@example.org";
create_user($ben);
psql("INSERT INTO lenz_test_fail_record VALUES ('$ben')");
is(post_json('/api/v1/auth/reset', { email => $ben })->code, 202, 'a reset whose mail fails at first');
ok(wait_until(sub { ($id = mail_job($ben, 'reset_link')) && job_row($id)->{attempts} >= 1
                    && job_row($id)->{state} eq 'queued' }, 10), '... its job failed once and waits for a retry');
like(job_row($id)->{last_error}, qr/recording the Message-ID failed/, '... (the injected failure)');
$pl = payload($id);
ok(length($pl->{sealed} // '') > 40 && !exists $pl->{data}{url}, '... holding its link sealed only');
my $dump_retry = dump_db();
my (undef, $out_retry) = ctl('job', $id);
psql("DELETE FROM lenz_test_fail_record WHERE addr = '$ben'");
my ($token2) = mail_text($ben, 'Reset') =~ m{/account/reset/([A-Za-z0-9_-]{43})\b};
ok($token2, 'the retry sends the mail, with its link');
ok(wait_until(sub { job_row($id)->{state} eq 'done' }, 10), '... the job is done');
ok(!exists payload($id)->{sealed}, '... and its sealed part gone');
is(index($dump_retry, $token2), -1, 'the dump taken while it waited held no token');
is(index($out_retry, $token2), -1, '... nor did `lenzctl job`');
is(index(dump_db(), $token2), -1, '... nor does one now');
is(post_json('/api/v1/auth/reset/confirm', { token => $token2, password => 'another new passphrase' })->code, 200,
   'the link works');

# --- A reset mail that dies -----------------------------------------------------------------------
my $cat = "cat-$tag\@example.org";
create_user($cat);
psql("INSERT INTO lenz_test_fail_record VALUES ('$cat')");
post_json('/api/v1/auth/reset', { email => $cat });
ok(wait_until(sub { ($id = mail_job($cat, 'reset_link')) && job_row($id)->{attempts} >= 1 }, 10),
   'a reset mail that keeps failing');
psql("UPDATE jobs SET max_attempts = 2 WHERE id = $id");
ok(wait_until(sub { job_row($id)->{state} eq 'dead' }, 15), '... dies');
$pl = payload($id);
ok(!exists $pl->{sealed}, '... and its sealed part is removed');
is_deeply($pl->{sealed_fields}, ['url'], '... (it names what it had)');
psql("DELETE FROM lenz_test_fail_record WHERE addr = '$cat'");
($rc, $out) = ctl('retry-job', $id);
is($rc, 0, 'lenzctl retry-job queues it again');
ok(wait_until(sub { job_row($id)->{state} eq 'dead' && job_row($id)->{attempts} == 1 }, 10), '... it dies at once');
like(job_row($id)->{last_error}, qr/sealed fields \(\["url"\]\) were removed/, '... saying why');
ok(!mail_to($cat, 1), '... and no mail without its link was sent');

# --- A sign-up code ---------------------------------------------------------------------------------
my $dee = "dee-$tag\@example.org";
my ($before, $before_copy) = (dump_db(), copy_tables());
is(post_json('/api/v1/auth/register', { email => $dee, password => $PW, name => 'Dee' })->code, 202, 'a sign-up');
my $scode = code_in(mail_text($dee, 'code'));
like($scode // '', qr/^\d{6}$/, '... its code arrives');
$id = mail_job($dee, 'register_code');
ok(wait_until(sub { job_row($id)->{state} eq 'done' }, 10), '... its job is done');
is_deeply(payload($id)->{sealed_fields}, ['code'], '... the code was sealed');
is(count_code(dump_db(), $scode), count_code($before, $scode), '... and no new row holds it (pg_dump)');
is(count_code(copy_tables(), $scode), count_code($before_copy, $scode), '... nor in jobs, job_runs, events, audit_log');
is(post_json('/api/v1/auth/verify', { email => $dee, code => $scode })->code, 200, '... and it works');

# --- A share link's code ----------------------------------------------------------------------------
my $eve = "eve-$tag\@example.org";
my $up = guest_upload('sealed code', name => "seal-$tag.bin", recipients => [$eve]);
($before, $before_copy) = (dump_db(), copy_tables());
is(post_json("/download/$up->{token}/otp", { email => $eve })->code, 202, "a share link's code requested");
my $lcode = code_in(mail_text($eve, 'code'));
like($lcode // '', qr/^\d{6}$/, '... it arrives');
$id = mail_job($eve, 'link_code');
ok(wait_until(sub { job_row($id)->{state} eq 'done' }, 10), '... its job is done');
$pl = payload($id);
ok(!exists $pl->{sealed} && !exists $pl->{data}{code}, '... holding neither the code nor its seal');
is(count_code(dump_db(), $lcode), count_code($before, $lcode), '... and no new row holds it (pg_dump)');
is(count_code(copy_tables(), $lcode), count_code($before_copy, $lcode), '... nor in jobs, job_runs, events, audit_log');
($rc, $out) = ctl('job', $id);
is(count_code($out, $lcode), 0, '`lenzctl job` does not show it');
is(post_json("/download/$up->{token}/verify", { email => $eve, code => $lcode })->code, 200, 'the code opens the link');

done_testing();
