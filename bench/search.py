#!/usr/bin/python3
"""bench/search.py (`make bench-search`; run through bench/run.sh): issue
18's search figure.  One member's folder of BENCH_SEARCH_ROWS (default
1,000,000) searchable rows made by `lenzctl fill-folder` (file names of ten
kinds: invoices, photos, screenshots, reports, scans, meeting notes,
backups, tracks, contracts), then GET /api/v1/search through httpd against
the same SQL run straight in psql, for three kinds of query:

  word     q=invoice        full text, one kind of ten names matches
  prefix   q=meeting-no     as you type: "meeting & no:*"
  typo     q=contrct        no word matches: pg_trgm word similarity

each BENCH_SEARCH_SAMPLES (default 30) times after 3 warm-ups, httpd and
psql in turn; p50 and p95 of each and their ratio (goal from the issue:
<= 1.3 x the bare SQL at p95).

The reference is the statements the module runs for the request, with its
values: the bearer token's family check (httpd/auth.c) and the search
statement, whose text the bench compiles from the module's own header
(mod_lenz/search/search_sql.h) and PREPAREs in one persistent psql session
as apr_dbd_pgsql does (varchar parameters, %s -> $n, %% -> %).  Before
timing, psql's answer must list the same ids as httpd's, in order.

Run with Debian's /usr/bin/python3 (benchlib, bench/storage.py's clients).
"""
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
import storage as sb  # noqa: E402

GOAL = 1.3
ROWS = int(os.environ.get("BENCH_SEARCH_ROWS", "1000000"))
SAMPLES = int(os.environ.get("BENCH_SEARCH_SAMPLES", "30"))
WARMUP = 3
LIMIT = 20
KINDS = [("word", "invoice", "invoice:*"), ("prefix", "meeting-no", "meeting & no:*"),
         ("typo", "contrct", "contrct:*")]
TYPES = 63          # every kind (file folder comment topic post message)


def search_sql():
    """The module's statement text, from its header."""
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "s.c"), os.path.join(d, "s")
        with open(src, "w") as f:
            f.write('#include <stdio.h>\n#include "search_sql.h"\n'
                    'int main(void) { fputs(LENZ_SEARCH_SQL, stdout); return 0; }\n')
        subprocess.run(["cc", "-I", os.path.join(HERE, "..", "mod_lenz", "search"), "-o", exe, src], check=True)
        return subprocess.run([exe], capture_output=True, text=True, check=True).stdout


def main():
    st = bl.Settings()
    env = sb.stack_env(st)
    conninfo = env["LENZ_PG_CONNINFO"]
    http = sb.Http(st.httpd_url)
    print("bench/search: %d searchable rows of one member, GET /api/v1/search through httpd vs the same SQL in psql"
          % ROWS)
    print("  " + bl.machine_line())
    sys.stdout.flush()
    m = sb.Member(st, http, "search")
    t0 = time.perf_counter()
    out = sb.lenzctl(st, "fill-folder", "--user", m.email, "--count", str(ROWS))
    print("  set-up: lenzctl fill-folder: %s (%.1f s)" % (out, time.perf_counter() - t0))
    pg = sb.Psql(conninfo)
    t0 = time.perf_counter()
    pg.run("VACUUM (ANALYZE) files, folders;")
    print("  set-up: VACUUM (ANALYZE) files, folders: %.1f s" % (time.perf_counter() - t0))
    sys.stdout.flush()
    try:
        return run(st, pg, m)
    finally:
        pg.close()
        if os.environ.get("BENCH_KEEP") != "1":
            c = sb.Psql(conninfo)
            c.run("DELETE FROM users WHERE id = %s;" % sb.lit(m.id))
            c.close()


def run(st, pg, m):
    sql = search_sql().replace("%%", "\x00")
    n, text = sb.as_prepared(sql)
    text = text.replace("\x00", "%")
    pg.run("PREPARE lenz_search (%s) AS %s;" % (",".join(["varchar"] * n), text))
    pg.run(sb.prepare_sql("lenz_auth_family_user") + ";")
    rows = []
    for name, q, tsq in KINDS:
        path = "/api/v1/search?q=%s&limit=%d" % (urllib.parse.quote(q), LIMIT)
        args = [tsq, q, TYPES, m.id, LIMIT + 1, 0, LIMIT + 1]
        doc, _, _ = m.get(path)
        _, got = pg.run(sb.execute("lenz_search", args), rows=True)
        ids_h = [r["id"] for r in doc["results"]]
        ids_q = [r[1] for r in got][:LIMIT]
        if ids_h != ids_q:
            bl.die("%s: psql's rows differ from httpd's (%s vs %s)" % (name, ids_q[:3], ids_h[:3]))
        kind = {"path": path, "family": m.family}

        def refresh(k=kind, a=args):
            k["family"] = m.family
            k["sql"] = [sb.execute("lenz_auth_family_user", [m.family]), sb.execute("lenz_search", a)]
        kind["refresh"] = refresh
        refresh()
        sb.measure(m, pg, kind, WARMUP)
        h, qq, last = sb.measure(m, pg, kind, SAMPLES)
        rows.append((name, q, len(doc["results"]), h, qq, last))
        print("  %-7s q=%-12s %2d results: httpd p50 %.1f ms p95 %.1f ms; psql p50 %.1f ms p95 %.1f ms"
              % (name, q, len(doc["results"]), sb.pct(h, 50), sb.pct(h, 95), sb.pct(qq, 50), sb.pct(qq, 95)))
        sys.stdout.flush()
    print()
    print("bench/search: %d rows, %d samples a kind (goal: httpd p95 <= %.1f x psql p95)" % (ROWS, SAMPLES, GOAL))
    print("%-14s %10s %5s %10s %6s %6s" % ("figure", "measured", "unit", "reference", "ratio", "goal"))
    print("-" * 60)
    res = {"rows": ROWS, "samples": SAMPLES, "kinds": {}}
    for name, q, nres, h, qq, last in rows:
        for p in (50, 95):
            ratio = sb.pct(h, p) / sb.pct(qq, p)
            goal = ("<= %.1f  %s" % (GOAL, "met" if ratio <= GOAL else "missed")) if p == 95 else ""
            print("%-14s %10.2f %5s %10.2f %6.2f  %s" % ("%s p%d" % (name, p), sb.pct(h, p), "ms", sb.pct(qq, p),
                                                       ratio, goal))
        res["kinds"][name] = {"q": q, "results": nres, "httpd_ms": h, "psql_ms": qq}
    bl.save_results(st, "search", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
