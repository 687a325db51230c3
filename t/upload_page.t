# The upload page (GET /upload/): a page, not an API answer; labelled
# controls, the module script and no inline script or style, the CSP; guest
# and member variants and the site policies.  Then the page's transfer
# engine (htdocs/js/upload-engine.js) runs in Node against this server and
# the real S3 (t/js/upload_engine.test.mjs): its TAP lines are checks of this
# file, and what it uploaded is checked here in S3 and the database.
use strict;
use warnings FATAL => 'all';
use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use Apache::Test ();
use Apache::TestRequest ();
use Lenz::Test qw(:DEFAULT raw_get vhost_url);

my $env = stack_env();
my $top = top_dir();
my $dir = tempdir(CLEANUP => 1);
my $vars = Apache::Test::vars();
my $origin = "http://$vars->{servername}:$vars->{port}";
local $ENV{LENZ_MASTER_KEY_FILE} = "$env->{LENZ_STACK_DIR}/master.key";
my $ctl = "$top/build/lenzctl -e $env->{LENZ_STACK_DIR}/stack.env";
my $s3env = "--env $env->{LENZ_STACK_DIR}/stack.env";

sub psql { my $o = `psql -X -q -A -t -d '$env->{LENZ_PG_CONNINFO}' -c "$_[0]" 2>&1`; chomp $o; $o }
sub s3_sha {
    my ($key) = @_;
    my $out = `/usr/bin/python3 $top/scripts/s3-admin.py $s3env get '$key' $dir/obj 2>&1`;
    return undef unless $? == 0;
    open my $fh, '<:raw', "$dir/obj" or return undef;
    my $d = Digest::SHA->new(256);
    $d->addfile($fh);
    return $d->hexdigest;
}
sub decrypt_sha { my $p = `$ctl decrypt $_[0] 2>/dev/null`; $? == 0 ? sha256_hex($p) : "lenzctl failed ($?)" }

