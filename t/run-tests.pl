#!/usr/bin/perl
# t/run-tests.pl - runs every C unit test (build/t/test_*) and every
# Apache::Test file (t/*.t) as TAP, and refuses to call a run good unless
# every test that exists ran and passed:
#   - a unit test source without its binary, a file that dies, prints no
#     plan, runs fewer tests than planned, or skips (skip_all or # SKIP)
#     counts as failed;
#   - the httpd error log must hold no LENZ warning/error the tests did not
#     declare (t/logs/expected-log-tags) and no crashed child;
#   - no sanitizer report in t/logs/asan/ (make test-asan).
# LENZ_UNIT_WRAPPER (e.g. valgrind and its options) prefixes every unit test.
# Prints "N passed, N failed" as its last line (and into $LENZ_SUMMARY).
use strict;
use warnings;
use TAP::Parser;
use File::Basename qw(basename);

my $top = $ENV{LENZ_TOP} or die "LENZ_TOP not set\n";
chdir $top or die "cd $top: $!\n";
my $only = $ENV{LENZ_TESTS} // '';   # optional filter (regex) for quick runs
my ($passed, $failed) = (0, 0);
my @problems;

sub run_tap {
    my ($name, @cmd) = @_;
    my $parser = TAP::Parser->new({ exec => \@cmd, merge => 1 });
    my ($ok, $bad, $skip) = (0, 0, 0);
    my @out;
    while (my $r = $parser->next) {
        push @out, $r->as_string;
        next unless $r->is_test;
        if ($r->has_skip) { $skip++; next; }
        if ($r->is_ok && !$r->has_todo) { $ok++ } else { $bad++ }
    }
    my $planned = $parser->tests_planned // 0;
    my $ran = $parser->tests_run;
    my $why = '';
    if ($parser->skip_all) {
        $why = "skipped entirely (" . $parser->skip_all . ")";
        $bad += $planned || 1;
    }
    elsif (!$parser->plan) { $why = "printed no plan"; $bad++ }
    elsif ($ran < $planned) { $why = "ran $ran of $planned planned tests"; $bad += $planned - $ran }
    elsif ($ran > $planned) { $why = "ran $ran tests but planned $planned"; $bad++ }
    if ($skip) { $why .= ($why ? '; ' : '') . "$skip skipped"; $bad += $skip }
    if (defined $parser->exit && $parser->exit != 0 && !$bad) {
        $why .= ($why ? '; ' : '') . "exited with status " . $parser->exit;
        $bad++;
    }
    $passed += $ok;
    $failed += $bad;
    my $status = $bad ? "FAIL" : "ok";
    printf "%-40s %s (%d passed%s)\n", $name, $status, $ok, $bad ? ", $bad failed" : "";
    if ($bad) {
        my @shown = grep { /^not ok|^#|Bail/ } @out;
        # A file that died says why outside TAP: show its last words.
        @shown = @out[($#out > 15 ? $#out - 15 : 0) .. $#out] if !@shown || !$parser->plan;
        print map { "    $_\n" } @shown;
        push @problems, "$name: " . ($why || "$bad failed");
    }
}

# C tests: every source must have been built.  test_* need nothing;
# stack_* talk to the test stack's servers (LENZ_* from stack.env).
for my $src (sort(glob("t/unit/test_*.c")), sort(glob("t/unit/stack_*.c"))) {
    my $name = basename($src, '.c');
    next if $only && "unit/$name" !~ /$only/;
    my $bin = "build/t/$name";
    if (!-x $bin) {
        print "unit/$name: FAIL (not built)\n";
        push @problems, "unit/$name: binary $bin missing";
        $failed++;
        next;
    }
    run_tap("unit/$name", split(' ', $ENV{LENZ_UNIT_WRAPPER} // ''), $bin);
}

# libFuzzer harnesses, a short smoke run each over their committed seeds.
run_tap("fuzz/smoke", "scripts/fuzz-smoke.sh") if !$only || "fuzz/smoke" =~ /$only/;

# Apache::Test files, in name order.
my @files = sort glob "t/*.t";
for my $t (@files) {
    next if $only && $t !~ /$only/;
    run_tap($t, $^X, "-I$top/t/lib", $t);
}

# The error log.
if (!$only || $ENV{LENZ_CHECK_LOG}) {
    my %expected;
    if (open my $fh, '<', "t/logs/expected-log-tags") {
        while (<$fh>) { chomp; $expected{$_} = 1 if /^LENZ\d+$/ }
    }
    my ($bad_lines, @shown) = (0);
    if (open my $fh, '<', "t/logs/error_log") {
        while (my $l = <$fh>) {
            if ($l =~ /\[(?:lenz:)?(warn|error|crit|alert|emerg)\].*?(LENZ\d+):/ && !$expected{$2}) {
                $bad_lines++;
                push @shown, $l if @shown < 10;
            }
            elsif ($l =~ /exit signal|Segmentation fault|AddressSanitizer|runtime error:/) {
                $bad_lines++;
                push @shown, $l if @shown < 10;
            }
        }
    }
    else {
        $bad_lines++;
        push @shown, "t/logs/error_log is missing\n";
    }
    if ($bad_lines) {
        $failed++;
        print "error_log check                          FAIL\n", map { "    $_" } @shown;
        push @problems, "error_log: $bad_lines unexpected LENZ warning/error or crash lines";
    }
    else {
        $passed++;
        print "error_log check                          ok\n";
    }
}

# Sanitizer reports (ASan/UBSan write one file per process that found something).
if (-d "t/logs/asan") {
    my @reports = grep { -s } glob "t/logs/asan/*";
    if (@reports) {
        $failed++;
        print "sanitizer reports                        FAIL\n", map { "    $_\n" } @reports;
        open my $fh, '<', $reports[0] or die;
        my @l = <$fh>;
        print map { "    $_" } @l[0 .. ($#l < 30 ? $#l : 30)];
        push @problems, scalar(@reports) . " sanitizer report(s) in t/logs/asan/";
    }
    else {
        $passed++;
        print "sanitizer reports                        ok (none)\n";
    }
}

print "\nProblems:\n", map { "  - $_\n" } @problems if @problems;
my $summary = "$passed passed, $failed failed";
# With LENZ_SUMMARY the caller prints the line last, after tearing down.
if ($ENV{LENZ_SUMMARY}) {
    open my $fh, '>', $ENV{LENZ_SUMMARY} or die;
    print $fh "$summary\n";
}
else {
    print "$summary\n";
}
exit($failed || !$passed ? 1 : 0);
