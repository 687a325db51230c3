# Start-up validation: `apache2 -t` with mod_lenz from the build tree must
# refuse each misconfiguration with a message naming the directive.
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Path qw(make_path);
use Apache::Test ();
use Lenz::Test;

my $vars  = Apache::Test::vars();
my $top   = top_dir();
my $httpd = $vars->{httpd};
my $dir   = "$vars->{t_logs}/configtest";
make_path("$dir/tpl-empty", "$dir/tpl-bad");

sub write_file {
    my ($path, $text, $mode) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
    chmod $mode, $path if defined $mode;
    return $path;
}

my $hex = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
my $key     = write_file("$dir/master.key", "1:$hex\n", 0600);
my $key644  = write_file("$dir/master-644.key", "1:$hex\n", 0644);
my $key640  = write_file("$dir/master-640.key", "1:$hex\n", 0640);
my $keybad  = write_file("$dir/master-bad.key", "this is not a key\n", 0600);
my $secret  = write_file("$dir/s3.secret", "s3cr3t\n", 0600);
my $secret4 = write_file("$dir/s3-world.secret", "s3cr3t\n", 0644);
my $secret640 = write_file("$dir/s3-group.secret", "s3cr3t\n", 0640);
my $secret620 = write_file("$dir/s3-groupw.secret", "s3cr3t\n", 0620);
my $secret604 = write_file("$dir/s3-other.secret", "s3cr3t\n", 0604);
my $auth    = write_file("$dir/smtp.auth", "mailer:pw\n", 0600);
my $auth4   = write_file("$dir/smtp-world.auth", "mailer:pw\n", 0644);
my $auth640 = write_file("$dir/smtp-group.auth", "mailer:pw\n", 0640);
my $auth660 = write_file("$dir/smtp-group-rw.auth", "mailer:pw\n", 0660);
my $authbad = write_file("$dir/smtp-bad.auth", "no colon here\n", 0600);
my $pem = <<'PEM';
-----BEGIN CERTIFICATE-----
MIIBijCCATGgAwIBAgIURX7tujtlBKSytn0VaTGxn9lreoswCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQbGVueiB0ZXN0IHZlY3RvcjAeFw0yNjExMjIwMjAwMjZaFw0z
NjExMTkwMjAwMjZaMBsxGTAXBgNVBAMMEGxlbnogdGVzdCB2ZWN0b3IwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAATUtv3w+tqAjBqwcE9epXZSSo4yf6+/DfDzB54x
g554mHYu4oc/ESu/QovU/0FsVtUafsgazdd38d0PJxpkgM9io1MwUTAdBgNVHQ4E
FgQUuZwxpMG47+Vpx0MmNAVugEFTDvMwHwYDVR0jBBgwFoAUuZwxpMG47+Vpx0Mm
NAVugEFTDvMwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiB7NGak
ZDv6XcArZvJ4jGwPrmdthbIAtZZhu1hxulBI3gIgPwF/JaoK8SXAIdleEV7o89m5
r3ygEXogEerJgceZnC4=
-----END CERTIFICATE-----
PEM
my $ca      = write_file("$dir/ca.pem", $pem, 0644);
my $canone  = write_file("$dir/ca-none.pem", "no certificate here\n", 0644);
my $cabad   = write_file("$dir/ca-bad.pem", $pem =~ s/MIIB/!!!!/r, 0644);
write_file("$dir/tpl-empty/readme.txt", "no templates here\n");
write_file("$dir/tpl-bad/error.mustache", "line one\n{{#open}}\nnever closed\n");

my @modules = do {
    open my $fh, '<', "$top/t/conf/modules.conf" or die $!;
    grep { /^LoadModule/ } <$fh>;
};

my %good = (
    LenzMasterKeyFile   => $key,
    LenzS3Endpoint      => 'http://127.0.0.1:18000',
    LenzS3Bucket        => 'lenz',
    LenzS3Region        => 'us-east-1',
    LenzS3AccessKey     => 'AKIDEXAMPLE',
    LenzS3SecretKeyFile => $secret,
    LenzSMTPURL         => 'smtp://127.0.0.1:18025',
    LenzMailFrom        => 'lenz@example.org',
    LenzPublicURL       => 'https://files.example.org',
    LenzTemplateDir     => "$top/templates",
    LenzJobsDB          => '"host=127.0.0.1 dbname=lenz user=lenz"',
);