# Static checks of a page's HTML: every form control labelled, buttons
# named, ids unique, no inline script/style/handlers.
sub page_checks {
    my ($html, $what) = @_;
    my %label = map { $_ => 1 } $html =~ /<label\b[^>]*\bfor="([^"]+)"/g;
    my @controls = $html =~ /<(?:input|progress|select|textarea)\b[^>]*\bid="([^"]+)"/g;
    my @unlabelled = grep { !$label{$_} } @controls;
    ok(@controls && !@unlabelled, "$what: every control has a <label for> (@controls)")
        or diag("unlabelled: @unlabelled");
    my @buttons = $html =~ /<button\b[^>]*>(.*?)<\/button>/gs;
    ok(!grep({ !/\S/ } map { (my $t = $_) =~ s/<[^>]*>//g; $t } @buttons), "$what: every button has a name");
    my %seen;
    my @dup = grep { $seen{$_}++ } $html =~ /\bid="([^"]+)"/g;
    ok(!@dup, "$what: ids are unique") or diag("duplicates: @dup");
    my @scripts = $html =~ /(<script\b[^>]*>)/g;
    ok(!grep({ !/\bsrc="/ } @scripts), "$what: no inline <script> (every script has src)");
    unlike($html, qr/<style\b|\sstyle=/i, "$what: no <style> element or style attribute");
    unlike($html, qr/\son[a-z]+\s*=|javascript:/i, "$what: no inline event handlers or javascript: URLs");
}

# --- The guest page --------------------------------------------------------------------
my $res = http_get('/upload/');
is($res->code, 200, 'GET /upload/: 200');
is($res->header('Content-Type'), 'text/html; charset=utf-8', '... an HTML page, though the area answers JSON');
my $csp = $res->header('Content-Security-Policy') // '';
like($csp, qr/script-src 'self'/, "... CSP: script-src 'self'");
like($csp, qr/style-src 'self'/, "... CSP: style-src 'self'");
unlike($csp, qr/unsafe-inline|unsafe-eval/, '... CSP: nothing unsafe');
like($csp, qr/frame-ancestors 'none'/, "... CSP: frame-ancestors 'none'");
# Browser-direct parts go to the S3 origin, and nowhere else may a script
# connect (before: any https: or http: host).
my $s3_origin = stack_env()->{LENZ_S3_ENDPOINT} =~ s{/+$}{}r;
like($csp, qr/(?:^|; )connect-src 'self' \Q$s3_origin\E(?:;|$)/,
     "... CSP: connect-src 'self' and the S3 origin ($s3_origin) only") or diag $csp;
my $fault_origin = "http://127.0.0.1:$ENV{LENZ_FAULT_S3_PORT}";
like(raw_get(vhost_url('lenz_faults'), '/upload/')->{headers}{'content-security-policy'} // '',
     qr/(?:^|; )connect-src 'self' \Q$fault_origin\E(?:;|$)/,
     "... a virtual host with another LenzS3Endpoint names that one ($fault_origin)");
is($res->header('X-Content-Type-Options'), 'nosniff', '... X-Content-Type-Options: nosniff');
is($res->header('Referrer-Policy'), 'no-referrer', '... Referrer-Policy: no-referrer');
my $html = $res->content;
page_checks($html, 'guest page');
like($html, qr{<script type="module" src="/static/js/upload\.js"></script>}, '... loads the module script');
like($html, qr{<noscript>\s*<p[^>]*>Uploading needs JavaScript}, '... says plainly in <noscript> that uploading needs JavaScript');
like($html, qr{<form id="uploader"[^>]*\shidden\b}, '... the uploader stays hidden until the script shows it');
like($html, qr{data-endpoint="/upload/guest"}, '... guests use the guest routes');
like($html, qr{data-max-size="1073741824"[^>]*data-size-scope="file"[^>]*data-max-files="5"},
     '... and the guest limits (for the script)');
like($html, qr{up to <strong>1 GiB</strong>.*at most <strong>5 files</strong>}s, '... shown: 1 GiB a file, 5 files');
like($html, qr{deleted after 7 days}, '... and the guest expiry');
like($html, qr{<input id="encrypt" name="encrypt" type="checkbox" checked[^>]*>\s*<label for="encrypt">Encrypt on the server</label>},
     '... policy "choice": an "Encrypt on the server" checkbox, on by default');
like($html, qr{<button type="button" id="dropzone" class="dropzone" aria-describedby="drop-help">},
     '... the drop zone is a button (keyboard reachable) that opens the picker');
like($html, qr{<span id="drop-help"}, '... described by its help text');
like($html, qr{<label for="files"[^>]*>Files to upload</label>\s*<input id="files"[^>]*type="file" multiple},
     '... the file input takes many files and is labelled');
like($html, qr{<label for="total">All files</label>\s*<progress id="total"}, '... a labelled total progress bar');
like($html, qr{role="status" aria-live="polite"}, '... status messages in a polite live region');
like($html, qr{role="alert"}, '... errors in an alert region');

$res = http_get('/upload');
ok($res->code == 200 && $res->content =~ /id="uploader"/, 'GET /upload (no slash): the page too');
$res = http_req('HEAD', '/upload/');
ok($res->code == 200 && $res->content eq '', 'HEAD /upload/: 200, no body');
is(http_post('/upload/', '')->code, 405, 'POST /upload/: 405');
is(http_get('/upload/guest/initiate')->code, 405, 'the API routes are unchanged (GET initiate: 405)');

# --- Static files -------------------------------------------------------------------------
for my $f ('upload.js', 'upload-engine.js') {
    $res = http_get("/static/js/$f");
    ok($res->code == 200 && ($res->header('Content-Type') // '') =~ m{^(text|application)/javascript},
       "/static/js/$f: 200 with a JavaScript type (module scripts need one)");
}
my $page_js = http_get('/static/js/upload.js')->content;
like($page_js, qr!^import \{[^}]*\} from '\./upload-engine\.js';!m, 'upload.js imports the engine');
my $engine_js = http_get('/static/js/upload-engine.js')->content;
(my $code = $engine_js) =~ s{(?:^|\s)//\s.*$}{}mg;     # comments may name them
unlike($code, qr/\b(document|window|localStorage|XMLHttpRequest|navigator)\b/,
       'the engine touches no DOM or browser-only object');
my $css = http_get('/static/css/lenz.css')->content;
like($css, qr/\.dropzone\b/, 'lenz.css styles the drop zone');
like($css, qr/^:focus-visible \{[^}]*outline:[^}]*box-shadow:/m, '... with a visible focus ring (every page\'s)');
like($css, qr/prefers-reduced-motion: no-preference\)\s*\{\s*\.dropzone \{ transition/,
     '... and motion only without prefers-reduced-motion');
my @dz = $css =~ /(\.dropzone[^{]*\{[^}]*\})/g;
ok(@dz && !grep(/#[0-9a-f]{3,6}\b/i, @dz), '... with the stylesheet\'s colour variables');

# --- Policies and switched-off guest uploads (virtual hosts) -----------------------------
Apache::TestRequest::module('lenz_upenc');
$res = http_get('/upload/');
$html = $res->content;
ok($res->code == 200 && $html =~ /data-policy="encrypted"/ && $html !~ /id="encrypt"/
   && $html =~ /encrypts every file on the server/, 'policy "encrypted": said, no checkbox');
like($html, qr/data-plain-above="1048576"/, 'policy "encrypted 1M": the threshold for the script');
like($html, qr/Files larger than 1 MiB are stored unencrypted/, '... and said on the page');
my %pol = (
    'encrypted, 100 KiB' => ['/upload/guest/encrypted/initiate', 100 * 1024, 201],
    'plain, 100 KiB'     => ['/upload/guest/initiate', 100 * 1024, 403],
    'encrypted, 2 MiB'   => ['/upload/guest/encrypted/initiate', 2 << 20, 403],
    'plain, 2 MiB'       => ['/upload/guest/initiate', 2 << 20, 201],
);
for my $k (sort keys %pol) {
    my ($path, $size, $want) = @{ $pol{$k} };
    my $r = post_json($path, { filename => 'policy.bin', size => $size });
    is($r->code, $want, "policy \"encrypted 1M\": $k -> $want");
    if ($r->code == 201) {
        post_json('/upload/guest/abort', { token => json_of($r)->{token} });
    }
    else {
        is(json_of($r)->{type}, 'urn:lenz:problem:upload-policy', '... upload-policy');
    }
}
Apache::TestRequest::module('lenz_noguest');
$res = http_get('/upload/');
$html = $res->content;
ok($res->code == 200 && $html !~ /id="uploader"/ && $html =~ m{<a href="[^"]*/account/login\?next=/upload/">Sign in to upload files</a>},
   'guest uploads off: no uploader for guests, a sign-in link back here');
like($res->header('Content-Security-Policy') // '', qr/script-src 'self'/, '... still with the page CSP');
Apache::TestRequest::module('default');

# --- A signed-in member ---------------------------------------------------------------------
my $tag = sprintf('%d%d', time, $$);
my $email = "uppage-$tag\@example.org";
`echo 'correct horse battery' | $ctl create-user $email --name 'Uma Page' --password-stdin 2>&1`;
$res = http_req('POST', '/account/login', ['Content-Type' => 'application/x-www-form-urlencoded', Origin => $origin],
                'email=' . esc($email) . '&password=' . esc('correct horse battery'));
my ($cookie) = map { /^(lenz=[^;]*)/ ? $1 : () } $res->header('Set-Cookie');
ok($cookie, 'a member signs in');
$res = http_get('/upload/', Cookie => $cookie // '');
$html = $res->content;
is($res->code, 200, 'member page: 200');
like($html, qr{data-endpoint="/upload/member"}, '... members use the member routes');
my ($csrf) = $html =~ /data-csrf="([^"]+)"/;
ok($csrf && length($csrf) == 43, '... and get the CSRF token for them');
like($html, qr{Signed in as Uma Page: the files go to your storage\s+\(0 bytes of 10 GiB used\)},
     '... their storage and quota');
unlike($html, qr{You are not signed in}, '... no guest limits');
page_checks($html, 'member page');

# --- The engine in Node, and the page in jsdom, against this server and S3 ------------------
ok(node_ok(), 'node 18+ is installed') or diag('install Debian\'s nodejs (scripts/deps.sh does)');
my %results = %{ run_node('upload_engine.test.mjs', 'engine',
                          LENZ_MEMBER_COOKIE => $cookie // '', LENZ_MEMBER_CSRF => $csrf // '') };
my %page = %{ run_node('upload_page.test.mjs', 'page') };

# --- What the engine stored ---------------------------------------------------------------
my $b = $results{batch} // {};
is(s3_sha("files/" . ($b->{plain} // 'none')), $b->{sha256} // 'none', 'batch, plain: the S3 object is the file');
is(decrypt_sha($b->{enc} // 'none'), $b->{sha256} // 'none', 'batch, encrypted: decrypts to the file');
is(psql("SELECT count(*) FROM files WHERE transfer_id = '" . ($b->{transfer_id} // '00000000-0000-0000-0000-000000000000')
        . "' AND state = 'ready'"), 2, 'batch: two ready files in one transfer');
is(psql("SELECT count(*) FROM upload_parts WHERE file_id = '" . ($b->{enc} // '00000000-0000-0000-0000-000000000000')
        . "' AND sha256 IS NOT NULL"), 3, 'batch, encrypted: a SHA-256 recorded per part');
for my $k (qw(resume_enc retried)) {
    my $x = $results{$k} // {};
    is(decrypt_sha($x->{file_id} // 'none'), $x->{sha256} // 'none', "$k: decrypts to the file");
}
for my $k (qw(resume_plain retried_plain)) {
    my $x = $results{$k} // {};
    is(s3_sha("files/" . ($x->{file_id} // 'none')), $x->{sha256} // 'none', "$k: the S3 object is the file");
}
is(psql("SELECT state FROM files WHERE id = '" . ($results{cancelled} // '00000000-0000-0000-0000-000000000000') . "'"),
   'deleted', 'cancelled: the file is marked deleted');
my $m = $results{member} // {};
is(psql("SELECT u.email FROM files f JOIN users u ON u.id = f.owner_id WHERE f.id = '"
        . ($m->{file_id} // '00000000-0000-0000-0000-000000000000') . "'"), $email, "member: the file is the member's");
is(decrypt_sha($m->{file_id} // 'none'), $m->{sha256} // 'none', 'member: decrypts to the file');


# --- What the page uploaded ----------------------------------------------------------------
sub newest { psql("SELECT id || ' ' || state || ' ' || storage FROM files WHERE name = '$_[0]' "
                  . "ORDER BY created_at DESC LIMIT 1") }
for ([ 'page big.bin', 'page_big' ], [ 'page hello.txt', 'page_hello' ], [ 'page resume.bin', 'page_resume' ]) {
    my ($name, $k) = @$_;
    my ($id, $state, $storage) = split ' ', newest($name);
    ok(($state // '') eq 'ready' && ($storage // '') eq 'enc', "page: '$name' is stored, encrypted");
    is(decrypt_sha($id // 'none'), $page{$k} // 'none', "page: '$name' decrypts to the file");
}
my ($pid, $pstate, $pstorage) = split ' ', newest('page plain.bin');
ok(($pstate // '') eq 'ready' && ($pstorage // '') eq 'plain', "page: 'page plain.bin' is stored plain");
is(s3_sha('files/' . ($pid // 'none')), $page{page_plain} // 'none', '... the S3 object is the file');
is((split ' ', newest('page cancel.bin'))[1], 'deleted', "page: 'page cancel.bin' was cancelled (deleted)");

done_testing();
