package Lenz::FaultProxy;
# Starts and drives t/faults/s3proxy.py, the fault-injecting proxy in front
# of the test stack's S3 (or SMTP) server, on the port the lenz_faults
# virtual host points at (LENZ_FAULT_S3_PORT / LENZ_FAULT_SMTP_PORT from
# scripts/test.sh; the control port is one higher).
#
#   my $px = Lenz::FaultProxy->start('s3');
#   $px->rule(action => 'error', status => 503, code => 'SlowDown');
#   $px->stats->{requests};  $px->pass;  $px->stop;   # also at exit
use strict;
use warnings FATAL => 'all';
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep);
use Lenz::Test qw(stack_env top_dir);

my $JSON = JSON::PP->new->canonical;
my @running;

sub start {
    my ($class, $kind) = @_;
    my $env = stack_env();
    my $top = top_dir();
    my ($port, $upstream) = $kind eq 'smtp'
        ? ($ENV{LENZ_FAULT_SMTP_PORT}, "127.0.0.1:$env->{LENZ_SMTP_PORT}")
        : ($ENV{LENZ_FAULT_S3_PORT}, "127.0.0.1:$env->{LENZ_S3_PORT}");
    die "LENZ_FAULT_*_PORT not set (run through scripts/test.sh)\n" unless $port;
    my $log = "$top/t/logs/faultproxy-$kind.log";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        # Never hold the test's TAP pipe: the harness waits for its EOF.
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec '/usr/bin/python3', "$top/t/faults/s3proxy.py", '--listen', $port,
             '--upstream', $upstream, '--control', $port + 1,
             '--protocol', $kind eq 'smtp' ? 'smtp' : 'http', '--log', $log
            or POSIX::_exit(127);
    }
    my $self = bless { pid => $pid, port => $port, ctl => 'http://127.0.0.1:' . ($port + 1),
                       http => HTTP::Tiny->new(timeout => 10) }, $class;
    push @running, $self;
    for (1 .. 100) {
        my $r = $self->{http}->get("$self->{ctl}/stats");
        return $self if $r->{success};
        die "the fault proxy exited (see $log)\n" if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.05;
    }
    die "the fault proxy did not answer on its control port (see $log)\n";
}

sub port { $_[0]{port} }

sub call {
    my ($self, $method, $path, $body) = @_;
    my $r = $self->{http}->request($method, "$self->{ctl}$path",
                                   $body ? { content => $JSON->encode($body) } : {});
    die "fault proxy $method $path: $r->{status} $r->{content}\n" unless $r->{success};
    return $JSON->decode($r->{content});
}

# rule(action => ..., options): see t/faults/s3proxy.py.
sub rule  { my ($self, %r) = @_; $self->call('PUT', '/rule', \%r) }
sub pass  { $_[0]->rule(action => 'pass') }
sub reset { $_[0]->call('POST', '/reset') }
sub stats { $_[0]->call('GET', '/stats') }
# What a "record" rule kept: [{method, target, body (raw bytes)}], oldest first.
sub recorded {
    my ($self) = @_;
    return [map { { %$_, body => pack('H*', $_->{body}) } } @{ $self->call('GET', '/recorded')->{recorded} }];
}

# Waits until the proxy holds no stalled connection (httpd gave up on it
# and closed it); the seconds it took, or undef after LIMIT seconds.
sub wait_released {
    my ($self, $limit) = @_;
    my $t0 = Time::HiRes::time();
    while (Time::HiRes::time() - $t0 < $limit) {
        return Time::HiRes::time() - $t0 if $self->stats->{stalled} == 0;
        sleep 0.05;
    }
    return undef;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

END { $_->stop for @running }

1;
