# Roles are read from users.roles name by name: an account whose roles
# hold "sysadmin" and "collaborator" (names other modules or a later
# release may use) is neither an admin nor lab staff, while "admin" and
# "lab" still are.  The old parser matched substrings and let both in.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Lenz::Test;
use Lenz::Jobs;

my $tag = uniq('roles');
sub member {
    my ($email, $roles) = @_;
    my $env = stack_env();
    my $top = top_dir();
    `echo 'correct horse battery' | $top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env create-user $email --password-stdin 2>&1`;
    psql("UPDATE users SET roles = '$roles'::text[] WHERE email = '$email'");
    my $res = http_req('POST', '/api/v1/auth/login', ['Content-Type' => 'application/json'],
                       encode_json({ email => $email, password => 'correct horse battery' }));
    is($res->code, 200, "$email signs in") or diag($res->content);
    return json_of($res)->{access_token};
}

local $ENV{LENZ_MASTER_KEY_FILE} = stack_env()->{LENZ_STACK_DIR} . '/master.key';

my $look = member("$tag-look\@example.org", '{member,sysadmin,collaborator}');
my $res = http_get('/api/v1/me', bearer($look));
is($res->code, 200, '/me answers');
is_deeply(json_of($res)->{roles}, ['member'], 'sysadmin and collaborator carry no role');
$res = http_get('/api/v1/admin/users', bearer($look));
is($res->code, 403, '"sysadmin" is not admin: the admin API refuses it');

my $admin = member("$tag-admin\@example.org", '{member,admin}');
$res = http_get('/api/v1/me', bearer($admin));
is_deeply(json_of($res)->{roles}, ['member', 'admin'], 'member and admin are read');
$res = http_get("/api/v1/admin/users?q=$tag", bearer($admin));
is($res->code, 200, '"admin" is admin');

my $quoted = member("$tag-quoted\@example.org", '{"lab staff","admin ",member}');
$res = http_get('/api/v1/me', bearer($quoted));
is_deeply(json_of($res)->{roles}, ['member'], 'quoted names with spaces are other roles');

done_testing();
