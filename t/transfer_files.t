# Files per transfer (the security review's issue 15, item 11): members'
# transfers are capped too (LenzMemberQuota's second value, default 1000),
# refused at initiate like guests' (LenzGuestLimits) with a 409 naming the
# field; and a ZIP of files that share names numbers them as before (the
# numbering's cost is core/zipnames.c's, checked in unit/test_zipnames).
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use HTTP::Request;
use LWP::UserAgent;
use Lenz::Test qw(:DEFAULT vhost_url);

my $top = top_dir();
my $env = stack_env();
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
my $dir = tempdir(CLEANUP => 1);

my $email = sprintf('files-%d%d@example.org', time, $$);
`echo 'correct horse battery' | $ctl create-user $email --password-stdin 2>&1`;
my @auth = bearer(json_of(post_json('/api/v1/auth/login', { email => $email,
                                                            password => 'correct horse battery' }))->{access_token});

# A second httpd on the same database and S3 whose members may put three
# files in a transfer.
my ($base, $stop) = second_httpd(offset => 500, config => 'LenzMemberQuota 10G 3');
my $ua = LWP::UserAgent->new(timeout => 30);
sub initiate {
    my ($b, %o) = @_;
    my $req = HTTP::Request->new(POST => "$b/api/v1/uploads/encrypted/initiate",
                                 ['Content-Type' => 'application/json', @auth],
                                 JSON::PP->new->encode({ filename => 'f.bin', size => 10, %o }));
    return $ua->request($req);
}
my $first = initiate($base);
is($first->code, 201, 'a member\'s first file: 201');
my $tid = json_of($first)->{transfer_id};
is(initiate($base, transfer_id => $tid)->code, 201, '... the second in its transfer');
is(initiate($base, transfer_id => $tid)->code, 201, '... the third');
my $res = initiate($base, transfer_id => $tid);
is($res->code, 409, 'the fourth, past LenzMemberQuota 10G 3: 409');
my $p = json_of($res);
is($p->{type}, 'urn:lenz:problem:too-many-files', '... too-many-files');
is($p->{field}, 'transfer_id', '... naming the field');
is($p->{max_files}, 3, '... and the cap');
like($res->header('Content-Type'), qr{^application/problem\+json}, '... as problem+json');
is(initiate($base)->code, 201, 'a new transfer takes files again');
$stop->();
# The default (1000) on the main server: the same transfer takes more.
is(initiate(vhost_url('default'), transfer_id => $tid)->code, 201, 'the default cap is higher: 201');

# Guests: LenzGuestLimits 1G 5 in the test configuration, the same answer.
my $g = guest_upload('x', name => 'g.txt');
guest_upload('x', name => 'g.txt', transfer_id => $g->{transfer_id}) for 2 .. 5;
$res = post_json('/upload/guest/encrypted/initiate', { filename => 'g.txt', size => 1,
                                                       transfer_id => $g->{transfer_id} });
is($res->code, 409, 'a guest\'s sixth file: 409');
is(json_of($res)->{field}, 'transfer_id', '... naming the field too');
is(json_of($res)->{max_files}, 5, '... and the cap');

# --- A ZIP of files that share names ---------------------------------------------------------------
my @files = (['same.txt', 'one'], ['same.txt', 'two'], ['same (2).txt', 'three'], ['same.txt', 'four'],
             ['README', 'five']);
my $t = guest_upload($files[0][1], name => $files[0][0]);
guest_upload($_->[1], name => $_->[0], transfer_id => $t->{transfer_id}) for @files[1 .. 4];
$res = http_get("/download/$t->{token}");
is($res->code, 200, 'a ZIP of five files, three called same.txt: 200');
open my $fh, '>:raw', "$dir/t.zip" or die;
print $fh $res->content;
close $fh;
my @names = split /\n/, `unzip -Z1 $dir/t.zip`;
is_deeply(\@names, ['same.txt', 'same (2).txt', 'same (2) (2).txt', 'same (3).txt', 'README'],
          '... each named apart, in upload order');
is(`unzip -p $dir/t.zip 'same (3).txt'`, 'four', '... the fourth file under its new name');

done_testing();