# Writes a config from %good with overrides (undef removes a directive)
# and runs httpd -t on it.  Returns (exit status, output).
sub configtest {
    my (%over) = @_;
    my $no_dbd = delete $over{_no_dbd};
    my $no_lenz = delete $over{_no_lenz};
    my %d = (%good, %over);
    my $conf = "ServerRoot \"$dir\"\nServerName 127.0.0.1\nListen 127.0.0.1:65001\n"
             . "PidFile \"$dir/httpd.pid\"\nErrorLog \"$dir/error_log\"\n";
    $conf .= join '', grep { !$no_dbd || !/dbd_module/ } @modules;
    $conf .= "LoadModule lenz_module \"$top/build/mod_lenz.so\"\n";
    $conf .= "DBDriver pgsql\n" unless $no_dbd;
    unless ($no_lenz) {
        for my $k (sort keys %d) {
            next unless defined $d{$k};
            $conf .= "$k $d{$k}\n";
        }
    }
    my $file = write_file("$dir/httpd.conf", $conf);
    my $out = `$httpd -t -f $file 2>&1`;
    return ($? >> 8, $out);
}

my @bad = (
    [ 'missing master key file', { LenzMasterKeyFile => undef },
      qr/LENZ0010: LenzMasterKeyFile: is required but not set/ ],
    [ 'world-readable master key', { LenzMasterKeyFile => $key644 },
      qr/LENZ0010: LenzMasterKeyFile: .*readable by group or others/ ],
    [ 'group-readable master key', { LenzMasterKeyFile => $key640 },
      qr/LENZ0010: LenzMasterKeyFile: .*readable by group or others/ ],
    [ 'absent master key file', { LenzMasterKeyFile => "$dir/nope.key" },
      qr/LENZ0010: LenzMasterKeyFile: .*nope\.key/ ],
    [ 'malformed master key file', { LenzMasterKeyFile => $keybad },
      qr/LENZ0010: LenzMasterKeyFile: .*line 1/ ],
    [ 'missing S3 endpoint', { LenzS3Endpoint => undef },
      qr/LENZ0010: LenzS3Endpoint: is required/ ],
    [ 'S3 endpoint not a URL', { LenzS3Endpoint => 'not-a-url' },
      qr/LenzS3Endpoint: 'not-a-url' is not an absolute URL/ ],
    [ 'S3 endpoint with another scheme', { LenzS3Endpoint => 'ftp://127.0.0.1' },
      qr/LenzS3Endpoint: scheme 'ftp' is not supported/ ],
    [ 'S3 endpoint with a path', { LenzS3Endpoint => 'http://127.0.0.1/bucket' },
      qr/LenzS3Endpoint: the URL must not have a path/ ],
    [ 'bad bucket name', { LenzS3Bucket => 'Bad_Bucket' },
      qr/LenzS3Bucket: 'Bad_Bucket' is not a valid bucket name/ ],
    [ 'missing access key', { LenzS3AccessKey => undef },
      qr/LENZ0010: LenzS3AccessKey: is required/ ],
    [ 'absent secret key file', { LenzS3SecretKeyFile => "$dir/nope.secret" },
      qr/LENZ0010: LenzS3SecretKeyFile: cannot read/ ],
    [ 'world-readable secret key file', { LenzS3SecretKeyFile => $secret4 },
      qr/LENZ0010: LenzS3SecretKeyFile: .*readable by everyone/ ],
    # The master key's rule for every secret file: nothing for group or others.
    [ 'group-readable secret key file', { LenzS3SecretKeyFile => $secret640 },
      qr/LENZ0010: LenzS3SecretKeyFile: '\S*s3-group\.secret' is readable by its group \(mode 0640\)/ ],
    [ 'group-writable secret key file', { LenzS3SecretKeyFile => $secret620 },
      qr/LENZ0010: LenzS3SecretKeyFile: .*accessible by group or others \(mode 0620\): .*; chmod 600 it/ ],
    [ 'secret key file readable by others only', { LenzS3SecretKeyFile => $secret604 },
      qr/LENZ0010: LenzS3SecretKeyFile: .*readable by everyone \(mode 0604\)/ ],
    [ 'SMTP URL with an HTTP scheme', { LenzSMTPURL => 'http://127.0.0.1:25' },
      qr/LenzSMTPURL: scheme 'http' is not supported/ ],
    [ 'missing SMTP URL', { LenzSMTPURL => undef },
      qr/LENZ0010: LenzSMTPURL: is required/ ],
    [ 'sender without @', { LenzMailFrom => 'nobody' },
      qr/LenzMailFrom: 'nobody' is not an e-mail address/ ],
    [ 'public URL not a URL', { LenzPublicURL => 'files' },
      qr/LenzPublicURL: 'files' is not an absolute URL/ ],
    [ 'public URL with a query', { LenzPublicURL => 'https://x.example/?a=1' },
      qr/LenzPublicURL: the URL must not have a query/ ],
    [ 'absent template directory', { LenzTemplateDir => "$dir/no-such-dir" },
      qr/LENZ0010: LenzTemplateDir: cannot open template directory/ ],
    [ 'template directory without error.mustache', { LenzTemplateDir => "$dir/tpl-empty" },
      qr/LENZ0010: LenzTemplateDir: .*has no error\.mustache/ ],
    [ 'template with a syntax error', { LenzTemplateDir => "$dir/tpl-bad" },
      qr{LENZ0010: LenzTemplateDir: template \S*tpl-bad/error\.mustache: .*2.*never closed} ],
    [ 'bad timeouts', { LenzS3Timeouts => '0' },
      qr/LenzS3Timeouts \(connect\): '0' is not a number of seconds/ ],
    [ 'mod_dbd not loaded', { _no_dbd => 1 },
      qr/LENZ0001: mod_dbd is not loaded/ ],
    [ 'jobs on without LenzJobsDB', { LenzJobsDB => undef },
      qr/LENZ0010: LenzJobsDB: is required while LenzJobs is On/ ],
    [ 'LenzJobsDB libpq cannot parse', { LenzJobsDB => '"host=x port"' },
      qr/LENZ0010: LenzJobsDB: libpq cannot parse it: missing "=" after "port"/ ],
    [ 'LenzJobs neither on nor off', { LenzJobs => 'maybe' },
      qr/LenzJobs must be On or Off/ ],
    [ 'LenzJobWorkers 0', { LenzJobWorkers => 0 },
      qr/LenzJobWorkers: '0' is not a number from 1 to 32/ ],
    [ 'LenzEventStreams 0', { LenzEventStreams => 0 },
      qr/LenzEventStreams \(per host\): '0' is not a number from 1 to 1000000/ ],
    [ 'LenzEventStreams per member not a number', { LenzEventStreams => 'auto many' },
      qr/LenzEventStreams \(per member\): 'many' is not a number from 1 to 10000/ ],
    [ 'LenzJobPollInterval not a number', { LenzJobPollInterval => '5s' },
      qr/LenzJobPollInterval \(seconds\): '5s' is not a number from 1 to 3600/ ],
    [ 'LenzJobBackoff maximum below the base', { LenzJobBackoff => '60 10' },
      qr/LenzJobBackoff: the maximum is smaller than the base/ ],
    [ 'LenzUploadPolicy unknown', { LenzUploadPolicy => 'sometimes' },
      qr/LenzUploadPolicy: choice, encrypted or plain/ ],
    [ 'LenzUploadPolicy plain with a threshold', { LenzUploadPolicy => 'plain 1G' },
      qr/LenzUploadPolicy: a size threshold only goes with choice or encrypted/ ],
    [ 'LenzUploadPolicy with a bad threshold', { LenzUploadPolicy => 'choice big' },
      qr/LenzUploadPolicy: the threshold must be a size such as 2G/ ],
    [ 'LenzMemberQuota with no files per transfer', { LenzMemberQuota => '10G 0' },
      qr/LenzMemberQuota: files per transfer must be 1-10000/ ],
    [ 'LenzMemberQuota with a bad file count', { LenzMemberQuota => '10G many' },
      qr/LenzMemberQuota: files per transfer must be 1-10000/ ],
    [ 'LenzUploadPartDigest unknown', { LenzUploadPartDigest => 'sometimes' },
      qr/LenzUploadPartDigest: client or always/ ],
    [ 'LenzNetworkRead too small', { LenzNetworkRead => '4K' },
      qr/LenzNetworkRead: off, or a size from 8K to 1M/ ],
    [ 'LenzNetworkRead too large', { LenzNetworkRead => '2M' },
      qr/LenzNetworkRead: off, or a size from 8K to 1M/ ],
    [ 'LenzUploadAbandonAfter too short', { LenzUploadAbandonAfter => '5m' },
      qr/LenzUploadAbandonAfter: an age such as 24h/ ],
    [ 'LenzSMTPTLS unknown', { LenzSMTPTLS => 'maybe' },
      qr/LenzSMTPTLS: use 'off', 'starttls' or 'required'/ ],
    [ 'LenzSMTPTLS off with smtps://', { LenzSMTPTLS => 'off', LenzSMTPURL => 'smtps://mail.example.org:465' },
      qr/LENZ0010: LenzSMTPTLS: 'off' contradicts the smtps:\/\/ URL/ ],
    [ 'SMTP password in clear to another host', { LenzSMTPAuthFile => $auth, LenzSMTPURL => 'smtp://mail.example.org:587' },
      qr/LENZ0010: LenzSMTPAuthFile: the password would cross the network unencrypted/ ],
    [ 'world-readable SMTP auth file', { LenzSMTPAuthFile => $auth4 },
      qr/LENZ0010: LenzSMTPAuthFile: .*readable by everyone/ ],
    [ 'group-readable SMTP auth file', { LenzSMTPAuthFile => $auth640 },
      qr/LENZ0010: LenzSMTPAuthFile: '\S*smtp-group\.auth' is readable by its group \(mode 0640\)/ ],
    [ 'group-readable and writable SMTP auth file', { LenzSMTPAuthFile => $auth660 },
      qr/LENZ0010: LenzSMTPAuthFile: .*readable by its group \(mode 0660\)/ ],
    [ 'SMTP auth file without user:password', { LenzSMTPAuthFile => $authbad },
      qr/LENZ0010: LenzSMTPAuthFile: .* must hold user:password/ ],
    [ 'absent SMTP CA file', { LenzSMTPCAFile => "$dir/nope.pem" },
      qr/LENZ0010: LenzSMTPCAFile: cannot read '\S*nope\.pem'/ ],
    [ 'SMTP CA file is a directory', { LenzSMTPCAFile => $dir },
      qr/LENZ0010: LenzSMTPCAFile: '\S+' is not a regular file/ ],
    [ 'SMTP CA file without a certificate', { LenzSMTPCAFile => $canone },
      qr/LENZ0010: LenzSMTPCAFile: '\S*ca-none\.pem' holds no PEM certificate/ ],
    [ 'SMTP CA file with a broken certificate', { LenzSMTPCAFile => $cabad },
      qr/LENZ0010: LenzSMTPCAFile: '\S*ca-bad\.pem' is not a readable PEM file: .*bad base64/ ],
);

