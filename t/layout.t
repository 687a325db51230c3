# The layout rules (scripts/check-layout.pl, docs/architecture.md): the
# tree as it is passes, and each rule, broken on purpose in a copy of
# mod_lenz/, makes the check fail and name the file, the line and the rule.
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Lenz::Test;

my $top = top_dir();
my $check = "$top/scripts/check-layout.pl";

sub run_check {
    my ($dir) = @_;
    my $out = `$^X $check $dir 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = run_check($top);
is($rc, 0, 'the tree keeps the layout rules') or diag($out);
like($out, qr/^layout: ok \(\d+ files in \d+ folders\)/, '... and says so');

# A copy of mod_lenz/ to break (only sources: the check reads nothing else).
sub copy_tree {
    my $dir = tempdir(CLEANUP => 1);
    system('cp', '-R', "$top/mod_lenz", "$dir/mod_lenz") == 0 or die "cp failed";
    return $dir;
}
sub add_line {
    my ($file, $line, $at_end) = @_;
    open my $in, '<', $file or die "$file: $!";
    my @l = <$in>;
    close $in;
    if ($at_end) { push @l, "$line\n" }
    else {
        my ($i) = grep { $l[$_] =~ /^#include/ } 0 .. $#l;
        splice @l, $i // 0, 0, "$line\n";
    }
    open my $o, '>', $file or die;
    print $o @l;
}

my @broken = (
    [ 'a core file includes an httpd header',
      'core/crypto.c', '#include <http_log.h>', qr{core/crypto\.c:\d+: includes <http_log\.h>, an httpd header} ],
    [ 'lenzctl includes an httpd header',
      'tool/lenzctl.c', '#include <httpd.h>', qr{tool/lenzctl\.c:\d+: includes <httpd\.h>, an httpd header} ],
    [ 'a core file includes a glue header',
      'core/json.c', '#include "httpd/dbd.h"', qr{core/json\.c:\d+: includes "httpd/dbd\.h" from httpd/; core/ may include only core/} ],
    [ 'an area includes another area\'s header',
      'upload/uploads.c', '#include "download/serve.h"',
      qr{upload/uploads\.c:\d+: includes "download/serve\.h" from another area \(download/\); an area may include only its own headers, httpd/, jobs/ and core/} ],
    [ 'an area includes the top level',
      'notify/notify.c', '#include "../mod_lenz.h"', qr{notify/notify\.c:\d+: includes "\.\./mod_lenz\.h": name a header} ],
    [ 'httpd/ includes jobs/ (a circle: jobs/ includes httpd/)',
      'httpd/dbd.c', '#include "jobs/events.h"',
      qr{httpd/dbd\.c:\d+: includes "jobs/events\.h" from jobs/; httpd/ may include only core/, httpd/.*include circle between folders: (httpd/ -> jobs/ -> httpd/|jobs/ -> httpd/ -> jobs/)}s ],
    [ 'jobs/ includes an area',
      'jobs/runner.c', '#include "notify/notify.h"', qr{jobs/runner\.c:\d+: includes "notify/notify\.h" from another area \(notify/\); jobs/ may include only core/, httpd/, jobs/} ],
    [ 'a header that is in neither the folder nor core/',
      'admin/h_api_admin.c', '#include "uploads.h"', qr{admin/h_api_admin\.c:\d+: includes "uploads\.h", which is neither in admin/ nor in core/} ],
);
for my $b (@broken) {
    my ($what, $file, $line, $want) = @$b;
    my $dir = copy_tree();
    add_line("$dir/mod_lenz/$file", $line);
    my ($rc, $out) = run_check($dir);
    is($rc, 1, "broken on purpose: $what -> the check fails");
    like($out, $want, '... naming the file, line and rule') or diag($out);
}

{
    my $dir = copy_tree();
    make_path("$dir/mod_lenz/gallery");
    open my $fh, '>', "$dir/mod_lenz/gallery/h_gallery.c" or die;
    print $fh "#include \"httpd/lenz.h\"\n";
    close $fh;
    my ($rc, $out) = run_check($dir);
    is($rc, 1, 'a new area folder without area.h -> the check fails');
    like($out, qr{gallery/: a feature area without area\.h}, '... saying what is missing');
    open $fh, '>', "$dir/mod_lenz/gallery/area.h" or die;
    print $fh "#include \"httpd/router.h\"\n";
    close $fh;
    ($rc, $out) = run_check($dir);
    like($out, qr{gallery/: its area\.h is not included by the area table \(areas\.c\)}, '... and one not in the area table');
    add_line("$dir/mod_lenz/areas.c", '#include "gallery/area.h"');
    ($rc, $out) = run_check($dir);
    is($rc, 0, '... and passes once areas.c includes it') or diag($out);
}
{
    my $dir = copy_tree();
    open my $fh, '>>', "$dir/mod_lenz/httpd/rate.c" or die;
    print $fh "/* padding */\n" x 900;
    close $fh;
    my ($rc, $out) = run_check($dir);
    is($rc, 1, 'a source file past 800 lines -> the check fails');
    like($out, qr{httpd/rate\.c: \d+ lines; split it \(at most 800\)}, '... naming it');
}

done_testing();
