# Password hashing costs memory (scrypt at ln=17: 128 MiB a hash), so a
# process computes at most LenzPasswordHashes of them at once (issue 15,
# item 4).  A second httpd with LenzPasswordHashes 1 takes sixteen
# sign-ins of sixteen members at once: every one is answered, and no child
# process's peak memory grows by more than one hash (without the gate, the
# children that took several at once grew by one hash each).  Also: new
# hashes are made at OWASP's scrypt baseline (item 12), and a hash made at
# the old parameters is upgraded at the next sign-in.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use LWP::UserAgent;
use Lenz::Test;
use Lenz::Jobs;

my $env = stack_env();
my $top = top_dir();
my $tag = uniq('pw');
my $PW = 'correct horse battery';
my $J = JSON::PP->new->canonical;
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $HASH_MIB = 128;

my @users = map { "pw$_-$tag\@example.org" } 1 .. 16;
for my $u (@users) {
    my $out = `echo '$PW' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $u --password-stdin 2>&1`;
    die "create-user: $out" if $?;
}
like(psql("SELECT password_hash FROM users WHERE email = '$users[0]'"), qr/^\$scrypt\$ln=17,r=8,p=1\$/,
     'new password hashes use scrypt ln=17 r=8 p=1 (OWASP baseline)');

my ($base, $stop, $dir) = second_httpd(offset => 500, config => 'LenzPasswordHashes 1 20');

sub children {
    my $pid = do { open my $fh, '<', "$dir/httpd.pid" or die; local $/; <$fh> };
    chomp $pid;
    my %kib;
    for my $c (split ' ', `pgrep -P $pid 2>/dev/null`) {
        open my $fh, '<', "/proc/$c/status" or next;
        while (<$fh>) { $kib{$c} = $1 if /^VmHWM:\s+(\d+)/ }
    }
    return \%kib;
}
# Warm every child up with a request of no cost, so their peaks start from a
# process that has served (and loaded what serving loads).
my $ua = LWP::UserAgent->new(timeout => 60);
$ua->get("$base/api/v1/me") for 1 .. 30;
my $before = children();
ok(scalar(keys %$before) >= 2, scalar(keys %$before) . ' child processes');

my (@pipes, @pids);
my $go = time + 1;
for my $u (@users) {
    pipe(my $r, my $w) or die;
    my $pid = fork // die;
    if (!$pid) {
        close $r;
        select undef, undef, undef, 0.01 while time < $go;
        my $res = LWP::UserAgent->new(timeout => 60)->post("$base/api/v1/auth/login",
            'Content-Type' => 'application/json', Content => $J->encode({ email => $u, password => $PW }));
        print $w $res->code;
        close $w;
        require POSIX;
        POSIX::_exit(0);
    }
    close $w;
    push @pipes, $r;
    push @pids, $pid;
}
my @codes = map { local $/; my $fh = $_; my $v = <$fh>; close $fh; $v } @pipes;
waitpid $_, 0 for @pids;
is(scalar(grep { $_ eq '200' } @codes), 16, "sixteen sign-ins at once: all answered 200 (@codes)");

my $after = children();
my ($worst, $grew) = (0, 0);
for my $c (keys %$after) {
    my $d = ($after->{$c} - ($before->{$c} // $after->{$c})) / 1024;
    $grew++ if $d > $HASH_MIB / 2;
    $worst = $d if $d > $worst;
}
ok($grew >= 1, "... the hashes ran ($grew children grew by half a hash or more)");
cmp_ok($worst, '<=', $HASH_MIB + 48, sprintf('no child\'s peak memory grew by more than one hash (+%.0f MiB; a hash is %d MiB)',
                                             $worst, $HASH_MIB));
figure(sprintf('sixteen sign-ins at once with LenzPasswordHashes 1: largest child peak +%.0f MiB', $worst));

# A hash at the old parameters (ln=15) is upgraded when its owner signs in.
my $old = `echo '$PW' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user old-$tag\@example.org --password-stdin 2>&1`;
my $h15 = '$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg';
psql("UPDATE users SET password_hash = '$h15' WHERE email = 'old-$tag\@example.org'");
my $res = $ua->post("$base/api/v1/auth/login", 'Content-Type' => 'application/json',
                    Content => $J->encode({ email => "old-$tag\@example.org", password => 'correct horse battery staple' }));
is($res->code, 200, 'a member whose hash is at ln=15 signs in');
like(psql("SELECT password_hash FROM users WHERE email = 'old-$tag\@example.org'"), qr/^\$scrypt\$ln=17,/,
     '... and the hash is made anew at ln=17');

$stop->();
done_testing();
