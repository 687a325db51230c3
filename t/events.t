# The event bus: an event committed with its change gives exactly one
# audit row; a rolled-back change gives none (nor its job); dispatching an
# event again adds no second row; the runner's own lenz_event_emit (the
# selftest job's event) goes the same way; NOTIFY brings events to the
# subscribers at once.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 25;
use Time::HiRes qw(time);
use Lenz::Test;
use Lenz::Jobs;

my $tag = uniq('evt');
my $actor = psql("SELECT gen_random_uuid()");

sub audited { my $s = shift; psql("SELECT count(*) FROM audit_log WHERE subject = '$s'") }

# Committed with the change: exactly one audit row, written at once.
my $t0 = time;
my $out = psql("BEGIN; SELECT lenz_event_emit('file.uploaded', '$actor', '$tag-commit', "
               . "'{\"size\": 42}'); COMMIT;");
like($out, qr/^\d+$/, 'an event emitted inside a committed transaction') or diag $out;
my ($ok, $took) = wait_until(sub { audited("$tag-commit") }, 5);
is($ok, 1, 'the audit subscriber wrote one row');
figure(sprintf 'commit-to-audit-row: %.3f s', $took);
ok($took < 2, sprintf '... within 2 s of the commit (NOTIFY; the poll is 60 s): %.3f s', $took);
is(psql("SELECT type || ' ' || actor_id || ' ' || (payload->>'size') FROM audit_log "
        . "WHERE subject = '$tag-commit'"), "file.uploaded $actor 42",
   '... with the type, the actor and the payload');
like(psql("SELECT dispatched_at IS NOT NULL AND dispatch_attempts = 0 FROM events WHERE subject = '$tag-commit'"),
     qr/^t$/, '... and the event is marked dispatched');

# Rolled back with the change: nothing, and neither its job.
$out = psql("BEGIN; SELECT lenz_event_emit('link.created', NULL, '$tag-rollback', NULL); "
            . "SELECT lenz_job_enqueue('selftest', '{\"t\": \"$tag-rollback\"}', NULL, NULL, NULL); ROLLBACK;");
unlike($out, qr/ERROR/, 'an event and a job in a transaction that rolls back') or diag $out;
psql("SELECT lenz_event_emit('link.created', NULL, '$tag-after', NULL)");
wait_until(sub { audited("$tag-after") }, 5);
is(audited("$tag-after"), 1, 'an event committed after it is audited');
is(audited("$tag-rollback"), 0, '... but the rolled-back one never is');
is(psql("SELECT count(*) FROM events WHERE subject = '$tag-rollback'") . ' '
   . psql("SELECT count(*) FROM jobs WHERE payload->>'t' = '$tag-rollback'"), '0 0',
   '... it left no event and no job behind');

# An event and a job committed together: both happen.
psql("BEGIN; SELECT lenz_event_emit('link.created', NULL, '$tag-both', NULL); "
     . "SELECT lenz_job_enqueue('selftest', '{\"t\": \"$tag-both\"}', NULL, NULL, NULL); COMMIT;");
ok(wait_until(sub { audited("$tag-both") == 1
                    && psql("SELECT state FROM jobs WHERE payload->>'t' = '$tag-both'") eq 'done' }, 5),
   'an event and a job committed together: audited and run');

# Dispatched again (as after a crash between subscriber and mark, were
# they not one transaction): still one row.
psql("UPDATE events SET dispatched_at = NULL WHERE subject = '$tag-commit'; NOTIFY lenz_jobs");
ok(wait_until(sub { psql("SELECT dispatched_at IS NOT NULL FROM events WHERE subject = '$tag-commit'") eq 't' }, 5),
   'an event made pending again is dispatched again');
is(audited("$tag-commit"), 1, '... and still has exactly one audit row');

# A subscriber that fails rolls the whole dispatch back; the event is
# retried later, not lost.  (A constraint makes the audit insert fail.)
expect_log('LENZ2410', 'LENZ0202');
psql("ALTER TABLE audit_log ADD CONSTRAINT lenz_test_refuse CHECK (subject IS DISTINCT FROM '$tag-fail')");
psql("SELECT lenz_event_emit('file.uploaded', NULL, '$tag-fail', NULL)");
ok(wait_until(sub { psql("SELECT dispatch_attempts FROM events WHERE subject = '$tag-fail'") >= 1 }, 5),
   'a failing subscriber: the dispatch is rolled back and counted');
like(psql("SELECT dispatch_error FROM events WHERE subject = '$tag-fail'"), qr/audit row failed/,
     '... with the error on the event');
is(psql("SELECT (dispatched_at IS NULL) || ' ' || (dispatch_after > now()) FROM events WHERE subject = '$tag-fail'"),
   'true true', '... which stays pending, to be retried later');
psql("ALTER TABLE audit_log DROP CONSTRAINT lenz_test_refuse");
psql("UPDATE events SET dispatch_after = now() WHERE subject = '$tag-fail'; NOTIFY lenz_jobs");
ok(wait_until(sub { audited("$tag-fail") == 1 }, 5), '... and once the subscriber works, it is audited');
like(error_log_since(0), qr/LENZ2410: event \d+ \(file\.uploaded\): subscriber audit failed \(attempt 1\)/,
     '... the failure was logged');

# The C API in the runner: the selftest job emits system.selftest.
my ($rc, $o) = ctl('enqueue', 'selftest', '{"event": true}');
my ($id) = $o =~ /^job (\d+) queued/m;
ok(wait_until(sub { audited("job:$id") }, 5), 'lenz_event_emit from a job: audited');
is(psql("SELECT type || ' ' || (payload->>'job') FROM audit_log WHERE subject = 'job:$id'"),
   "system.selftest $id", '... as system.selftest with its payload');

# A retry of a job whose effects committed (the note on its row was
# written in their transaction) does not write them again.
my $again = psql("INSERT INTO jobs (kind, payload, result) VALUES ('selftest', '{\"event\": true}', "
                 . "'{\"effects\": \"1\"}') RETURNING id");
ok(wait_until(sub { job_row($again)->{state} eq 'done' }, 5), 'a selftest job whose effects committed earlier: done');
is(psql("SELECT count(*) FROM events WHERE subject = 'job:$again'"), 0, '... without emitting its event again');
is(psql("SELECT result ? 'effects' FROM jobs WHERE id = $id"), 't',
   'the first run noted its effects on the job row');

# The database refuses malformed events.
like(psql("SELECT lenz_event_emit('NoDots', NULL, NULL, NULL)"), qr/ERROR:.*check constraint/,
     'a type without a dot is refused');
like(psql("SELECT lenz_event_emit('a.b', NULL, NULL, '[1]')"), qr/ERROR:.*check constraint/,
     'a payload that is not an object is refused');

like(http_get('/metrics')->content, qr/^lenz_events_dispatched_total [1-9]\d*$/m,
     'metrics count dispatched events');
psql("DELETE FROM jobs WHERE payload->>'t' = '$tag-both'");
