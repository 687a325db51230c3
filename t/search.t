# Search across everything the caller may see (issue 18, item 8):
# GET /api/v1/search?q=&type= over files, folders, comments, topics and
# posts; titles and names weigh over bodies; the last word matches as a
# prefix (as you type); a typo in a name still finds it (pg_trgm); the
# snippet marks the matches and escapes the text; access is decided inside
# the query, so another member's things and a folder shared with someone
# else never show, and a revoked share takes its items out at once.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs;
use Lenz::Member;

my $tag = uniq('se');
(my $w = "zq$tag") =~ s/[^a-z0-9]//g;          # a word no other test uses
my %mail = map { $_ => "$_-$tag\@example.org" } qw(own mem out);
my %t;
for my $k (sort keys %mail) { $t{$k} = member($mail{$k}) }
sub search { my ($who, $q) = @_; api($t{$who}, 'GET', '/search?' . $q) }
sub hits { my ($who, $q) = @_; [ map { "$_->{type}:$_->{title}" } @{ J(search($who, $q))->{results} // [] } ] }

my $proj = J(api($t{own}, 'POST', '/folders', { name => "Orchid$w" }));
my $f1 = upload_small($t{own}, '/api/v1/uploads', "invoice-$w.pdf", 'pdf', folder_id => $proj->{id});
my $f2 = upload_small($t{own}, '/api/v1/uploads', "private-$w.txt", 'secret');        # the root: not shared
api($t{own}, 'POST', '/comments', { file_id => $f1->{file_id}, body => "Please check the $w totals: 3 < 4 & 5 > 2 again" });
my $topic = J(api($t{own}, 'POST', '/topics', { title => "Calibrating $w monitors", body => 'Use a colorimeter.' }));
api($t{mem}, 'POST', "/topics/$topic->{id}/posts", { body => "I calibrate $w weekly." });

# --- The owner finds everything ------------------------------------------------------------------------------
my $res = search('own', "q=$w");
is($res->code, 200, 'GET /search: 200');
my $j = J($res);
is_deeply([ sort keys %{ $j->{results}[0] } ], [qw(id snippet title type)], '... results {"type","id","title","snippet"}');
ok(exists $j->{next_cursor}, '... and next_cursor');
my %types = map { $_->{type} => 1 } @{ $j->{results} };
is_deeply([ sort keys %types ], [qw(comment file folder post topic)], '... of every kind');
is($j->{results}[0]{type} =~ /^(file|folder|topic)$/ ? 1 : 0, 1, '... a name or title first (titles weigh over bodies)');
my ($c) = grep { $_->{type} eq 'comment' } @{ $j->{results} };
like($c->{snippet}, qr{<mark>\Q$w\E</mark>}, 'the snippet marks the match');
like($c->{snippet}, qr{3 &lt; 4 &amp; 5 &gt; 2}, '... and escapes the text');
is($c->{title}, "invoice-$w.pdf", "a comment's title: what it is about");

# As you type, and with a typo.
my $part = substr($w, 0, length($w) - 3);
ok(grep({ $_ eq "folder:Orchid$w" } @{ hits('own', "q=$part&type=folder") }), 'a prefix of the last word finds it (as you type)');
ok(grep({ $_ eq "file:invoice-$w.pdf" } @{ hits('own', "q=invoce-$w") }), 'a typo in a name finds it (pg_trgm)');
ok(scalar @{ hits('own', "q=$w&type=topic,post") } == 2, 'type= narrows the kinds: the topic and the post');
ok(!grep({ !/^(topic|post):/ } @{ hits('own', "q=$w&type=topic,post") }), '... only topics and posts');

# --- Access is decided inside the query ------------------------------------------------------------------------
is_deeply([ grep { !/^(topic|post):/ } @{ hits('out', "q=$w") } ], [], "an outsider finds none of the owner's files, folders or comments");
ok(grep({ /^topic:/ } @{ hits('out', "q=$w") }), '... but the site-wide topic');
my $sh = J(api($t{own}, 'POST', "/folders/$proj->{id}/shares", { email => $mail{mem}, role => 'viewer' }));
api($t{mem}, 'POST', "/shares/$sh->{id}/accept");
my $mem = hits('mem', "q=$w&type=file,folder,comment");
ok(grep({ $_ eq "file:invoice-$w.pdf" } @$mem), 'a member of the share finds the shared file');
ok(grep({ /^comment:/ } @$mem), '... and its comment');
ok(!grep({ $_ eq "file:private-$w.txt" } @$mem), "... not the owner's unshared file");
# Access is asked of the candidates in rank order: the owner's unshared
# files that rank higher (the word twice in their names) are passed over,
# and a page of one still holds the shared file.
upload_small($t{own}, '/api/v1/uploads', "$w-$w.txt", 'x') for 1 .. 3;
my $one = J(search('mem', "q=$w&type=file&limit=1"));
is_deeply([ map { "$_->{type}:$_->{title}" } @{ $one->{results} } ], [ "file:invoice-$w.pdf" ],
          '... with higher-ranked files of the owner it cannot see, a page of one holds the shared file');
ok(!defined $one->{next_cursor}, '... and nothing else');
like(J(search('own', "q=$w&type=file&limit=1"))->{results}[0]{title} // '', qr/^\Q$w-$w\E( \(\d\))?\.txt$/,
     '(for the owner those rank first)');
is(api($t{own}, 'DELETE', "/shares/$sh->{id}")->code, 204, 'the owner revokes the share');
is_deeply(hits('mem', "q=$w&type=file,folder,comment"), [], '... and the member finds nothing of it at once');

# --- Paging and bad input --------------------------------------------------------------------------------------
api($t{own}, 'POST', '/folders', { name => "Orchid$w-$_", parent_id => $proj->{id} }) for 1 .. 5;
my $p1 = J(search('own', "q=$w&type=folder&limit=3"));
is(scalar @{ $p1->{results} }, 3, 'limit=3: three');
ok($p1->{next_cursor}, '... and a cursor');
my $p2 = J(search('own', "q=$w&type=folder&limit=3&cursor=$p1->{next_cursor}"));
is(scalar @{ $p2->{results} }, 3, 'the next page: the other three');
my %seen;
$seen{$_->{id}}++ for @{ $p1->{results} }, @{ $p2->{results} };
is(scalar keys %seen, 6, '... none twice');
ok(!defined $p2->{next_cursor}, '... and no further page');
is(search('own', 'q=')->code, 400, 'an empty q: 400');
is(search('own', 'q=' . esc('&&& !!!'))->code, 400, 'no word in q: 400');
is(search('own', "q=$w&type=spaceship")->code, 400, 'an unknown type: 400');
is(search('own', "q=$w&limit=0")->code, 400, 'limit=0: 400');
is(search('own', "q=$w&cursor=abc")->code, 400, 'a bad cursor: 400');
is(search('own', 'q=' . esc("it's (a) 'test' & | ! :*"))->code, 200, 'tsquery syntax in q is just words: 200');
is(http_get("/api/v1/search?q=$w")->code, 401, 'a guest: 401');

# --- The page ---------------------------------------------------------------------------------------------------
my $cookie = cookie_of(form('/account/login', { email => $mail{own}, password => 'correct horse battery' }));
$res = http_get("/search?q=$w", Cookie => $cookie, Accept => 'text/html');
is($res->code, 200, 'the search page');
like($res->content, qr{<mark>\Q$w\E</mark>}, '... shows marked snippets');
like($res->content, qr{href="[^"]*/files/folder/$proj->{id}"}, '... linking the folder');

done_testing();
