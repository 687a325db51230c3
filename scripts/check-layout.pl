#!/usr/bin/perl
# scripts/check-layout.pl [TOP] - the layout rules of mod_lenz/ that
# docs/architecture.md draws, checked from the sources' #include lines:
#
#   core/   httpd-free: includes only core/ headers, and no httpd header
#           (<httpd.h>, <http_*.h>, <ap_*.h>, <mod_*.h>, <util_*.h>, ...)
#   tool/   lenzctl: tool/ and core/ only, no httpd header
#   httpd/  the glue every area uses: httpd/ and core/
#   jobs/   background work: jobs/, httpd/ and core/
#   AREA/   any other folder is a feature area: its own headers, httpd/,
#           jobs/ and core/, never another area's; it has an area.h, and
#           the area table (areas.c) includes it
#   top     mod_lenz/*.c (module record, area table, subscriber table):
#           anything
#
# and no include circle between folders, and no source file over 800 lines.
# A quoted include with a folder ("httpd/dbd.h") names that folder; a bare
# one ("dbd.h") is the including file's own folder when the header is
# there (as the compiler looks first), else core/.  Prints one line per
# problem and exits 1, or prints "layout: ok ..." and exits 0.
use strict;
use warnings;
use File::Basename qw(dirname basename);

my $top = shift // '.';
my $src = "$top/mod_lenz";
-d $src or die "check-layout: no $src\n";
my $MAX_LINES = 800;
my %fixed = (core => 1, tool => 1, httpd => 1, jobs => 1, '.' => 1);
my %may = (
    core  => { core => 1 },
    tool  => { tool => 1, core => 1 },
    httpd => { httpd => 1, core => 1 },
    jobs  => { jobs => 1, httpd => 1, core => 1 },
);
my $httpd_hdr = qr/^(?:httpd|http_\w+|ap_\w+|mod_\w+|util_\w+|scoreboard|mpm_common|unixd|os)\.h$/;

my @problems;
sub problem { push @problems, "layout: $_[0]" }

opendir my $dh, $src or die "check-layout: $src: $!\n";
my @folders = ('.', sort grep { !/^\./ && -d "$src/$_" } readdir $dh);
closedir $dh;
my (@files, %edges);
for my $f (@folders) {
    push @files, map { $f eq '.' ? basename($_) : "$f/" . basename($_) }
                 sort glob("$src/$f/*.c"), sort glob("$src/$f/*.h");
}

for my $file (@files) {
    my $dir = dirname($file);
    my $kind = $fixed{$dir} ? $dir : 'area';
    open my $fh, '<', "$src/$file" or die "check-layout: $file: $!\n";
    my $n = 0;
    while (my $line = <$fh>) {
        $n++;
        if ($line =~ /^\s*#\s*include\s*<([^>]+)>/) {
            my $h = $1;
            problem("$file:$n: includes <$h>, an httpd header, but $dir/ is httpd-free")
                if ($kind eq 'core' || $kind eq 'tool') && basename($h) =~ $httpd_hdr;
            next;
        }
        next unless $line =~ /^\s*#\s*include\s*"([^"]+)"/;
        my $h = $1;
        my $to;
        if ($h =~ m{^(\w+)/[^/]+$}) {
            $to = $1;
            if (!-f "$src/$h") { problem("$file:$n: includes \"$h\", which does not exist"); next }
        }
        elsif ($h !~ m{/}) {
            if (-f "$src/$dir/$h") { $to = $dir }
            elsif (-f "$src/core/$h") { $to = 'core' }
            else { problem("$file:$n: includes \"$h\", which is neither in $dir/ nor in core/"); next }
        }
        else { problem("$file:$n: includes \"$h\": name a header as \"folder/name.h\""); next }
        $edges{$dir}{$to} = "$file:$n" if $to ne $dir;
        next if $dir eq '.';
        my $ok = $kind eq 'area'
            ? ($to eq $dir || $to eq 'httpd' || $to eq 'jobs' || $to eq 'core')
            : $may{$kind}{$to};
        next if $ok;
        my $what = $to eq '.' ? 'the top level (mod_lenz/*.h)'
                 : $fixed{$to} ? "$to/" : "another area ($to/)";
        problem("$file:$n: includes \"$h\" from $what; " .
                ($kind eq 'area' ? "an area" : "$dir/") . " may include only " .
                ($kind eq 'area' ? "its own headers, httpd/, jobs/ and core/"
                                 : join(', ', map { "$_/" } sort keys %{ $may{$kind} })));
    }
    close $fh;
    problem("$file: $n lines; split it (at most $MAX_LINES)") if $n > $MAX_LINES && $file =~ /\.[ch]$/;
}

# Every area is in the area table.
my $table = -f "$src/areas.c" ? do { local $/; open my $fh, '<', "$src/areas.c" or die; <$fh> } : '';
for my $f (grep { !$fixed{$_} } @folders) {
    if (!-f "$src/$f/area.h") { problem("$f/: a feature area without area.h (what it gives the area table)"); next }
    problem("$f/: its area.h is not included by the area table (areas.c)")
        unless $table =~ /^#include "\Q$f\E\/area\.h"/m;
}

# No circle between folders (the top level, which includes everything, is
# not a folder of its own: nothing may include it, which the rules say).
my (%state, @path);
sub visit {
    my $d = shift;
    $state{$d} = 1;
    push @path, $d;
    for my $to (sort keys %{ $edges{$d} || {} }) {
        next if $to eq '.';
        if (($state{$to} // 0) == 1) {
            my @cycle = (@path[(grep { $path[$_] eq $to } 0 .. $#path)[0] .. $#path], $to);
            problem("include circle between folders: " . join(' -> ', map { "$_/" } @cycle) .
                    " (first edge at $edges{$d}{$to})");
        }
        elsif (!$state{$to}) { visit($to) }
    }
    pop @path;
    $state{$d} = 2;
}
visit($_) for grep { $_ ne '.' && !$state{$_} } @folders;

if (@problems) {
    print "$_\n" for @problems;
    exit 1;
}
printf "layout: ok (%d files in %d folders)\n", scalar(@files), scalar(@folders);
exit 0;
