# lenzctl against the real stack: a user with a wrapped key, a file
# imported into encrypted storage and read back (whole and ranged), master
# key rotation without rewriting any object, retirement, and tampering.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 33;
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);
use Lenz::Test;

my $env = stack_env();
my $top = top_dir();
my $dir = tempdir(CLEANUP => 1);
my $key = "$dir/master.key";
# A database of its own: rotation re-wraps every user key in the database,
# and the running httpd's users belong to another master key.
my $super = $env->{LENZ_PG_SUPER_CONNINFO};
(my $conn = $env->{LENZ_PG_CONNINFO}) =~ s{/lenz$}{/lenz_ctltest};
`psql -X -q -d '$super' -c 'DROP DATABASE IF EXISTS lenz_ctltest' 2>&1`;
`psql -X -q -d '$super' -c 'CREATE DATABASE lenz_ctltest OWNER lenz' 2>&1`;
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env -d '$conn'";
`$ctl migrate $top/sql 2>&1`;
local $ENV{LENZ_MASTER_KEY_FILE} = $key;

sub run { my $out = `$_[0] 2>&1`; return ($? >> 8, $out) }
sub psql { my $out = `psql -X -q -A -t -d '$conn' -c "$_[0]" 2>&1`; chomp $out; $out }
sub slurp { local $/; open my $fh, '<:raw', $_[0] or die "$_[0]: $!"; <$fh> }

my ($rc, $out) = run("$ctl gen-master-key $key");
is($rc, 0, 'gen-master-key');
is(sprintf('%o', (stat $key)[2] & 07777), '600', '... mode 0600');
($rc, $out) = run("$ctl gen-master-key $key");
isnt($rc, 0, '... and it never overwrites a key file');

my $email = sprintf('rot-%d-%d@example.org', time, $$);
($rc, $out) = run("echo 'correct horse battery' | $ctl create-user $email --name Rot --password-stdin");
is($rc, 0, 'create-user') or diag $out;
my ($uid) = $out =~ /user ([0-9a-f-]{36}) created/;
ok($uid, '... prints the user id');
like(psql("SELECT password_hash FROM users WHERE id = '$uid'"), qr/^\$scrypt\$ln=\d+,r=\d+,p=\d+\$/,
     '... password stored as a PHC scrypt string');
is(psql("SELECT master_key_version || ':' || octet_length(wrapped_kek) FROM user_keys WHERE user_id = '$uid'"),
   '1:61', '... its key wrapped (61 bytes) by master key version 1');

# A file over several S3 parts (8 MiB of plaintext each) and segments.
my $plain = "$dir/plain.bin";
system("head -c 17000123 /dev/urandom > $plain") == 0 or die;
my $want = sha256_hex(slurp($plain));
($rc, $out) = run("$ctl import --owner $email --name report.pdf --type application/pdf $plain");
is($rc, 0, 'import') or diag $out;
my ($fid) = $out =~ /^([0-9a-f-]{36})$/m;
ok($fid, '... prints the file id');
is(psql("SELECT state || ' ' || storage || ' ' || size || ' ' || name FROM files WHERE id = '$fid'"),
   'ready enc 17000123 report.pdf', '... recorded as a ready encrypted file');

my $obj = "$dir/object.bin";
($rc, $out) = run("/usr/bin/python3 $top/scripts/s3-admin.py --env $env->{LENZ_STACK_DIR}/stack.env get files/$fid $obj");
is($rc, 0, 'the stored object can be fetched') or diag $out;
is(-s $obj, 17000123 + 16 * 260, '... it is the plaintext plus 16 bytes per 64 KiB segment');
is(index(slurp($obj), substr(slurp($plain), 1000, 64)), -1, '... and holds no plaintext');

($rc, $out) = run("$ctl decrypt $fid > $dir/out.bin");
is($rc, 0, 'decrypt');
is(sha256_hex(slurp("$dir/out.bin")), $want, '... gives back every byte');
($rc, $out) = run("$ctl decrypt $fid --range 8388600-8388700 > $dir/range.bin");
is($rc, 0, 'ranged decrypt across a part boundary');
is(slurp("$dir/range.bin"), substr(slurp($plain), 8388600, 101), '... gives exactly those bytes');
($rc, $out) = run("$ctl decrypt $fid --range -10 > $dir/tail.bin");
is(slurp("$dir/tail.bin"), substr(slurp($plain), -10), 'suffix range');
($rc, $out) = run("$ctl decrypt $fid --range 17000123- > /dev/null");
isnt($rc, 0, 'a range past the end is refused');

# Rotation: a new master key version, keys re-wrapped, objects untouched.
($rc, $out) = run("$ctl add-master-key");
is($rc, 0, 'add-master-key') or diag $out;
like(slurp($key), qr/^2:[0-9a-f]{64}$/m, '... version 2 appended');
($rc, $out) = run("$ctl retire-master-key 1");
isnt($rc, 0, 'retiring version 1 while keys use it is refused');
($rc, $out) = run("$ctl rotate-master-key");
is($rc, 0, 'rotate-master-key') or diag $out;
is(psql("SELECT master_key_version FROM user_keys WHERE user_id = '$uid'"), '2', '... the key now under version 2');
($rc, $out) = run("$ctl retire-master-key 1");
is($rc, 0, 'retire-master-key 1') or diag $out;
unlike(slurp($key), qr/^1:/m, '... version 1 is gone from the file');
($rc, $out) = run("$ctl decrypt $fid > $dir/out2.bin");
is($rc, 0, 'decrypt after rotation and retirement');
is(sha256_hex(slurp("$dir/out2.bin")), $want, '... still every byte');
($rc, $out) = run("$ctl retire-master-key 2");
isnt($rc, 0, 'the current version cannot be retired');

# Tampering: one flipped bit in segment 3 stops the output before it.
my $bytes = slurp($obj);
substr($bytes, 3 * 65552 + 100, 1) ^= "\x01";
open my $fh, '>:raw', "$dir/bad.bin" or die;
print $fh $bytes;
close $fh;
($rc, $out) = run("/usr/bin/python3 $top/scripts/s3-admin.py --env $env->{LENZ_STACK_DIR}/stack.env put files/$fid $dir/bad.bin");
is($rc, 0, 'the object was replaced by a tampered copy');
$rc = system("$ctl decrypt $fid 2>$dir/err.txt > $dir/out3.bin") >> 8;
isnt($rc, 0, 'decrypt of a tampered object fails');
like(slurp("$dir/err.txt"), qr/segment failed authentication/, '... saying a segment failed authentication');
is(-s "$dir/out3.bin", 3 * 65536, '... after exactly the three good segments');

`psql -X -q -d '$super' -c 'DROP DATABASE IF EXISTS lenz_ctltest' 2>&1`;
