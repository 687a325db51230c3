# Live streams under each way httpd may run them (issue 17, "fallback"):
# under mpm_worker and over HTTP/2 (where mod_http2 owns the connection)
# a stream opens, gets its member's events, and the host says at start how
# streams are served.  Under the event MPM too a stream holds a thread:
# httpd 2.4.71 cannot resume a suspended request (mod_lenz/notify/stream.c).
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use Lenz::Test qw(:DEFAULT vhost_url);
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('sm');
my $tok = member("sm-$tag\@example.org");
sub log_of { local $/; open my $fh, '<', "$_[0]/error_log" or return ''; <$fh> }
sub event_named {
    my ($s, $name) = @_;
    my $end = time + 10;
    while (time < $end) {
        my $ev = sse_next($s, $end - time) or return undef;
        next unless ($ev->{event} // '') eq 'notification';
        my $n = eval { decode_json($ev->{data})->{body}{name} } // '';
        return $n if $n eq $name;
    }
    return undef;
}

# --- mpm_worker -----------------------------------------------------------------------------------
my ($wbase, $wstop, $wdir) = second_httpd(offset => 700, mpm => 'worker', config => 'LenzEventStreams 20 5');
# (its port answers before the parent logs that it is configured: wait for the line)
my $wlog = '';
for (1 .. 100) {
    $wlog = log_of($wdir);
    last if $wlog =~ /AH00292: Apache\/2\.4\.\d+ .*configured|mpm_worker:notice/;
    select undef, undef, undef, 0.1;
}
like($wlog, qr/AH00292: Apache\/2\.4\.\d+ .*configured|mpm_worker:notice/, 'a second httpd runs under mpm_worker');
like(log_of($wdir), qr/LENZ0032: connections: MPM worker \(a thread per connection\); lenz-events streams and lenz-download transfers hold a worker thread each/,
     '... and says once at start which mode the areas run in');
like(error_log_since(0), qr/LENZ0032: connections: MPM event \(asynchronous\); lenz-events streams/,
     'the main httpd (event MPM) says so too');
like(log_of($wdir), qr/LENZ0031: live streams: at most 20 open at once on this host \(LenzEventStreams; \d+ workers\), 5 per member/,
     '... and says how many streams it takes');
{
    my ($s, $st) = sse_open("$wbase/events/stream", Authorization => "Bearer $tok");
    is($st, 200, '... a stream opens there');
    upload_small($tok, '/api/v1/uploads', 'worker.txt', 'w');
    is(event_named($s, 'worker.txt'), 'worker.txt', '... and gets the event of an upload through the other httpd');
    close $s;
}
$wstop->();

# --- HTTP/2 ------------------------------------------------------------------------------------------
{
    my ($hp) = vhost_url('lenz_h2c') =~ m{^http://(.+)$};
    my $out = `curl -sN --http2-prior-knowledge --max-time 3 -w '\\n%{http_version}' -H 'Authorization: Bearer $tok' http://$hp/events/stream 2>/dev/null`;
    like($out, qr/^: lenz notifications/, 'over HTTP/2 a stream opens');
    like($out, qr/\n2\n?$/, '... as an HTTP/2 stream');
}

done_testing();
