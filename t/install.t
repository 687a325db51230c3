# `make install DESTDIR=...`: the module (through apxs), lenzctl, the
# templates, htdocs and migrations, and lenz.load/lenz.conf land in the
# usual Debian places under DESTDIR, naming the installed paths; then
# `apache2 -t` passes against a configuration that loads the installed
# module and its installed templates, and the installed example lenz.conf
# is read through to the check of its key file.
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp qw(tempdir);
use Lenz::Test;

my $top = top_dir();
my $env = stack_env();
sub cfg { my ($k) = @_; open my $fh, '<', "$top/config.mk" or die; while (<$fh>) { return $1 if /^\Q$k\E\s*=\s*(.*?)\s*$/ } die "no $k in config.mk" }
my $apxs = cfg('APXS');
my $httpd = cfg('HTTPD_BIN');
chomp(my $libexec = `$apxs -q LIBEXECDIR`);
chomp(my $sysconf = `$apxs -q SYSCONFDIR`);
my $val = sub { my $v = `make --no-print-directory -s -C $top -f apxs.mk --eval 'p: ; \@echo \$($_[0])' p`; chomp $v; $v };
my $bindir = $val->('bindir');
my $datadir = $val->('LENZ_DATADIR');
ok($bindir =~ m{^/} && $datadir =~ m{^/}, "configured bindir ($bindir) and data directory ($datadir)");

my $dest = tempdir(CLEANUP => 1);
my $built = (stat "$top/build/mod_lenz.so")[9];
my $out = `make -s -C $top install DESTDIR=$dest 2>&1`;
is($?, 0, 'make install DESTDIR=... succeeds') or diag($out);
is((stat "$top/build/mod_lenz.so")[9], $built, '... without rebuilding the module');
like($out, qr/install: done \(under \Q$dest\E\)/, '... and says where');

my $so = "$dest$libexec/mod_lenz.so";
ok(-f $so, "the module is in apxs's LIBEXECDIR ($libexec)");
ok(!-e "$dest$libexec/mod_lenz.la", '... without its libtool archive');
like(`nm -D --defined-only $so 2>&1`, qr/\blenz_module\b/, '... exporting lenz_module');
ok(-x "$dest$bindir/lenzctl", "lenzctl is in $bindir");
like(`$dest$bindir/lenzctl 2>&1`, qr/usage|lenzctl/i, '... and runs');
for my $f ('templates/head.mustache', 'templates/account', 'htdocs/js/upload.js', 'htdocs/css/lenz.css',
           'sql/001_init.sql') {
    ok(-e "$dest$datadir/$f", "$datadir/$f is installed");
}
my @sql = glob "$top/sql/*.sql";
is(scalar(() = glob "$dest$datadir/sql/*.sql"), scalar(@sql), '... every migration');
is(sprintf('%o', (stat "$dest$datadir/templates/head.mustache")[2] & 07777), '644', 'data files are 0644');

my $mods = "$dest$sysconf/mods-available";
my $load = do { local $/; open my $fh, '<', "$mods/lenz.load" or die "$mods/lenz.load: $!"; <$fh> };
like($load, qr{^LoadModule lenz_module \Q$libexec\E/mod_lenz\.so$}m, "lenz.load (in $sysconf/mods-available) names the installed module");
my $conf = do { local $/; open my $fh, '<', "$mods/lenz.conf" or die "$mods/lenz.conf: $!"; <$fh> };
like($conf, qr{^\s*LenzTemplateDir\s+\Q$datadir\E/templates$}m, 'lenz.conf names the installed templates');
like($conf, qr{^\s*Alias /static \Q$datadir\E/htdocs$}m, '... and htdocs');

# A configuration that loads the installed module and templates.
my @mods = qw(mpm_event authz_core authz_host mime alias dbd socache_shmcb);
my $modlines = join '', map { "LoadModule ${_}_module $libexec/mod_$_.so\n" } @mods;
(my $load_dest = $load) =~ s{\Q$libexec\E/mod_lenz\.so}{$so};
open my $fh, '>', "$dest/lenz.load" or die;
print $fh $load_dest;
close $fh;
my $base = <<EOF;
ServerRoot $dest
ServerName 127.0.0.1
Listen 127.0.0.1:1
PidFile $dest/httpd.pid
ErrorLog $dest/error_log
$modlines
Include $dest/lenz.load
EOF
open $fh, '>', "$dest/httpd.conf" or die;
print $fh $base, <<EOF;
DBDriver pgsql
DBDParams "$env->{LENZ_PG_CONNINFO}"
LenzMasterKeyFile   "$env->{LENZ_STACK_DIR}/master.key"
LenzS3Endpoint      "$env->{LENZ_S3_ENDPOINT}"
LenzS3Bucket        "$env->{LENZ_S3_BUCKET}"
LenzS3AccessKey     "$env->{LENZ_S3_ACCESS_KEY}"
LenzS3SecretKeyFile "$env->{LENZ_S3_SECRET_FILE}"
LenzSMTPURL         "$env->{LENZ_SMTP_URL}"
LenzMailFrom        install-test\@example.org
LenzPublicURL       http://127.0.0.1
LenzTemplateDir     "$dest$datadir/templates"
LenzJobs            Off
LenzSharedCache     shmcb
Alias /static "$dest$datadir/htdocs"
<Location /upload>
    SetHandler lenz-upload
</Location>
EOF
close $fh;
$out = `$httpd -t -f $dest/httpd.conf 2>&1`;
is($?, 0, 'apache2 -t passes with the installed module and templates') or diag($out);
like($out, qr/Syntax OK/, '... Syntax OK');

# The installed example configuration, as a2enmod would include it: every
# directive in it is one the installed module knows, and its check stops
# only at the example's key file, which this machine does not have.
open $fh, '>', "$dest/example.conf" or die;
print $fh $base, "Include $mods/lenz.conf\n";
close $fh;
{
    $out = `$httpd -t -f $dest/example.conf 2>&1`;
    isnt($?, 0, 'apache2 -t on the installed example lenz.conf fails here');
    like($out, qr/LenzMasterKeyFile: .*\/etc\/lenz\/master\.key/, '... at its key file, naming the directive')
        or diag($out);
}

done_testing();
