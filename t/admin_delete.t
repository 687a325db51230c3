# An account deleted by an administrator (issue 19): DELETE
# /api/v1/admin/users/{id} (and the member page's form) disables it at
# once (its tokens stop), then the lenz-delete-account job deletes its
# files in batches, their S3 objects through the s3_garbage queue, and at
# last the account with its folders, links and keys.  Never one's own,
# never an admin's; an unknown id is 404, a second delete too.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $PW = 'correct horse battery';
my $tag = uniq('del');
my $env = stack_env();
my $top = top_dir();
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
my $s3 = "/usr/bin/python3 $top/scripts/s3-admin.py --env $env->{LENZ_STACK_DIR}/stack.env";
my $tmp = "/tmp/$tag.obj";
sub in_s3 { system("$s3 get '$_[0]' $tmp >/dev/null 2>&1") == 0 }
my $admin = "del-admin-$tag\@example.org";
`echo '$PW' | $ctl create-user $admin --admin --password-stdin 2>&1`;
my $ADM = json_of(post_json('/api/v1/auth/login', { email => $admin, password => $PW }))->{access_token};
my $admin_id = psql("SELECT id FROM users WHERE email = '$admin'");
my $email = "leaving-$tag\@example.org";
my $M = member($email);
my $id = psql("SELECT id FROM users WHERE email = '$email'");

# What they stored: three files (one in a folder), a link, a token.
my $folder = J(api($M, 'POST', '/folders', { name => 'Keep', parent_id => 'root' }));
my @files = map { upload_small($M, '/api/v1/uploads', "f$_-$tag.txt", "file $_ " x 500)->{file_id} } 1 .. 3;
api($M, 'PATCH', "/files/$files[0]", { folder_id => $folder->{id} });
my $link = J(api($M, 'POST', '/links', { file_ids => [ @files[1, 2] ] }));
my $pat = J(api($M, 'POST', '/me/tokens', { name => 'script', scopes => ['read'] }))->{token};
my @keys = split /\n/, psql("SELECT s3_key FROM files WHERE owner_id = '$id' ORDER BY s3_key");
is(scalar(grep { in_s3($_) } @keys), 3, 'a member with three files in S3, a folder, a link and a token');
is(http_get("/download/$link->{token}/info")->code, 200, '... the link works');

# --- Refused ------------------------------------------------------------------------------------
is(api($M, 'DELETE', "/admin/users/$id")->code, 403, 'a member deleting an account: 403');
my $res = api($ADM, 'DELETE', "/admin/users/$admin_id");
is($res->code . ' ' . ((J($res)->{type} // '') =~ s/.*://r), '409 self', "one's own: 409");
my $other_admin = "del-admin2-$tag\@example.org";
`echo '$PW' | $ctl create-user $other_admin --admin --password-stdin 2>&1`;
my $oa = psql("SELECT id FROM users WHERE email = '$other_admin'");
$res = api($ADM, 'DELETE', "/admin/users/$oa");
is($res->code . ' ' . ((J($res)->{type} // '') =~ s/.*://r), '409 is-admin', "an admin's: 409 (take the role first)");
is(api($ADM, 'DELETE', '/admin/users/00000000-0000-4000-8000-000000000000')->code, 404, 'an unknown id: 404');

# --- Deleted --------------------------------------------------------------------------------------
$res = api($ADM, 'DELETE', "/admin/users/$id");
is($res->code, 202, 'DELETE /admin/users/{id}: 202');
is_deeply(J($res), { id => $id, status => 'deleting' }, '... {"id","status":"deleting"}');
is(api($M, 'GET', '/me')->code, 401, "... the member's app sign-in stops at once");
is(api($pat, 'GET', '/me')->code, 401, '... and their personal access token');
is(api($ADM, 'DELETE', "/admin/users/$id")->code, 404, 'deleting it again: 404');
ok(wait_until(sub { psql("SELECT count(*) FROM users WHERE id = '$id'") == 0 }, 20), 'the job deletes the account');
is(psql("SELECT count(*) FROM files WHERE owner_id = '$id'") + psql("SELECT count(*) FROM folders WHERE owner_id = '$id'")
   + psql("SELECT count(*) FROM links WHERE owner_id = '$id'") + psql("SELECT count(*) FROM user_keys WHERE user_id = '$id'")
   + psql("SELECT count(*) FROM personal_tokens WHERE user_id = '$id'"), 0,
   '... with its files, folders, links, keys and tokens');
ok(wait_until(sub { !grep { in_s3($_) } @keys }, 20), "... and the files' objects are gone from S3");
is(http_get("/download/$link->{token}/info")->code, 404, 'the link: 404');
ok(psql("SELECT count(*) FROM events WHERE type = 'account.deleted' AND subject = '$id'") == 1
   && psql("SELECT count(*) FROM events WHERE type = 'admin.account_deleted' AND subject = '$id' AND actor_id = '$admin_id'") == 1,
   'account.deleted and admin.account_deleted (naming the administrator) are in the audit trail');
is(post_json('/api/v1/auth/login', { email => $email, password => $PW })->code, 401, 'the address no longer signs in');

# --- Through the page -------------------------------------------------------------------------------
my $email2 = "leaving2-$tag\@example.org";
member($email2);
my $id2 = psql("SELECT id FROM users WHERE email = '$email2'");
my $ac = cookie_of(form('/account/login', { email => $admin, password => $PW, next => '/admin/' }));
$res = http_get("/admin/users/$id2", Cookie => $ac, Accept => 'text/html');
like($res->content, qr/Delete the account/, "the member's page offers to delete the account");
my $csrf = csrf_of($res);
is(form("/admin/users/$id2/delete", { csrf => $csrf }, Cookie => $ac, Accept => 'text/html')->code, 400,
   '... not without ticking the box');
$res = form("/admin/users/$id2/delete", { csrf => $csrf, confirm => 1 }, Cookie => $ac, Accept => 'text/html');
is($res->code, 303, '... ticked: 303');
ok(wait_until(sub { psql("SELECT count(*) FROM users WHERE id = '$id2'") == 0 }, 20), '... and the account goes');
unlink $tmp;

done_testing();
