# Idempotency-Key on the API's mutations (issue 16): a retry with the same
# key and request gets the first answer again (and nothing runs twice),
# even when the retries race; the same key with another request is 422;
# keys are per member; a run that died frees its key after a minute;
# a part upload ignores the header; bad keys are 400.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('idem');
my $A = member("a-$tag\@example.org");
my $B = member("b-$tag\@example.org");
sub key { ('Idempotency-Key' => "$tag-$_[0]") }
sub count_named { my ($tok, $name) = @_; scalar grep { $_->{name} eq $name } @{ J(api($tok, 'GET', '/folders/root'))->{children} } }

# --- A replay ------------------------------------------------------------------------------------
my $r1 = api($A, 'POST', '/folders', { name => 'Once' }, key('k1'));
is($r1->code, 201, 'POST /folders with a key: 201');
ok(!$r1->header('Idempotent-Replayed'), '... ran (not a replay)');
my $r2 = api($A, 'POST', '/folders', { name => 'Once' }, key('k1'));
is($r2->code, 201, 'the same request with the same key: 201 again');
is($r2->header('Idempotent-Replayed'), 'true', '... marked Idempotent-Replayed');
is(J($r2)->{id}, J($r1)->{id}, '... the same folder');
is($r2->header('Content-Type'), 'application/json', '... as JSON');
is(count_named($A, 'Once'), 1, '... and only one folder exists');
my $r3 = api($A, 'POST', '/folders', { name => 'Once' });
is($r3->code, 409, 'without a key the same request runs again (409 name-taken)');

$r2 = api($A, 'POST', '/folders', { name => 'Other' }, key('k1'));
is($r2->code, 422, 'the key with another body: 422');
like(J($r2)->{type} // '', qr/idempotency-key-reused$/, '... idempotency-key-reused');
is(api($A, 'PATCH', "/folders/" . J($r1)->{id}, { name => 'Once' }, key('k1'))->code, 422, '... with another path: 422');

# An answer that was an error is replayed as that error.
my $e1 = api($A, 'POST', '/folders', { name => 'once' }, key('k2'));
is($e1->code, 409, 'a key whose request answered 409');
$r2 = api($A, 'POST', '/folders', { name => 'once' }, key('k2'));
is($r2->code . ' ' . ($r2->header('Idempotent-Replayed') // ''), '409 true', '... replays the 409');
is(J($r2)->{suggested_name}, 'once (2)', '... with its body');

# DELETE and copy (with Location).
my $f = upload_small($A, '/api/v1/uploads', 'doc.txt', 'content')->{file_id};
$r1 = api($A, 'POST', "/files/$f/copy", { name => 'copy.txt' }, key('k3'));
is($r1->code, 201, 'a copy with a key: 201');
$r2 = api($A, 'POST', "/files/$f/copy", { name => 'copy.txt' }, key('k3'));
is($r2->code, 201, '... retried: 201');
is($r2->header('Location'), $r1->header('Location'), '... with the same Location');
is(count_named($A, 'copy.txt'), 1, '... one copy');
is(api($A, 'DELETE', "/files/$f", undef, key('k4'))->code, 204, 'DELETE with a key: 204');
$r2 = api($A, 'DELETE', "/files/$f", undef, key('k4'));
is($r2->code . ' ' . ($r2->header('Idempotent-Replayed') // ''), '204 true', '... retried: 204 replayed, not 404');
is(api($A, 'DELETE', "/files/$f")->code, 404, '... (without the key: 404)');

# Keys are per member.
$r2 = api($B, 'POST', '/folders', { name => 'Once' }, key('k1'));
is($r2->code, 201, "B's request with A's key runs for B");
isnt(J($r2)->{id}, J($r1)->{id}, '... a folder of their own');

# --- Racing retries ---------------------------------------------------------------------------------
my @pids;
pipe(my $rd, my $wr) or die;
for my $i (1 .. 6) {
    my $pid = fork // die;
    if (!$pid) {
        close $rd;
        my $r = api($A, 'POST', '/folders', { name => 'Raced' }, key('k5'));
        print $wr join(' ', $r->code, J($r)->{id} // '-', J($r)->{type} // '-'), "\n";
        exit 0;
    }
    push @pids, $pid;
}
close $wr;
my @answers = <$rd>;
waitpid $_, 0 for @pids;
chomp @answers;
is(count_named($A, 'Raced'), 1, 'six requests with one key at once: one folder');
my @created = grep { /^201 / } @answers;
my %ids = map { (split / /)[1] => 1 } @created;
ok(@created >= 1 && keys(%ids) == 1, '... every 201 names that folder') or diag explain \@answers;
ok(!grep({ !/^201 / && !/^409 - .*idempotency-in-progress$/ } @answers),
   '... the others were told the first is still running (409)') or diag explain \@answers;

# --- A run that never finished ---------------------------------------------------------------------
my $uid = psql("SELECT id FROM users WHERE email = 'a-$tag\@example.org'");
psql("INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at) VALUES ('$uid', '$tag-k6', "
     . "'\\x00', now() - interval '2 minutes')");
is(api($A, 'POST', '/folders', { name => 'After a crash' }, key('k6'))->code, 201,
   'a key held by a run dead for two minutes is taken over');
psql("INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES ('$uid', '$tag-k7', '\\x00')");
$r2 = api($A, 'POST', '/folders', { name => 'Too soon' }, key('k7'));
is($r2->code, 422, '... one held a moment ago is not (its request differs: 422)');

# --- What ignores or refuses the header ------------------------------------------------------------
my $i = J(api($A, 'POST', '/uploads/encrypted/initiate', { filename => 'p.bin', size => 3 }));
for (1 .. 2) {
    my $res = http_req('POST', "/api/v1/uploads/encrypted/upload-part?token=$i->{token}&part=1",
                       [ bearer($A), key('k8') ], 'abc');
    is($res->code, 200, "an encrypted part with a key, sent twice ($_): 200 (the header is ignored)");
}
for my $bad ('', 'x' x 256, "a b", "caf\x{e9}") {
    my $res = api($A, 'POST', '/folders', { name => 'Bad key' }, 'Idempotency-Key' => $bad);
    next if $bad eq '' && $res->code == 201;        # (an empty header may not be sent at all)
    is($res->code . ' ' . (J($res)->{field} // ''), '400 Idempotency-Key', 'a bad key ' . encode_json([$bad]) . ': 400');
}
is(api(undef, 'POST', '/folders', { name => 'x' }, key('k9'))->code, 401, 'without signing in: 401 as ever');
ok(psql("SELECT count(*) FROM idempotency_keys WHERE user_id = '$uid' AND body LIKE '%Once%'") >= 1,
   'the kept answers are in idempotency_keys (purged after a day by lenz-purge-expired)');

done_testing();
