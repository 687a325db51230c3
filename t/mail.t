# Mail through the queue, read back from the SMTP sink's files: the
# selftest job's "test" mail (multipart/alternative, Date, Message-ID on
# the sender's domain as LenzPublicURL is an IP, AUTH from
# LenzSMTPAuthFile, inside STARTTLS verified with LenzSMTPCAFile); a
# subject with CR/LF arrives with its text intact and no extra header;
# UTF-8 subjects are encoded; a recipient with CR/LF or an unknown
# template kills the job without sending; a job that recorded the
# server's acceptance is never sent again.
use strict;
use warnings FATAL => 'all';
use Test::More tests => 29;
use Encode ();
use MIME::QuotedPrint ();
use Lenz::Test;
use Lenz::Jobs;

my $env = stack_env();
expect_log('LENZ2311');     # the mail jobs that must die below

sub enqueue {
    my ($rc, $out) = ctl('enqueue', @_);
    my ($id) = $out =~ /^job (\d+) queued/m;
    diag $out unless $id;
    return $id;
}


my $tag = uniq('mail');

# The test mail, queued by a selftest job through lenz_mail_enqueue().
my $rcpt = "$tag\@example.org";
my $sid = enqueue('selftest', qq({"mail_to": "$rcpt"}));
my $m = mail_to($rcpt, 10);
ok($m, 'the test mail arrived in the sink');
my ($h, $body) = mail_parse($m // '');
is(mail_header($h, 'X-Envelope-From'), '<lenz-test@example.org>', '... envelope sender LenzMailFrom');
is(scalar(() = mail_header($h, 'X-Envelope-To')), 1, '... one envelope recipient');
is(mail_header($h, 'From'), 'lenz-test@example.org', '... From');
is(mail_header($h, 'To'), $rcpt, '... To');
is(mail_subject($h), 'mod_lenz test message', '... Subject');
like(mail_header($h, 'Date'), qr/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/,
     '... an RFC 5322 Date');
my $mid = mail_header($h, 'Message-ID') // '';
like($mid, qr/^<[A-Za-z0-9_-]{24}\@example\.org>$/, '... a Message-ID on the sender\'s domain (the public URL is an IP)');
my $job = psql("SELECT id || ' ' || state || ' ' || (result->>'message_id') FROM jobs WHERE kind = 'mail' "
               . "AND payload->'to'->>0 = '$rcpt'");
is($job =~ s/^\d+ //r, "done $mid", '... the mail job is done and recorded that Message-ID');
like(mail_header($h, 'Content-Type'), qr{^multipart/alternative;\s*boundary="=_lenz_}, '... multipart/alternative');
my $decoded = MIME::QuotedPrint::decode($body // '');
like($decoded, qr/queued by job \Q$sid\E and rendered by the job runner \S+\/\d+\/\d+\./,
     '... the text part rendered from mail/test.txt with the job data');
like($decoded, qr{<strong>\Q$sid\E</strong>}, '... the HTML part from mail/test.html');
my $smtplog = read_file("$env->{LENZ_STACK_DIR}/smtp/log");
like($smtplog, qr/to=<\Q$rcpt\E> size=\d+ auth=lenz-test mech=PLAIN tls=\w+$/m,
     '... submitted with AUTH as the user in LenzSMTPAuthFile');
# LenzSMTPTLS's default (STARTTLS when offered) against a sink that offers
# it, verified against LenzSMTPCAFile (the stack's CA).
like($smtplog, qr/to=<\Q$rcpt\E> size=\d+ auth=\S+ mech=\S+ tls=yes$/m, '... inside TLS (STARTTLS)');

# A subject with CR/LF (say, a file name a user chose): the text arrives,
# on one line, and no header is added.
my $victim = "victim-$tag\@example.org";
my $id = enqueue('mail', qq({"template": "test", "to": ["$victim"], "subject": "Report $tag\\r\\nBcc: evil\@example.org\\r\\n\\r\\nInjected body", "data": {"job": "x", "runner": "y"}}));
$m = mail_to($victim, 10);
ok($m, 'a mail whose subject holds CR/LF arrives');
($h, $body) = mail_parse($m // '');
is(mail_subject($h), "Report $tag Bcc: evil\@example.org Injected body", '... its subject text intact, on one line');
is(scalar(grep { lc $_->[0] eq 'bcc' } @$h), 0, '... no Bcc header');
is(join(',', mail_header($h, 'X-Envelope-To')), "<$victim>", '... and no other recipient');
unlike($body, qr/^Injected body/m, '... nor a body of its own');

# UTF-8 subjects are encoded (RFC 2047) and come back the same.
my $u = "u8-$tag\@example.org";
enqueue('mail', qq({"template": "test", "to": ["$u"], "subject": "Gr\\u00fc\\u00dfe aus K\\u00f6ln \\u2713 $tag"}));
$m = mail_to($u, 10);
($h) = mail_parse($m // '');
like(mail_header($h, 'Subject') // '', qr/=\?UTF-8\?B\?/, 'a UTF-8 subject is sent as encoded-words');
is(mail_subject($h), Encode::decode('UTF-8', "Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln \xe2\x9c\x93 $tag"),
   '... and decodes to the same text');

# A recipient with CR/LF cannot add one: the job dies, nothing is sent.
$id = enqueue('mail', qq({"template": "test", "to": ["ok-$tag\@example.org\\r\\nRCPT TO:<evil-$tag\@example.org>"], "subject": "x"}));
wait_until(sub { job_row($id)->{state} eq 'dead' }, 5);
my $j = job_row($id);
is($j->{state}, 'dead', 'a recipient holding CR/LF: the job is dead at once');
like($j->{last_error}, qr/cannot be composed: to\[0\]: invalid address/, '... as the address is invalid');
ok(!mail_to("evil-$tag\@example.org", 0.5) && !mail_to("ok-$tag\@example.org", 0.1), '... and nothing was sent');

# An unknown template.
$id = enqueue('mail', qq({"template": "no-such-template", "to": ["t-$tag\@example.org"], "subject": "x"}));
wait_until(sub { job_row($id)->{state} eq 'dead' }, 5);
like(job_row($id)->{last_error}, qr{template mail/no-such-template\.txt: not found}, 'an unknown template: dead, saying so');

# A job whose earlier attempt recorded the server's acceptance is not sent
# again (a retry after the server said 250 but before the job was done).
my $dup = "dup-$tag\@example.org";
psql("INSERT INTO jobs (kind, payload, result) VALUES ('mail', "
     . "'{\"template\": \"test\", \"to\": [\"$dup\"], \"subject\": \"x\"}', "
     . "'{\"message_id\": \"<already\@example.org>\", \"sent_at\": \"1\"}')");
ok(wait_until(sub { psql("SELECT state FROM jobs WHERE payload->'to'->>0 = '$dup'") eq 'done' }, 5),
   'a mail job that was sent already is done');
ok(!mail_to($dup, 0.5), '... without sending it again');

like(http_get('/metrics')->content, qr/^lenz_mails_sent_total [1-9]\d*$/m, 'metrics count sent mails');

# Plain-text templates must not HTML-escape ({{x}} would turn "O'Brien"
# into "O&#39;Brien" in a text mail): only {{{x}}}, sections and comments.
my @escaping;
for my $t (glob(top_dir() . '/templates/mail/*.txt.mustache')) {
    my $src = read_file($t);
    push @escaping, "$t: $1" while $src =~ /(?<!\{)(\{\{\s*[^{#\/^!>&\s][^}]*\}\})(?!\})/g;
}
is_deeply(\@escaping, [], 'text mail templates use only unescaped {{{tags}}}');
