# The job queue and its runners inside the test httpd (LenzJobWorkers 2,
# LenzJobPollInterval 60, LenzJobBackoff 1 4): NOTIFY wakes a runner long
# before the poll would; a job failing twice runs three times with growing
# delays; one that always fails ends dead with its last error; unique
# keys; kinds nobody runs stay queued; retry-job; lenzctl's views; the
# scheduled purges; the abort of abandoned multipart uploads.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 48;
use Time::HiRes qw(time sleep);
use Lenz::Test;
use Lenz::Jobs;

my $env = stack_env();
my $top = top_dir();
expect_log('LENZ2310', 'LENZ2311');     # the failing jobs below, on purpose

sub enqueue {
    my ($rc, $out) = ctl('enqueue', @_);
    my ($id) = $out =~ /^job (\d+) queued/m;
    diag $out unless $id;
    return $id;
}
sub done_or_dead { my $id = shift; sub { job_row($id)->{state} =~ /^(done|dead)$/ ? job_row($id)->{state} : '' } }

# The runners are up: two per child, each with its own connection.
my ($n) = wait_until(sub {
    my $c = psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'mod_lenz jobs %'");
    $c >= 2 ? $c : 0 }, 10);
ok($n >= 2, "the runners hold their own database connections ($n)");
is(psql("SELECT string_agg(name, ',' ORDER BY name) FROM job_schedules"),
   'lenz-expire-files,lenz-mail-digest,lenz-purge-events,lenz-purge-expired,lenz-purge-jobs,lenz-s3-abort-abandoned,'
   . 'lenz-s3-garbage,lenz-trash-purge',
   'the runners wrote the schedules');

# Started first and checked below, so their waits overlap: a job failing
# twice, one always failing, and a multipart upload that must grow old.
my $twice = enqueue('selftest', '{"fail": 2}');
my $always = enqueue('selftest', '{"fail": 100, "error": "the widget is broken"}', '--max-attempts', 3);
my $s3 = "/usr/bin/python3 $top/scripts/s3-admin.py --env $env->{LENZ_STACK_DIR}/stack.env";
my $old_key = 'files/' . uniq('abandoned');
chomp(my $old_up = `$s3 start-upload $old_key 2>&1`);
my $old_t = time;
psql("INSERT INTO files (name, size, storage, s3_key) VALUES ('abandoned.bin', 0, 'plain', '$old_key')");

# NOTIFY: picked up at once although the poll interval is 60 s.
my (@lat, $first);
for (1 .. 5) {
    my $t0 = time;
    my $id = enqueue('selftest');
    my ($st, $took) = wait_until(done_or_dead($id), 10);
    push @lat, time - $t0;
    $first //= $id;
    is($st, 'done', "selftest job $id done") if $_ == 1;
}
@lat = sort { $a <=> $b } @lat;
figure(sprintf 'enqueue-to-done with NOTIFY (poll 60 s): min %.3f s, median %.3f s, max %.3f s',
     $lat[0], $lat[2], $lat[-1]);
ok($lat[-1] < 2, sprintf 'every job ran within 2 s of its commit (max %.3f s), not at the 60 s poll', $lat[-1]);

# Fails twice, then succeeds: three runs, the second delay longer.
my $id = $twice;
my ($st) = wait_until(done_or_dead($id), 15);
is($st, 'done', 'a job that fails twice ends done');
my $j = job_row($id);
is($j->{attempts}, 3, '... after 3 attempts');
is($j->{last_error}, '', '... with no error left');
my @runs = map { [split /\|/] } split /\n/,
    psql("SELECT extract(epoch FROM started_at), ok, error FROM job_runs WHERE job_id = $id ORDER BY id");
