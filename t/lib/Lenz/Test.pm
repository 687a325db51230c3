package Lenz::Test;
# Helpers shared by the Apache::Test files.  Use with Test::More (never
# import Apache::Test's own plan/ok: they clash with Test::More's).
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use JSON::PP ();
use File::Spec;
use Apache::Test ();
use Apache::TestRequest ();

our @EXPORT = qw(json_of expect_log stack_env top_dir error_log_since error_log_mark
                 http_get http_post http_req);

my $JSON = JSON::PP->new->utf8->canonical;

sub top_dir {
    my $vars = Apache::Test::vars();
    return File::Spec->rel2abs(File::Spec->catdir($vars->{t_dir}, File::Spec->updir));
}

# Decodes a response body as JSON; undef (and a diagnostic) when it is not.
sub json_of {
    my ($res) = @_;
    my $v = eval { $JSON->decode($res->content) };
    Test::More::diag("not JSON: " . substr($res->content // '', 0, 200)) unless $v;
    return $v;
}

# Declares LENZ tags this test provokes at warn/error level on purpose; the
# runner fails the suite on any other LENZ warning or error in error_log.
sub expect_log {
    my $vars = Apache::Test::vars();
    my $file = File::Spec->catfile($vars->{t_logs}, 'expected-log-tags');
    open my $fh, '>>', $file or die "cannot write $file: $!";
    print $fh "$_\n" for @_;
    close $fh;
}

sub stack_env {
    my $file = File::Spec->catfile(top_dir(), 'var', 'test', 'stack.env');
    my %env;
    open my $fh, '<', $file or die "cannot read $file: $!";
    while (<$fh>) {
        chomp;
        next if /^\s*(#|$)/;
        my ($k, $v) = split /=/, $_, 2;
        $v =~ s/^(['"])(.*)\1$/$2/ if defined $v;
        $env{$k} = $v;
    }
    return \%env;
}

# The error log's size now, and what was written after such a mark.
sub error_log_mark {
    my $vars = Apache::Test::vars();
    return -s File::Spec->catfile($vars->{t_logs}, 'error_log') // 0;
}

sub error_log_since {
    my ($mark) = @_;
    my $vars = Apache::Test::vars();
    open my $fh, '<', File::Spec->catfile($vars->{t_logs}, 'error_log') or return '';
    seek $fh, $mark, 0;
    local $/;
    return <$fh> // '';
}

# Requests through Apache::TestRequest's user agent (host and port of the
# module selected with Apache::TestRequest::module()); never follow
# redirects.  http_req(METHOD, PATH, [HEADER => VALUE, ...], BODY).
sub http_req {
    my ($method, $path, $headers, $body) = @_;
    require HTTP::Request;
    my $url = Apache::TestRequest::resolve_url($path);
    my $req = HTTP::Request->new($method => $url, $headers // [], $body);
    my $ua = Apache::TestRequest::user_agent();
    $ua->requests_redirectable([]);
    return $ua->request($req);
}
sub http_get  { my ($path, @h) = @_; http_req('GET', $path, [@h]) }
sub http_post { my ($path, $body, @h) = @_; http_req('POST', $path, [@h], $body) }

1;