my @good = (
    [ 'LenzJobs Off needs no LenzJobsDB', { LenzJobs => 'Off', LenzJobsDB => undef } ],
    [ 'LenzMemberQuota with files per transfer', { LenzMemberQuota => '20G 5000' } ],
    [ 'LenzMemberQuota alone, as before', { LenzMemberQuota => '20G' } ],
    [ 'jobs with every directive', { LenzJobWorkers => 4, LenzJobPollInterval => 10,
      LenzJobBackoff => '5 600', LenzJobRetention => 30, LenzUploadAbandonAfter => '36h' } ],
    [ 'SMTP AUTH with STARTTLS required', { LenzSMTPAuthFile => $auth, LenzSMTPTLS => 'required',
      LenzSMTPURL => 'smtp://mail.example.org:587' } ],
    [ 'SMTP AUTH over smtps://', { LenzSMTPAuthFile => $auth, LenzSMTPURL => 'smtps://mail.example.org:465' } ],
    [ 'SMTP AUTH to a relay on loopback', { LenzSMTPAuthFile => $auth } ],
    [ 'SMTP CA file with a certificate', { LenzSMTPCAFile => $ca, LenzSMTPTLS => 'required' } ],
    [ 'LenzUploadPartDigest always, LenzNetworkRead 256K', { LenzUploadPartDigest => 'always',
      LenzNetworkRead => '256K' } ],
    [ 'LenzNetworkRead off', { LenzNetworkRead => 'off' } ],
    [ 'LenzEventStreams 500 10', { LenzEventStreams => '500 10' } ],
    [ 'LenzEventStreams auto 4', { LenzEventStreams => 'auto 4' } ],
);

plan tests => 3 + 2 * @bad + @good;

my ($rc, $out) = configtest();
is($rc, 0, 'a complete configuration passes httpd -t') or diag $out;
like($out, qr/Syntax OK/, '... Syntax OK');

($rc, $out) = configtest(_no_lenz => 1);
is($rc, 0, 'the module loaded without any Lenz directive still starts') or diag $out;

for my $case (@good) {
    my ($name, $over) = @$case;
    ($rc, $out) = configtest(%$over);
    is($rc, 0, "$name: httpd -t passes") or diag $out;
}

for my $case (@bad) {
    my ($name, $over, $re) = @$case;
    ($rc, $out) = configtest(%$over);
    isnt($rc, 0, "$name: httpd -t fails");
    like($out, $re, "$name: the message names the directive and the problem") or diag $out;
}