is(scalar @runs, 3, '... three runs recorded');
is(join(',', map { $_->[1] } @runs), 'f,f,t', '... failed, failed, succeeded');
like($runs[0][2], qr/failing on purpose \(attempt 1/, '... each failure recorded with its error');
my ($d1, $d2) = ($runs[1][0] - $runs[0][0], $runs[2][0] - $runs[1][0]);
figure(sprintf 'retry delays: %.3f s then %.3f s (base 1 s, +-25%% jitter)', $d1, $d2);
ok($d1 >= 0.7 && $d1 < 2, sprintf 'first retry after about 1 s (%.3f s)', $d1);
ok($d2 >= 1.4 && $d2 < 3.5, sprintf 'second retry after about 2 s (%.3f s)', $d2);
ok($d2 > $d1, '... the delays grow');

# Always fails: dead after max_attempts, with its last error.
$id = $always;
($st) = wait_until(done_or_dead($id), 15);
is($st, 'dead', 'a job that always fails ends dead');
$j = job_row($id);
is($j->{attempts}, 3, '... after max_attempts (3)');
like($j->{last_error}, qr/^the widget is broken \(attempt 3, failing the first 100\)$/, '... with its last error');
is(psql("SELECT count(*) FROM job_runs WHERE job_id = $id AND NOT ok"), 3, '... three failed runs');
like(error_log_since(0), qr/LENZ2311: job $id \(selftest\) is dead after attempt 3 of 3: the widget is broken/,
     '... and the error log says so');
like(error_log_since(0), qr/LENZ2310: job $id \(selftest\) attempt 1 of 3 failed: the widget is broken.*next attempt in \d+ s/,
     '... and logged each retry');

# retry-job: a dead job runs again.
my $dead = enqueue('selftest', '{"fail": 1}', '--max-attempts', 1);
wait_until(done_or_dead($dead), 10);
is(job_row($dead)->{state}, 'dead', 'max-attempts 1: dead after one failure');
my ($rc, $out) = ctl('retry-job', $dead);
is($rc, 0, 'retry-job') or diag $out;
wait_until(sub { psql("SELECT count(*) FROM job_runs WHERE job_id = $dead") == 2 }, 10);
is(psql("SELECT count(*) FROM job_runs WHERE job_id = $dead"), 2, '... it ran again');
($rc, $out) = ctl('retry-job', $first);
isnt($rc, 0, 'retry-job of a job that is not dead fails');

# Unique keys make enqueueing idempotent.
my $key = uniq('key');
my $k1 = enqueue('selftest', '{}', '--key', $key);
($rc, $out) = ctl('enqueue', 'selftest', '{}', '--key', $key);
is($rc, 0, 'enqueueing a key twice succeeds');
like($out, qr/exists already; nothing queued/, '... and queues nothing');
is(psql("SELECT count(*) FROM jobs WHERE unique_key = '$key'"), 1, '... one job with that key');

# A kind without a handler is left alone (a newer version's, say).
my $odd = enqueue('no-such-kind', '{}');
sleep 0.5;
$j = job_row($odd);
is("$j->{state} $j->{attempts}", 'queued 0', 'a kind no runner knows stays queued, untouched');
psql("DELETE FROM jobs WHERE id = $odd");

# Bad input is refused by the database.
($rc, $out) = ctl('enqueue', 'selftest', '[1, 2]');
isnt($rc, 0, 'a payload that is not an object is refused');
($rc, $out) = ctl('enqueue', 'Bad Kind!', '{}');
isnt($rc, 0, 'a malformed kind is refused');

# lenzctl's views.
($rc, $out) = ctl('jobs', '--state', 'dead', '--limit', 5);
is($rc, 0, 'lenzctl jobs');
like($out, qr/^$id\tdead\tselftest\t3\/3\t\S+ \S+\tthe widget is broken/m, '... lists the dead job');
($rc, $out) = ctl('job', $id);
like($out, qr/^state\s+dead$/m, 'lenzctl job shows the state');
like($out, qr/^3\t\S+\/\d+\/\d+\t.*\tfailed\tthe widget is broken/m, '... and every run with its runner');
($rc, $out) = ctl('schedules');
like($out, qr/^lenz-purge-jobs\tlenz-purge-jobs\t01:00:00\ton\t/m, 'lenzctl schedules');

# The scheduled purges, made due now.
my $tag = uniq('purge');
psql("INSERT INTO jobs (kind, payload, state, finished_at) VALUES "
     . "('selftest', '{\"t\": \"$tag-old\"}', 'done', now() - interval '8 days'), "
     . "('selftest', '{\"t\": \"$tag-new\"}', 'done', now() - interval '1 day'), "
     . "('selftest', '{\"t\": \"$tag-dead\"}', 'dead', now() - interval '8 days')");
psql("INSERT INTO events (type, subject, dispatched_at) VALUES "
     . "('test.old', '$tag-old', now() - interval '8 days'), ('test.new', '$tag-new', now() - interval '1 day')");
my $last = psql("SELECT COALESCE(max(id), 0) FROM jobs WHERE kind = 'lenz-purge-jobs'");
($rc, $out) = ctl('run-schedule', 'lenz-purge-jobs');
is($rc, 0, 'run-schedule lenz-purge-jobs') or diag $out;
ctl('run-schedule', 'lenz-purge-events');
ok(wait_until(sub { psql("SELECT count(*) FROM jobs WHERE payload->>'t' = '$tag-old'") == 0 }, 10),
   'done jobs older than LenzJobRetention (7 days) are purged');
is(psql("SELECT count(*) FROM jobs WHERE payload->>'t' IN ('$tag-new', '$tag-dead')"), 2,
   '... newer ones and dead ones younger than 30 days stay');
ok(wait_until(sub { psql("SELECT count(*) FROM events WHERE subject = '$tag-old'") == 0 }, 10),
   'dispatched events older than 7 days are purged');
is(psql("SELECT count(*) FROM events WHERE subject = '$tag-new'"), 1, '... newer ones stay');
ok(psql("SELECT count(*) FROM jobs WHERE kind = 'lenz-purge-jobs' AND id > $last") >= 1,
   'run-schedule queued the purge job');
like(psql("SELECT next_run_at > now() FROM job_schedules WHERE name = 'lenz-purge-jobs'"), qr/^t$/,
     '... and the schedule moved on to its next period');
psql("DELETE FROM jobs WHERE payload->>'t' LIKE '$tag%'; DELETE FROM events WHERE subject LIKE '$tag%'");

# Abandoned multipart uploads under files/: an old one is aborted, a young
# one stays (the job's payload shortens LenzUploadAbandonAfter to 2 s).
my $young_key = 'files/' . uniq('young');
sleep 3 - (time - $old_t) if time - $old_t < 3;     # (long past, normally)
chomp(my $young_up = `$s3 start-upload $young_key 2>&1`);
ok(length $old_up > 8 && length $young_up > 8, 'two multipart uploads started');
my $ab = enqueue('lenz-s3-abort-abandoned', '{"older_than_seconds": 2}');
($st) = wait_until(done_or_dead($ab), 20);
is($st, 'done', 'the abort job ran') or diag job_row($ab)->{last_error};
my $open = `$s3 uploads files/ 2>&1`;
unlike($open, qr/^\Q$old_key\E\t/m, '... the old upload is gone');
like($open, qr/^\Q$young_key\E\t/m, '... the young one is still open');
is(psql("SELECT state FROM files WHERE s3_key = '$old_key'"), 'deleted', "... and its file row is marked deleted");
system("$s3 abort-upload $young_key $young_up >/dev/null 2>&1");
psql("DELETE FROM files WHERE s3_key = '$old_key'");

# Metrics.
my $m = http_get('/metrics')->content;
like($m, qr/^lenz_jobs_done_total [1-9]\d*$/m, 'metrics count finished jobs');
like($m, qr/^lenz_jobs_dead_total [1-9]\d*$/m, '... and dead ones');
