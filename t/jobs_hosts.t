# Two httpd instances against one database, as two hosts would be: the
# test starts a second httpd (its own config, port and error log, same
# database; LenzJobWorkers 2, LenzJobPollInterval 2) next to the suite's.
# 200 jobs enqueued at once are each run exactly once, by runners of both
# instances; a job inserted without NOTIFY is found by the poll; a
# graceful restart and a stop leave no runner thread or connection behind.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 35;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use Apache::Test ();
use Lenz::Test;
use Lenz::Jobs;

my $env   = stack_env();
my $top   = top_dir();
my $vars  = Apache::Test::vars();
my $httpd = $vars->{httpd};
my $dir   = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $log   = "$vars->{t_logs}/second_error_log";
my $conf  = "$dir/httpd.conf";
my $pidfile = "$dir/httpd.pid";
unlink $log;

my $port = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die $!;
    my $p = $s->sockport;
    close $s;
    $p;
};

my @modules = do {
    open my $fh, '<', "$top/t/conf/modules.conf" or die $!;
    grep { /^LoadModule/ } <$fh>;
};
open my $fh, '>', $conf or die $!;
print $fh <<"CONF";
ServerRoot "$dir"
DefaultRuntimeDir "$dir"
PidFile "$pidfile"
Listen 127.0.0.1:$port
ServerName 127.0.0.1
User www-data
Group www-data
ErrorLog "$log"
LogLevel info lenz:debug
TypesConfig /etc/mime.types
@modules
LoadModule lenz_module "$top/build/mod_lenz.so"
StartServers 2
MinSpareThreads 5
MaxSpareThreads 100
ThreadsPerChild 10
MaxRequestWorkers 40
DBDriver pgsql
DBDParams "$env->{LENZ_PG_CONNINFO}"
DBDMin 0
DBDKeep 1
DBDMax 4
LenzMasterKeyFile   "$ENV{LENZ_MASTER_KEY_FILE}"
LenzS3Endpoint      "$env->{LENZ_S3_ENDPOINT}"
LenzS3Bucket        "$env->{LENZ_S3_BUCKET}"
LenzS3Region        "$env->{LENZ_S3_REGION}"
LenzS3AccessKey     "$env->{LENZ_S3_ACCESS_KEY}"
LenzS3SecretKeyFile "$env->{LENZ_S3_SECRET_FILE}"
LenzSMTPURL         "$env->{LENZ_SMTP_URL}"
LenzSMTPCAFile      "$env->{LENZ_SMTP_CA_FILE}"
LenzMailFrom        "lenz-second\@example.org"
LenzPublicURL       "http://127.0.0.1:$port"
LenzTemplateDir     "$top/templates"
LenzJobsDB          "$env->{LENZ_PG_CONNINFO}"
LenzJobWorkers      2
LenzJobPollInterval 2
LenzJobBackoff      1 4
CONF
close $fh;

