package Lenz::Jobs;
# Helpers for the tests of the job queue, the runners, events and mail:
# psql against the test stack, lenzctl, and waiting for a condition.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use Time::HiRes ();
use Test::More ();
use Apache::Test ();
use Lenz::Test qw(stack_env top_dir);

our @EXPORT = qw(psql psql_super ctl wait_until job_row uniq mail_files read_file figure
                 mail_to mail_parse mail_header mail_subject);

my $env = stack_env();
my $top = top_dir();

sub _psql {
    my ($conn, $sql) = @_;
    # -v ON_ERROR_STOP so a failing statement shows up as an ERROR line;
    # no shell, so nothing in $sql needs quoting.
    my $pid = open my $fh, '-|';
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die;
        exec 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $conn, '-c', $sql;
        die "psql: $!";
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    $out =~ s/\s+\z//;
    return $out;
}

# Runs SQL as the application's role; returns the output (rows on lines,
# columns separated by '|').
sub psql { _psql($env->{LENZ_PG_CONNINFO}, $_[0]) }
# As the superuser, in database $db (the application's is 'lenz').
sub psql_super {
    my ($db, $sql) = @_;
    (my $conn = $env->{LENZ_PG_SUPER_CONNINFO}) =~ s{/[^/?]+(\?|$)}{/$db$1};
    return _psql($conn, $sql);
}

# Runs build/lenzctl with the stack's settings: (exit status, output).
sub ctl {
    my @args = @_;
    my $cmd = join ' ', "$top/build/lenzctl", '-e', "$env->{LENZ_STACK_DIR}/stack.env",
        map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } @args;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

# Polls cond every 20 ms until it returns true or timeout seconds pass;
# returns cond's last value and the seconds waited.
sub wait_until {
    my ($cond, $timeout) = @_;
    my $t0 = Time::HiRes::time();
    my $v;
    while (1) {
        $v = $cond->();
        last if $v || Time::HiRes::time() - $t0 > $timeout;
        Time::HiRes::sleep(0.02);
    }
    return wantarray ? ($v, Time::HiRes::time() - $t0) : $v;
}

# A job's columns as a hash.
sub job_row {
    my ($id) = @_;
    my @cols = qw(state attempts max_attempts last_error result);
    my $out = psql("SELECT state, attempts, max_attempts, COALESCE(last_error, ''), "
                   . "COALESCE(result::text, '') FROM jobs WHERE id = $id");
    my @v = split /\|/, $out, -1;
    return { map { $cols[$_] => $v[$_] } 0 .. $#cols };
}

my $seq = 0;
# A string no other test run has used.
sub uniq { sprintf '%s-%d-%d-%d', $_[0] // 'u', time, $$, ++$seq }

# The .eml files the SMTP sink stored, oldest first.
sub mail_files {
    my $dir = $env->{LENZ_MAIL_DIR};
    opendir my $dh, $dir or return ();
    my @f = sort grep { /\.eml$/ && !/^\./ } readdir $dh;
    return map { "$dir/$_" } @f;
}

# A measured figure: shown with the test's output and kept in
# t/logs/figures.txt (the harness prints diagnostics of passing tests only
# when asked).
sub figure {
    my ($text) = @_;
    Test::More::diag($text);
    my $vars = Apache::Test::vars();
    open my $fh, '>>', "$vars->{t_logs}/figures.txt" or return;
    print $fh "$0: $text\n";
    close $fh;
}

# The .eml whose envelope names rcpt (and whose text matches like, if
# given), once it has arrived; undef after timeout seconds.
sub mail_to {
    my ($rcpt, $timeout, $like) = @_;
    my $found;
    wait_until(sub {
        for my $f (mail_files()) {
            my $m = read_file($f);
            next unless $m =~ /^X-Envelope-To: <\Q$rcpt\E>\r?$/m;
            next if $like && $m !~ $like;
            $found = $m;
            return 1;
        }
        return 0;
    }, $timeout // 5);
    return $found;
}
# (headers as [name, value] with folding undone, body)
sub mail_parse {
    my ($m) = @_;
    my ($head, $body) = split /\r?\n\r?\n/, $m, 2;
    $head =~ s/\r?\n[ \t]+/ /g;
    my @h = map { /^([^:]+):\s*(.*)$/ ? [$1, $2] : () } split /\r?\n/, $head;
    return (\@h, $body);
}
sub mail_header {
    my ($h, $name) = @_;
    my @v = map { $_->[1] } grep { lc $_->[0] eq lc $name } @$h;
    return wantarray ? @v : $v[0];
}
sub mail_subject { require Encode; Encode::decode('MIME-Header', scalar mail_header($_[0], 'Subject')) }

sub read_file { local $/; open my $fh, '<:raw', $_[0] or die "$_[0]: $!"; <$fh> }

1;
