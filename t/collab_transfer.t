# Transferring a shared folder's ownership (issue 18, item 1): the owner
# offers the folder to an active member, who accepts (it counts against
# their quota) or declines; accepting re-wraps every file key of the
# subtree under the new owner's KEK (the ciphertext and the S3 objects stay
# as they are), moves the tree to the top of the new owner's files, makes
# the links and requests theirs and the former owner a co-owner.  Bad
# input and other people's offers answer 4xx; nothing changes on a refusal.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Time::HiRes ();
use IO::Uncompress::Unzip qw($UnzipError);
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('tr');
my %mail = map { $_ => "$_-$tag\@example.org" } qw(owner new view out late);
my $O = member($mail{owner});
my $N = member($mail{new});
my $V = member($mail{view});
my $X = member($mail{out});
my $L = member($mail{late});
psql("UPDATE users SET name = 'Olga Owner' WHERE email = '$mail{owner}'");
psql("UPDATE users SET name = 'Nina New' WHERE email = '$mail{new}'");
my %uid = map { $_ => psql("SELECT id FROM users WHERE email = '$mail{$_}'") } keys %mail;

sub unzip {
    my ($zip) = @_;
    my %e;
    my $z = IO::Uncompress::Unzip->new(\$zip) or return { error => $UnzipError };
    for (my $st = 1; $st > 0; $st = $z->nextStream) {
        my ($buf, $all) = ('', '');
        my $name = $z->getHeaderInfo->{Name};
        while ((my $n = $z->read($buf)) > 0) { $all .= $buf }
        $e{$name} = $all;
    }
    return \%e;
}
sub up { upload_small($_[0], '/api/v1/uploads', $_[1], $_[2], folder_id => $_[3])->{file_id} }
sub used { J(api($_[0], 'GET', '/me/storage'))->{used} }

# --- A shared folder with files, a copy, a trashed file, links ---------------------------------------
my $team = J(api($O, 'POST', '/folders', { name => 'Team' }));
my $sub = J(api($O, 'POST', '/folders', { name => 'Sub', parent_id => $team->{id} }));
my $a = up($O, 'a.txt', 'A' x 5000, $team->{id});
my $b = up($O, 'b.txt', 'B' x 3000, $sub->{id});
my $c = up($O, 'c.txt', 'C' x 1000, $team->{id});
my $res = api($O, 'POST', "/files/$a/copy", { folder_id => $sub->{id}, name => 'a-copy.txt' });
is($res->code, 201, 'the owner copies a.txt into Sub (same ciphertext, crypt_id)');
my $copy = J($res)->{id};
is(api($O, 'DELETE', "/files/$c")->code, 204, '... and trashes c.txt');
my $bytes = 5000 + 3000 + 1000 + 5000;
for my $who (qw(new view)) {
    my $s = J(api($O, 'POST', "/folders/$team->{id}/shares", { email => $mail{$who}, role => $who eq 'new' ? 'editor' : 'viewer' }));
    is(api($who eq 'new' ? $N : $V, 'POST', "/shares/$s->{id}/accept")->code, 200, "$who joins Team");
}
api($O, 'POST', "/folders/$team->{id}/shares", { email => $mail{late}, role => 'viewer' });    # not accepted
my $flink = J(api($O, 'POST', '/links', { folder_id => $team->{id} }));
my $blink = J(api($O, 'POST', '/links', { file_id => $b }));
ok($flink->{token} && $blink->{token}, "links to the folder and to b.txt");
my $wrapped = sub { psql("SELECT encode(wrapped_dek, 'hex') FROM files WHERE id = '$_[0]'") };
my %before = map { $_ => $wrapped->($_) } $a, $b, $c, $copy;
my %keys = map { $_ => psql("SELECT s3_key FROM files WHERE id = '$_'") } $a, $b, $c, $copy;
my ($o_used, $n_used) = (used($O), used($N));

