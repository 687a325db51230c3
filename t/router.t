# Dispatch: 404 and 405 with Allow, OPTIONS, problem+json for API clients
# and an HTML page for browsers; garbage paths never crash.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 30;
use Lenz::Test;

my $res = http_post('/health', '{}', 'Content-Type' => 'application/json');
is($res->code, 405, 'POST /health: 405');
is($res->header('Allow'), 'GET, HEAD, OPTIONS', '... with Allow');
like($res->header('Content-Type'), qr{^application/problem\+json}, '... as problem+json');
my $p = json_of($res);
is($p->{status}, 405, '... status member');
is($p->{type}, 'urn:lenz:problem:method-not-allowed', '... type member');
is($p->{title}, 'Method not allowed', '... title member');
ok(length($p->{detail} // '') > 0, '... detail member');

$res = http_req('DELETE', '/health');
is($res->code, 405, 'DELETE /health: 405');
is($res->header('Allow'), 'GET, HEAD, OPTIONS', '... with Allow');

$res = http_req('OPTIONS', '/health');
is($res->code, 204, 'OPTIONS /health: 204');
is($res->header('Allow'), 'GET, HEAD, OPTIONS', '... with Allow');

$res = http_get('/st/nothing-here');
is($res->code, 404, 'unknown path below the area: 404');
like($res->header('Content-Type'), qr{^application/problem\+json}, '... problem+json for a client without preference');
is(json_of($res)->{type}, 'urn:lenz:problem:not-found', '... not-found type');
is($res->header('X-Content-Type-Options'), 'nosniff', '... with the security headers');

$res = http_get('/st/nothing-here', Accept => 'text/html,application/xhtml+xml,*/*;q=0.8');
is($res->code, 404, 'a browser gets 404 too');
like($res->header('Content-Type'), qr{^text/html}, '... as an HTML page');
like($res->content, qr{<h1 id="error-title">Not found</h1>}, '... rendered from templates/error.mustache');
like($res->content, qr{<html lang="en">}, '... inside the layout');
like($res->content, qr{<link rel="stylesheet" href="/static/css/lenz.css">}, '... with the one stylesheet');
unlike($res->content, qr{<script>|style=}, '... and no inline script or style');
like($res->header('Content-Security-Policy') // '', qr/script-src 'self'/, '... under a CSP without inline script');

$res = http_get('/st/nothing-here', Accept => 'application/json');
like($res->header('Content-Type'), qr{^application/problem\+json}, 'Accept: application/json gets problem+json');

# Paths that almost match.
is(http_get('/st/health/')->code, 404, 'trailing slash: 404');
is(http_get('/st//health')->code, 200, 'double slash: httpd merges it (MergeSlashes)');
is(http_get('/st/health/x')->code, 404, 'extra segment: 404');
is(http_get('/st/HEALTH')->code, 404, 'routes are case-sensitive');
is(http_get('/st/' . ('a' x 4000))->code, 404, 'a long segment: 404');

# The static stylesheet is served by httpd itself.
$res = http_get('/static/css/lenz.css');
is($res->code, 200, 'stylesheet served');
like($res->content, qr/--fg:/, '... with its variables');
