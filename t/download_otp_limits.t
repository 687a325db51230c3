# Share-link codes: limits that resending a code does not reset.  Each
# code allows five tries, and a resend used to bring five more without
# end: wrong codes are now capped at ten per (link, address) over 24 hours
# whatever the number of codes sent (then 429 rate-limited with
# Retry-After, even for the right code, no try spent); other recipients of
# the link are not held up, and the cap lifts as those codes leave the
# window.  And verify is limited per client address (30 per 10 minutes,
# any link, any address typed), counted on a second httpd whose shared
# store starts empty.
use strict;
use warnings FATAL => 'all';
use Test::More;
use MIME::QuotedPrint ();
use LWP::UserAgent;
use HTTP::Request;
use JSON::PP;
use Lenz::Test;
use Lenz::Jobs;

my $tag = uniq('otplim');
my $rcpt = "cap-$tag\@example.org";
my $peer = "peer-$tag\@example.org";

# The code in the newest mail to $to, once more than $before reached it.
sub n_mails { my $to = shift; scalar grep { read_file($_) =~ /^X-Envelope-To: <\Q$to\E>\r?$/m } mail_files() }
sub new_code {
    my ($t, $to) = @_;
    my $before = n_mails($to);
    my $res = post_json("/download/$t/otp", { email => $to });
    $res->code == 202 or diag 'otp: ' . $res->code . ' ' . $res->content;
    wait_until(sub { n_mails($to) > $before }, 10) or return undef;
    my @f = grep { read_file($_) =~ /^X-Envelope-To: <\Q$to\E>\r?$/m } mail_files();
    my $text = MIME::QuotedPrint::decode((split /\r?\n\r?\n/, read_file($f[-1]), 2)[1] // '');
    return $text =~ /^\s+(\d{6})\s*$/m ? $1 : undef;
}
sub verify { post_json("/download/$_[0]/verify", { email => $_[1], code => $_[2] }) }
sub wrong_for { $_[0] eq '000000' ? '111111' : '000000' }
sub problem_type { (json_of($_[0]) // {})->{type} // '' }

my $up = guest_upload('capped', name => "cap-$tag.bin", recipients => [$rcpt, $peer]);
my $t = $up->{token};

# --- Ten wrong codes over two codes, then a third code --------------------------------
my $a = new_code($t, $rcpt);
ok($a, 'a first code');
my @st = map { verify($t, $rcpt, wrong_for($a))->code } 1 .. 5;
is_deeply(\@st, [(403) x 5], 'five wrong codes: 403 each');
is(verify($t, $rcpt, $a)->code, 410, '... then that code is spent (410)');
my $b = new_code($t, $rcpt);
ok($b, 'a second code (a resend)');
@st = map { verify($t, $rcpt, wrong_for($b))->code } 1 .. 5;
is_deeply(\@st, [(403) x 5], 'five more wrong codes: 403 each (ten in all)');
my $c = new_code($t, $rcpt);
ok($c, 'a third code');
my $res = verify($t, $rcpt, $c);
is($res->code, 429, 'the third code, right, after ten wrong ones: 429');
is(problem_type($res), 'urn:lenz:problem:rate-limited', '... rate-limited');
my $after = $res->header('Retry-After') // 0;
ok($after > 86000 && $after <= 86400, "... Retry-After: when the first code's tries leave the 24 hours ($after s)");
is(verify($t, $rcpt, wrong_for($c))->code, 429, '... a wrong one too');
is(psql("SELECT sum(tries) FROM otps WHERE purpose LIKE 'link:%' AND subject = '$rcpt'"), 10,
   '... and neither spent a try (ten in all)');

# Another recipient of the same link is not held up.
my $p = new_code($t, $peer);
$res = verify($t, $peer, $p);
is($res->code, 200, 'another recipient of the link: 200');
ok(json_of($res)->{grant}, '... a grant');

# The window moves on: once the wrong codes are more than 24 hours old,
# the live code works.
psql("UPDATE otps SET created_at = created_at - interval '25 hours' WHERE purpose LIKE 'link:%' "
     . "AND subject = '$rcpt' AND tries > 0");
$res = verify($t, $rcpt, $c);
is($res->code, 200, 'with those codes past 24 hours, the third code works: 200');

# --- Verify per client address, on a second httpd (a shared store of its own) -----------
my ($base2, $stop2) = second_httpd();
my $ua = LWP::UserAgent->new(timeout => 30);
my $J = JSON::PP->new->canonical;
my @codes;
for my $n (1 .. 31) {
    my $req = HTTP::Request->new(POST => "$base2/download/$t/verify", ['Content-Type' => 'application/json'],
                                 $J->encode({ email => "guess$n-$tag\@example.org", code => '123456' }));
    my $r = $ua->request($req);
    push @codes, $r->code;
    $res = $r;
}
$stop2->();
is(scalar(grep { $_ != 429 } @codes[0 .. 29]), 30, 'thirty tries from one address (any address typed): none refused')
    or diag "@codes";
is($codes[30], 429, 'the 31st within ten minutes: 429');
is(problem_type($res), 'urn:lenz:problem:rate-limited', '... rate-limited');
ok(($res->header('Retry-After') // 0) >= 1, '... with Retry-After');

done_testing();