# --- Offers that are refused --------------------------------------------------------------------------
my @bad = (
    [ $V, { email => $mail{new} }, 403, 'role-forbids', 'a viewer offering it' ],
    [ $N, { email => $mail{new} }, 403, 'role-forbids', 'an editor offering it' ],
    [ $X, { email => $mail{out} }, 404, 'not-found', 'an outsider offering it' ],
    [ $O, { email => $mail{out} }, 400, 'invalid-field', 'to someone without a share' ],
    [ $O, { email => $mail{late} }, 400, 'invalid-field', 'to someone who has not accepted' ],
    [ $O, { email => $mail{owner} }, 400, 'invalid-field', 'to the owner' ],
    [ $O, { email => 'no-address' }, 400, 'invalid-field', 'to a malformed address' ],
    [ $O, {}, 400, 'invalid-field', 'to nobody' ],
);
for my $t (@bad) {
    my ($who, $body, $code, $type, $what) = @$t;
    $res = api($who, 'POST', "/folders/$team->{id}/transfer", $body);
    is($res->code, $code, "an offer $what: $code");
    like(J($res)->{type} // '', qr/\Q$type\E$/, "... $type");
}
is(api($O, 'POST', '/folders/00000000-0000-0000-0000-000000000000/transfer', { email => $mail{new} })->code, 404,
   'an offer of a folder that does not exist: 404');
is(api($O, 'GET', "/folders/$team->{id}/transfer")->code, 404, 'no offer yet: GET 404');
is(api($N, 'POST', "/folders/$team->{id}/transfer/accept")->code, 404, '... accepting nothing: 404');

# --- The offer ----------------------------------------------------------------------------------------
$res = api($O, 'POST', "/folders/$team->{id}/transfer", { email => uc $mail{new} });
is($res->code, 201, 'POST /folders/{id}/transfer: 201');
my $offer = J($res);
is_deeply([ sort keys %$offer ], [qw(created_at email folder_id status)], '... {"folder_id","email","status","created_at"}');
is_deeply([ @$offer{qw(folder_id email status)} ], [ $team->{id}, $mail{new}, 'offered' ], '... offered to the member');
is(J(api($N, 'GET', "/folders/$team->{id}/transfer"))->{email}, $mail{new}, 'the member offered sees it');
is(J(api($N, 'GET', "/folders/$team->{id}/shares"))->{transfer}{status}, 'offered', '... also in the share list');
is(api($V, 'GET', "/folders/$team->{id}/transfer")->code, 404, 'another member does not');
ok(!exists J(api($V, 'GET', "/folders/$team->{id}/shares"))->{transfer}, '... nor in their share list');
is(api($X, 'GET', "/folders/$team->{id}/transfer")->code, 404, '... nor an outsider');
ok(wait_until(sub { psql("SELECT count(*) FROM notifications WHERE user_id = '$uid{new}' "
                         . "AND type = 'share.transfer_offered'") == 1 }, 10), 'the member gets a notice');
my $m = mail_to($mail{new}, 10, qr/ownership/);
ok($m, '... and a mail');
(my $plain = $m // '') =~ s/=\r?\n//g;     # quoted-printable's soft breaks
like($plain, qr{/collab/folder/\Q$team->{id}\E}, '... leading to the folder');
is(api($V, 'POST', "/folders/$team->{id}/transfer/accept")->code, 404, 'another member accepting it: 404');
is(api($O, 'POST', "/folders/$team->{id}/transfer/accept")->code, 404, '... the owner accepting it: 404');
is(api($X, 'DELETE', "/folders/$team->{id}/transfer")->code, 404, '... an outsider withdrawing it: 404');

# Over the new owner's quota: refused, nothing changes.
psql("UPDATE users SET quota = " . ($n_used + $bytes - 1) . " WHERE id = '$uid{new}'");
$res = api($N, 'POST', "/folders/$team->{id}/transfer/accept");
is($res->code, 413, "accepting past one's quota: 413");
like(J($res)->{type} // '', qr/quota-exceeded$/, '... quota-exceeded');
is(psql("SELECT count(*) FROM files WHERE id IN ('$a','$b','$c','$copy') AND owner_id = '$uid{owner}' "
        . "AND kek_user_id = '$uid{owner}'"), 4, '... every file still the owner\'s, under their key');
psql("UPDATE users SET quota = NULL WHERE id = '$uid{new}'");

# --- Accepted ------------------------------------------------------------------------------------------
my $own_team = J(api($N, 'POST', '/folders', { name => 'team' }));   # the name is taken in their root
$res = api($N, 'POST', "/folders/$team->{id}/transfer/accept");
is($res->code, 200, 'POST /folders/{id}/transfer/accept: 200') or diag $res->content;
my $acc = J($res);
is_deeply([ @$acc{qw(folder_id name files bytes previous_owner)} ], [ $team->{id}, 'Team (2)', 4, $bytes, $mail{owner} ],
          '... {"folder_id","name" (free in their root),"files","bytes","previous_owner"}');
my $nroot = J(api($N, 'GET', '/folders/root'))->{id};
is(psql("SELECT owner_id || ' ' || parent_id || ' ' || path || ' ' || depth FROM folders WHERE id = '$team->{id}'"),
   "$uid{new} $nroot /Team (2) 1", "the folder is at the top of the new owner's tree");
is(psql("SELECT owner_id || ' ' || path || ' ' || depth FROM folders WHERE id = '$sub->{id}'"),
   "$uid{new} /Team (2)/Sub 2", '... its subfolder follows');
is(psql("SELECT count(*) FROM files WHERE id IN ('$a','$b','$c','$copy') AND owner_id = '$uid{new}' "
        . "AND kek_user_id = '$uid{new}'"), 4, "every file (the trashed one too) is the new owner's, under their key");
ok(!grep({ $wrapped->($_) eq $before{$_} } keys %before), '... each file key wrapped anew');
is(scalar(grep { psql("SELECT s3_key FROM files WHERE id = '$_'") eq $keys{$_} } keys %keys), 4,
   '... the S3 objects unchanged');
is(used($N), $n_used + $bytes, "the bytes count against the new owner's storage");
is(used($O), $o_used - $bytes, "... and no longer against the former owner's");

# Everybody reads what they read before, byte for byte.
for my $t ([ $N, 'the new owner' ], [ $O, 'the former owner' ], [ $V, 'the viewer' ]) {
    my ($who, $what) = @$t;
    my $r1 = api($who, 'GET', "/files/$a/content");
    is($r1->code . ' ' . length($r1->content) . ' ' . ($r1->content eq 'A' x 5000 ? 'same' : 'differs'), '200 5000 same',
       "$what reads a.txt");
}
is(api($N, 'GET', "/files/$copy/content")->content, 'A' x 5000, '... the copy (its key bound to the original\'s id)');
is(api($N, 'GET', "/files/$b/content")->content, 'B' x 3000, '... b.txt in Sub');
is(J(api($O, 'GET', "/folders/$team->{id}"))->{role}, 'co-owner', 'the former owner is a co-owner now');
is(J(api($N, 'GET', "/folders/$team->{id}"))->{role}, 'owner', '... the new owner its owner');
is(psql("SELECT count(*) FROM shares WHERE folder_id = '$team->{id}' AND user_id = '$uid{new}'"), 0,
   "... and the new owner's share is gone");
is(J(api($V, 'GET', "/folders/$team->{id}"))->{role}, 'viewer', 'the viewer keeps their role');
is(http_get("/download/$blink->{token}")->content, 'B' x 3000, 'the link to b.txt still downloads it');
is_deeply([ sort keys %{ unzip(http_get("/download/$flink->{token}/zip")->content) } ],
          [ 'Sub/a-copy.txt', 'Sub/b.txt', 'a.txt' ], "... the folder's link its ZIP");
ok(grep({ $_->{id} eq $flink->{id} } @{ J(api($N, 'GET', '/links'))->{links} }), "the links are the new owner's");
is(api($N, 'POST', "/folders/$team->{id}/transfer/accept")->code, 404, 'accepting twice: 404 (no offer left)');
is(psql("SELECT count(*) FROM files WHERE id = '$c' AND trashed_at IS NOT NULL"), 1, 'c.txt still in the trash');
ok(grep({ $_->{id} eq $c } @{ J(api($N, 'GET', '/trash'))->{items} }), "... the new owner's");
ok(wait_until(sub { psql("SELECT count(*) FROM activity WHERE folder_id = '$team->{id}' AND verb = 'took ownership'") == 1 }, 10),
   "the folder's activity says so");
ok(wait_until(sub { psql("SELECT count(*) FROM notifications WHERE user_id = '$uid{owner}' "
                         . "AND type = 'share.transferred'") == 1 }, 10), '... and the former owner gets a notice');

# --- Declined, withdrawn ------------------------------------------------------------------------------
$res = api($N, 'POST', "/folders/$team->{id}/transfer", { email => $mail{owner} });
is($res->code, 201, 'the new owner offers it back');
is(api($O, 'DELETE', "/folders/$team->{id}/transfer")->code, 204, '... the former owner declines: 204');
is(api($O, 'POST', "/folders/$team->{id}/transfer/accept")->code, 404, '... then there is nothing to accept');
ok(wait_until(sub { psql("SELECT count(*) FROM notifications WHERE user_id = '$uid{new}' "
                         . "AND type = 'share.transfer_declined'") == 1 }, 10), '... the new owner hears of it');
is(api($N, 'POST', "/folders/$team->{id}/transfer", { email => $mail{view} })->code, 201, 'offered to the viewer');
is(api($N, 'DELETE', "/folders/$team->{id}/transfer")->code, 204, '... withdrawn: 204');
is(api($V, 'GET', "/folders/$team->{id}/transfer")->code, 404, '... the viewer sees no offer');
is(api($V, 'POST', "/folders/$team->{id}/transfer/accept")->code, 404, '... and cannot accept');

# --- Many keys: the batches ---------------------------------------------------------------------------
# 2,000 copies of one encrypted file (the rows a copy makes: the same
# wrapped key, bound to the original's id) and the original in one folder:
# five batches of re-wrapping, every row under the new owner's key after.
my $many = J(api($O, 'POST', '/folders', { name => 'Many' }));
my $orig = up($O, 'orig.txt', 'M' x 700, $many->{id});
my $cols = psql("SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'files' "
                . "AND is_generated = 'NEVER' AND column_name NOT IN ('id', 'name', 's3_key', 'crypt_id', 'created_at', 'updated_at')");
psql("INSERT INTO files ($cols, name, s3_key, crypt_id) SELECT $cols, 'copy-' || g || '.txt', s3_key || '/' || g, "
     . "coalesce(crypt_id, id) FROM files, generate_series(1, 2000) g WHERE id = '$orig'");
is(psql("SELECT count(*) FROM files WHERE folder_id = '$many->{id}' AND kek_user_id = '$uid{owner}'"), 2001,
   'Many holds 2,001 encrypted files under the owner\'s key');
my $ms = J(api($O, 'POST', "/folders/$many->{id}/shares", { email => $mail{view}, role => 'viewer' }));
api($V, 'POST', "/shares/$ms->{id}/accept");
is(api($O, 'POST', "/folders/$many->{id}/transfer", { email => $mail{view} })->code, 201, '... offered to the viewer');
my $t0 = Time::HiRes::time();
$res = api($V, 'POST', "/folders/$many->{id}/transfer/accept");
my $took = Time::HiRes::time() - $t0;
is($res->code . ' ' . (J($res)->{files} // ''), '200 2001', '... accepted: 2,001 files');
is(psql("SELECT count(*) FROM files WHERE folder_id = '$many->{id}' AND kek_user_id = '$uid{view}' "
        . "AND owner_id = '$uid{view}'"), 2001, "... every key re-wrapped under the new owner's");
is(api($V, 'GET', "/files/$orig/content")->content, 'M' x 700, '... and the original reads byte for byte');
Lenz::Jobs::figure(sprintf('ownership of a folder of 2,001 encrypted files accepted in %.2f s', $took));

# --- Too many files for one transfer ------------------------------------------------------------------
my $big = J(api($N, 'POST', '/folders', { name => 'Big' }));
my ($rc, $out) = ctl('fill-folder', '--user', $mail{new}, '--folder', $big->{id}, '--count', 10001, '--prefix', 'row');
is($rc, 0, 'lenzctl fill-folder: 10,001 files') or diag $out;
my $s = J(api($N, 'POST', "/folders/$big->{id}/shares", { email => $mail{view}, role => 'viewer' }));
api($V, 'POST', "/shares/$s->{id}/accept");
is(api($N, 'POST', "/folders/$big->{id}/transfer", { email => $mail{view} })->code, 201, 'Big offered');
$res = api($V, 'POST', "/folders/$big->{id}/transfer/accept");
is($res->code, 413, 'accepting 10,001 files: 413');
like(J($res)->{type} // '', qr/too-many-files$/, '... too-many-files');
is(psql("SELECT owner_id FROM folders WHERE id = '$big->{id}'"), $uid{new}, '... nothing changed');

done_testing();