sub second_pids {
    open my $f, '<', $pidfile or return ();
    chomp(my $ppid = <$f> // '');
    return () unless $ppid =~ /^\d+$/;
    return grep { /^\d+$/ } map { s/\s+//gr } `ps -o pid= --ppid $ppid`;
}
# pid => number of runner connections, from pg_stat_activity.
sub runner_conns {
    my %c;
    for (split /\n/, psql("SELECT application_name FROM pg_stat_activity "
                          . "WHERE application_name LIKE 'mod_lenz jobs %'")) {
        $c{$1}++ if m{^mod_lenz jobs (\d+)/\d+$};
    }
    return \%c;
}
sub stop_second {
    return unless -f $pidfile;
    system($httpd, '-f', $conf, '-k', 'stop');
    wait_until(sub { !-f $pidfile }, 15);
}
END { stop_second() if $pidfile; }

my $out = `$httpd -f $conf -k start 2>&1`;
is($? >> 8, 0, "a second httpd starts on port $port") or diag $out;
my @pids2;
ok(wait_until(sub {
    @pids2 = second_pids();
    my $c = runner_conns();
    @pids2 >= 2 && !grep { ($c->{$_} // 0) != 2 } @pids2 }, 10),
   'its children each run 2 runners with their own connections') or diag explain runner_conns();
my %second = map { $_ => 1 } @pids2;

# 200 jobs in one statement: one NOTIFY wakes every runner of both.  Once
# with jobs that take 5 ms (so that every runner gets some), once with
# no-op jobs (what the queue itself costs).
for my $sleep (5, 0) {
    my $batch = uniq('batch');
    my $t0 = time;
    psql("SELECT count(lenz_job_enqueue('selftest', jsonb_build_object('batch', '$batch', 'n', g, "
         . "'sleep_ms', $sleep), NULL, NULL, NULL)) FROM generate_series(1, 200) g");
    my ($all, $took) = wait_until(sub {
        psql("SELECT count(*) FROM jobs WHERE payload->>'batch' = '$batch' AND state = 'done'") == 200 }, 60);
    ok($all, "200 jobs of $sleep ms done");
    figure(sprintf '200 jobs of %d ms through both instances in %.2f s: %.0f jobs/s',
           $sleep, $took, 200 / $took);
    my $runs = "job_runs r JOIN jobs j ON j.id = r.job_id WHERE j.payload->>'batch' = '$batch'";
    is(psql("SELECT count(*) FROM $runs"), 200, '... with exactly 200 runs');
    is(psql("SELECT count(*) FROM (SELECT r.job_id FROM $runs GROUP BY r.job_id HAVING count(*) > 1) d"), 0,
       '... no job ran twice');
    my (%by_instance, %runners);
    for (split /\n/, psql("SELECT r.runner, count(*) FROM $runs GROUP BY r.runner")) {
        my ($runner, $n) = split /\|/;
        my ($pid) = $runner =~ m{/(\d+)/\d+$};
        $by_instance{$second{$pid} ? 'second' : 'first'} += $n;
        $runners{$runner} = $n;
    }
    figure('runs per runner: ' . join(', ', map { "$_=$runners{$_}" } sort keys %runners));
    next unless $sleep;
    ok(($by_instance{first} // 0) > 0 && ($by_instance{second} // 0) > 0,
       sprintf 'both instances ran some (first %d, second %d)', $by_instance{first} // 0, $by_instance{second} // 0);
    ok(keys %runners >= 4, scalar(keys %runners) . ' runners took part');
}
psql("DELETE FROM jobs WHERE payload ? 'batch'");

# A runner that died mid-job (a job left 'running' with a lease that ran
# out): the job goes back to the queue and runs, or dies if that was its
# last attempt.  (Checked below: the poll that finds the next job reaps.)
expect_log('LENZ2313');     # in the suite's error log, if its runners reap them first
my $ghost = uniq('ghost');
my $ghosts = "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, locked_by, locked_until) VALUES "
     . "('selftest', '{\"t\": \"$ghost-1\"}', 'running', 1, 3, 'gone/1/1', now() - interval '1 second'), "
     . "('selftest', '{\"t\": \"$ghost-2\"}', 'running', 3, 3, 'gone/1/1', now() - interval '1 second'); ";
# Without NOTIFY (as if a notification were lost) the poll finds the job:
# the second instance polls every 2 s.
my $quiet = uniq('quiet');
$out = psql_super('lenz', "SET session_replication_role = replica; $ghosts"
                  . "SELECT lenz_job_enqueue('selftest', '{\"t\": \"$quiet\"}', NULL, NULL, NULL);");
like($out, qr/^\d+$/, 'a job inserted with the NOTIFY trigger off') or diag $out;
my ($all, $took) = wait_until(sub { psql("SELECT state FROM jobs WHERE payload->>'t' = '$quiet'") eq 'done' }, 10);
ok($all, '... is run anyway');
figure(sprintf 'enqueue-to-done without NOTIFY: %.3f s (the second instance polls every 2 s)', $took);
ok($took < 4, sprintf '... within the poll interval (%.2f s)', $took);

ok(wait_until(sub { psql("SELECT state FROM jobs WHERE payload->>'t' = '$ghost-1'") eq 'done' }, 10),
   'a job whose runner died runs again once its lease is over');
is(psql("SELECT state || ': ' || last_error FROM jobs WHERE payload->>'t' = '$ghost-2'"),
   'dead: the lease ran out: runner gone/1/1 did not finish the job (stopped or killed?)',
   '... or is dead when that was its last attempt');
psql("DELETE FROM jobs WHERE payload->>'t' LIKE '$ghost%'");

# Scheduled jobs run once per due time across both instances: every
# schedule made due at once, five times over, while all the runners of
# both hosts look for due schedules.
my $nsched = psql("SELECT count(*) FROM job_schedules");
my $since = psql("SELECT coalesce(max(id), 0) FROM jobs");
for my $round (1 .. 5) {
    psql("UPDATE job_schedules SET next_run_at = now() - interval '1 second' * $round");
    wait_until(sub { psql("SELECT count(*) FROM job_schedules WHERE next_run_at <= now()") == 0 }, 10);
}
my %per = map { split /\|/ } split /\n/,
    psql("SELECT kind, count(*) FROM jobs WHERE id > $since AND unique_key LIKE 'schedule:%' GROUP BY kind");
is_deeply([sort { $a <=> $b } values %per], [(5) x $nsched],
          "each of the $nsched schedules made five jobs for its five due times, none twice");
ok(wait_until(sub { psql("SELECT count(*) FROM jobs WHERE id > $since AND unique_key LIKE 'schedule:%' "
                         . "AND state NOT IN ('done', 'dead')") == 0 }, 30), '... which ran');
is(psql("SELECT count(*) FROM job_runs r JOIN jobs j ON j.id = r.job_id WHERE j.id > $since "
        . "AND j.unique_key LIKE 'schedule:%'")
   - psql("SELECT count(*) FROM jobs WHERE id > $since AND unique_key LIKE 'schedule:%'"), 0,
   '... each once');
my %hosts = map { $_ => 1 } split /\n/, psql("SELECT DISTINCT split_part(r.runner, '/', 2) FROM job_runs r "
                                            . "JOIN jobs j ON j.id = r.job_id WHERE j.id > $since");
figure(sprintf '%d scheduled jobs ran on %d processes of the two instances', 5 * $nsched, scalar keys %hosts);

# Graceful restart: the old children's runners stop and let go of their
# connections, the new children's connect.
my $mark = -s $log;
$out = `$httpd -f $conf -k graceful 2>&1`;
is($? >> 8, 0, 'graceful restart of the second instance') or diag $out;
my @new;
ok(wait_until(sub {
    @new = grep { !$second{$_} } second_pids();
    my $c = runner_conns();
    @new >= 2 && !grep { $c->{$_} } keys %second and !grep { ($c->{$_} // 0) != 2 } @new }, 15),
   'the old children\'s runner connections are gone, the new children\'s are there')
    or diag explain { new => \@new, conns => runner_conns() };
my $after = uniq('after');
psql("SELECT lenz_job_enqueue('selftest', '{\"t\": \"$after\"}', NULL, NULL, NULL)");
ok(wait_until(sub { psql("SELECT state FROM jobs WHERE payload->>'t' = '$after'") eq 'done' }, 5),
   'jobs run after the restart');

# The database drops the runners' connections (a failover, a restart):
# they notice, reconnect, LISTEN again and go on.
my $re = join '|', @new;
my %before = map { $_ => 1 } split /\n/, psql("SELECT pid FROM pg_stat_activity WHERE application_name ~ '^mod_lenz jobs ($re)/'");
is(psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name ~ '^mod_lenz jobs ($re)/'"),
   2 * @new, "the database terminates the second instance's runner connections");
ok(wait_until(sub {
    my @now = split /\n/, psql("SELECT pid FROM pg_stat_activity WHERE application_name ~ '^mod_lenz jobs ($re)/'");
    @now == 2 * @new && !grep { $before{$_} } @now }, 10), '... they connect again');
my $back = uniq('back');
# (jobs of 50 ms, so the first instance's runners cannot take them all
# before the second's wake up)
psql("SELECT count(lenz_job_enqueue('selftest', jsonb_build_object('back', '$back', 'sleep_ms', 50), NULL, NULL, NULL)) "
     . "FROM generate_series(1, 40)");
ok(wait_until(sub { psql("SELECT count(*) FROM job_runs r JOIN jobs j ON j.id = r.job_id "
                         . "WHERE j.payload->>'back' = '$back' AND r.runner ~ '/($re)/'") > 0 }, 5),
   '... and take jobs again (woken by NOTIFY)');
my $lost = () = do { local $/; open my $f, '<', $log or die; <$f> } =~ /LENZ2321: job runner \S+: the database connection broke; reconnecting/g;
is($lost, 2 * @new, '... each said so once (LENZ2321)');
wait_until(sub { psql("SELECT count(*) FROM jobs WHERE payload->>'back' = '$back' AND state = 'done'") == 40 }, 20);
psql("DELETE FROM jobs WHERE payload ? 'back'");

# Stop while jobs run: the job in flight finishes before the runner
# goes, none is left 'running'.
my @last = second_pids();
my %last = map { $_ => 1 } @last;
my $slow = uniq('slow');
psql("SELECT count(lenz_job_enqueue('selftest', jsonb_build_object('slow', '$slow', 'sleep_ms', 300), "
     . "NULL, NULL, NULL)) FROM generate_series(1, 40) g");
my $busy = wait_until(sub {
    grep { m{/(\d+)/\d+$} && $last{$1} }
        split /\n/, psql("SELECT locked_by FROM jobs WHERE payload->>'slow' = '$slow' AND state = 'running'") }, 10);
ok($busy, 'the second instance is running some of 40 slow jobs');
my $t0 = time;
stop_second();
my $stop_took = time - $t0;
figure(sprintf 'stopping the second instance with jobs in flight took %.2f s', $stop_took);
my @stuck = grep { m{/(\d+)/\d+$} && $last{$1} }
    split /\n/, psql("SELECT locked_by FROM jobs WHERE payload->>'slow' = '$slow' AND state = 'running'");
is(scalar @stuck, 0, '... it finished its jobs in flight before stopping: none left running');
ok(wait_until(sub { psql("SELECT count(*) FROM jobs WHERE payload->>'slow' = '$slow' AND state = 'done'") == 40 }, 30),
   '... and the first instance did the rest');
is(psql("SELECT count(*) FROM job_runs r JOIN jobs j ON j.id = r.job_id WHERE j.payload->>'slow' = '$slow'"), 40,
   '... each of the 40 ran once');
psql("DELETE FROM jobs WHERE payload ? 'slow'");

# Every runner of the second instance let go; nothing was killed.
ok(!-f $pidfile, 'the second instance stopped');
my $c = runner_conns();
is(scalar(grep { $c->{$_} } @last, keys %second), 0, '... and left no runner connection behind');
my $text = do { local $/; open my $f, '<', $log or die $!; <$f> };
my %started = map { $_ => 1 } $text =~ /job runner (\S+): connected/g;
my %stopped = map { $_ => 1 } $text =~ /job runner (\S+) stopped/g;
is(join(' ', sort keys %stopped), join(' ', sort keys %started),
   'every runner that connected stopped (' . scalar(keys %started) . ')');
unlike($text, qr/still did not exit|SIGKILL|exit signal|Segmentation fault/,
       '... no child had to be killed and none crashed');
my @bad = grep { /\[lenz:(warn|error|crit|alert|emerg)\]/ && !/LENZ23(13|21):/ } split /\n/, $text;
is(scalar @bad, 0, 'the second error log holds no other LENZ warning or error than those provoked') or diag join "\n", grep { defined } @bad[0 .. 4];
ok(-s $log > $mark, '... (it did log the restart)');
