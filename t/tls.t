# mod_lenz behind mod_ssl (httpd does TLS): an encrypted upload and its
# download over https, a range, and pipelined requests inside one TLS
# connection.  Under TLS the bytes reach mod_lenz through mod_ssl's input
# filter, which reads the socket through LenzNetworkRead's bucket; these
# checks are the same path a deployment uses.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 8;
use Digest::SHA qw(sha256_hex);
use IO::Socket::SSL;
use LWP::UserAgent;
use HTTP::Request;
use Lenz::Test qw(vhost_url random_bytes guest_upload);

my ($hp) = vhost_url('lenz_tls') =~ m{^http://(.+)$};
my $base = "https://$hp";
$ENV{PERL_LWP_SSL_CA_FILE} = $ENV{LENZ_SMTP_CA_FILE};      # the stack's CA signed the certificate
my $ua = LWP::UserAgent->new(timeout => 60, ssl_opts => { SSL_ca_file => $ENV{LENZ_SMTP_CA_FILE} });

my $res = $ua->get("$base/upload");
is($res->code, 200, "the upload page over https ($base), certificate verified");

# 12 MiB and a bit: two parts of the test's 10 MiB part size.
my $data = random_bytes(12 * 1024 * 1024 + 4321);
my $up = eval { guest_upload($data, base => $base, name => 'over-tls.bin') };
ok($up && $up->{token}, 'an encrypted guest upload over https, two parts') or diag $@;
$res = $ua->get("$base/download/" . ($up->{token} // 'none'));
is($res->code, 200, 'the download over https: 200');
is(sha256_hex($res->content), sha256_hex($data), '... byte for byte');
$res = $ua->request(HTTP::Request->new(GET => "$base/download/" . ($up->{token} // 'none'),
                                       [Range => 'bytes=10485000-10486000']));
ok($res->code == 206 && $res->content eq substr($data, 10485000, 1001), 'a range across the part border: 206, the slice');

# Three requests in one TLS write, the last closing the connection.
my $s = IO::Socket::SSL->new(PeerAddr => $hp, SSL_ca_file => $ENV{LENZ_SMTP_CA_FILE},
                             SSL_verifycn_name => '127.0.0.1', Timeout => 10);
ok($s, 'a raw TLS connection') or diag IO::Socket::SSL::errstr();
# Without a connection the two checks below fail (never skipped).
my $raw = '';
if ($s) {
    print $s join '', map { "GET /upload HTTP/1.1\r\nHost: $hp\r\n" . ($_ == 3 ? "Connection: close\r\n" : '') . "\r\n" } 1 .. 3;
    while (1) { my $n = sysread($s, my $buf, 65536); last unless $n; $raw .= $buf }
    close $s;
}
my @st = $raw =~ m{^HTTP/1\.1 (\d+)}mg;
is("@st", '200 200 200', 'three pipelined requests inside one TLS connection: three 200s');
is(scalar(() = $raw =~ m{</html>}g), 3, '... three whole pages');
