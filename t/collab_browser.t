# Shared folders in a real browser (t/browser/collab.test.mjs): Debian's
# chromium, headless, driven by puppeteer-core with axe-core.  The owner
# and an editor of one shared folder each see the other's changes live;
# the collaboration pages pass the site's page checks.  A missing browser
# or npm package fails, never skips.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Lenz::Test;
use Lenz::Jobs ();
use Lenz::Member;

my $env = stack_env();
my $top = top_dir();
my $chromium = $ENV{LENZ_CHROMIUM} // '/usr/bin/chromium';
my $modules = `$top/scripts/fetch-browser-deps.sh`;
chomp $modules;
ok(-x $chromium && node_ok() && -f "$modules/puppeteer-core/package.json",
   "chromium, node and puppeteer-core are there ($modules)");

my $tag = sprintf('%d%d', time, $$);
my ($own, $ed) = ("cb-own-$tag\@example.org", "cb-ed-$tag\@example.org");
my $O = member($own);
my $E = member($ed);
my $studio = J(api($O, 'POST', '/folders', { name => 'Studio' }));
my $file = upload_small($O, '/api/v1/uploads', 'draft.txt', 'a draft', folder_id => $studio->{id});
my $share = J(api($O, 'POST', "/folders/$studio->{id}/shares", { email => $ed, role => 'editor' }));
is(api($E, 'POST', "/shares/$share->{id}/accept")->code, 200, 'the owner shares Studio with an editor, who accepts');

my $t0 = time;
my $r = run_node('browser/collab.test.mjs', 'browser',
                 LENZ_BROWSER_MODULES => $modules, LENZ_CHROMIUM => $chromium,
                 LENZ_OWNER_EMAIL => $own, LENZ_EDITOR_EMAIL => $ed, LENZ_MEMBER_PASSWORD => 'correct horse battery',
                 LENZ_FOLDER_ID => $studio->{id}, LENZ_FILE_ID => $file->{file_id});
Lenz::Jobs::figure(sprintf('collaboration in Chromium: %d pages checked in %d s', $r->{pages} // 0, time - $t0));
ok($r->{pid} && !kill(0, $r->{pid}) || !-e "/proc/$r->{pid}/stat" || `cat /proc/$r->{pid}/stat` =~ /\) Z/,
   'its Chromium is no longer running');
ok($r->{profile} && !-e $r->{profile}, '... and its profile directory is removed');

done_testing();
