# lenzctl migrate against the real PostgreSQL: ordered, transactional,
# recorded, idempotent, safe to run concurrently, refuses edited history.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 18;
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use Digest::SHA qw(sha256_hex);
use Lenz::Test;

my $env   = stack_env();
my $top   = top_dir();
my $ctl   = "$top/build/lenzctl";
my $super = $env->{LENZ_PG_SUPER_CONNINFO};
(my $conn = $env->{LENZ_PG_CONNINFO}) =~ s{/lenz$}{/lenz_migtest};

sub psql { my ($c, $sql) = @_; my $out = `psql -X -q -A -t -d '$c' -c "$sql" 2>&1`; chomp $out; $out }
sub fresh_db {
    psql($super, 'DROP DATABASE IF EXISTS lenz_migtest');
    psql($super, 'CREATE DATABASE lenz_migtest OWNER lenz');
}
sub migrate { my ($dir) = @_; my $out = `$ctl -d '$conn' migrate $dir 2>&1`; return ($? >> 8, $out) }

fresh_db();
my ($rc, $out) = migrate("$top/sql");
is($rc, 0, 'first run succeeds') or diag $out;
like($out, qr/applied 001_init\.sql/, '... and applies 001_init.sql');
($rc, $out) = migrate("$top/sql");
is($rc, 0, 'second run succeeds');
unlike($out, qr/applied/, '... and applies nothing');
like($out, qr/schema is current/, '... saying the schema is current');

my $sum = do { local $/; open my $fh, '<', "$top/sql/001_init.sql" or die; sha256_hex(<$fh>) };
is(psql($conn, "SELECT checksum FROM schema_migrations WHERE version = '001'"), $sum,
   'recorded in schema_migrations with the file checksum');
is(psql($conn, "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('users','user_keys')"),
   2, 'the tables exist');
# files.sha256 was declared but never written (007 drops it): no column
# may promise a digest nothing computes.
is(psql($conn, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'files' AND column_name = 'sha256'"),
   0, 'files has no never-written sha256 column');
is(psql($conn, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'upload_parts' AND column_name = 'sha256'"),
   1, '... the parts keep theirs (written when a client sends a digest)');

# An applied migration that was edited is refused.
my $dir = tempdir(CLEANUP => 1);
open my $fh, '>', "$dir/001_init.sql" or die;
print $fh "-- edited\n";
close $fh;
($rc, $out) = migrate($dir);
isnt($rc, 0, 'an edited applied migration is refused');
like($out, qr/001_init\.sql was changed after it was applied/, '... saying so');

# A failing migration leaves nothing behind.
$dir = tempdir(CLEANUP => 1);
copy("$top/sql/001_init.sql", "$dir/001_init.sql") or die;
open $fh, '>', "$dir/900_broken.sql" or die;
print $fh "CREATE TABLE half_done (x int);\nSELECT no_such_function();\n";
close $fh;
($rc, $out) = migrate($dir);
isnt($rc, 0, 'a failing migration fails the run');
like($out, qr/900_broken\.sql failed/, '... naming it');
is(psql($conn, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'"),
   0, '... and its statements were rolled back');
is(psql($conn, "SELECT count(*) FROM schema_migrations WHERE version = '900'"), 0, '... and not recorded');

# Two hosts migrating at once: the advisory lock serialises them.
fresh_db();
my @pids;
for my $i (1 .. 2) {
    my $pid = fork // die;
    if (!$pid) { exec "$ctl -d '$conn' migrate $top/sql >$dir/run$i.out 2>&1"; exit 127 }
    push @pids, $pid;
}
my @rcs = map { waitpid($_, 0); $? >> 8 } @pids;
is_deeply(\@rcs, [0, 0], 'two concurrent runs both succeed');
my $applied = () = (join '', map { local $/; open my $f, '<', "$dir/run$_.out"; <$f> } 1 .. 2) =~ /applied 001/g;
is($applied, 1, '... and exactly one applied the migration');
my $nfiles = () = glob "$top/sql/[0-9][0-9][0-9]_*.sql";
is(psql($conn, 'SELECT count(*) FROM schema_migrations'), $nfiles, '... each recorded once');

psql($super, 'DROP DATABASE IF EXISTS lenz_migtest');
