#!/usr/bin/python3
"""bench/health.py (`make bench-health`; run through bench/run.sh): issue
17's /health figure.  GET /health and GET of a static file served by the
same httpd (/static/css/lenz.css, mod_alias), each with ApacheBench (`ab`,
Debian's apache2-utils) at 32 concurrent keep-alive clients, alternating
A B B A, 20,000 requests a round; requests per second of each, and the
ratio (goal >= 0.8 of the static file).  The probes /health made meanwhile
are counted from /metrics (lenz_health_checks_total): at most one a second
is the design (status/h_status.c), whatever the request rate.
"""
import os
import re
import subprocess
import time
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

GOAL = 0.8
N = 20000
C = 32


def ab(url):
    out = subprocess.run(["ab", "-q", "-k", "-c", str(C), "-n", str(N), url],
                         capture_output=True, text=True, check=False)
    rps = re.search(r"Requests per second:\s+([\d.]+)", out.stdout)
    failed = re.search(r"Failed requests:\s+(\d+)", out.stdout)
    detail = re.search(r"\(Connect: \d+, Receive: \d+, Length: \d+, Exceptions: \d+\)", out.stdout)
    if failed and int(failed.group(1)):
        print("  (ab on %s: %s %s)" % (url, failed.group(1), detail.group(0) if detail else ""))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out.stdout)
    if out.returncode != 0 or not rps:
        bl.die("ab failed on %s: %s %s" % (url, out.stdout[-400:], out.stderr[-400:]))
    # ab counts a keep-alive connection the server closed (MaxKeepAliveRequests)
    # as a "Length" failure, on the static file alike: only the others count.
    real = 0
    if detail:
        c, rcv, _, exc = (int(x) for x in re.findall(r"\d+", detail.group(0)))
        real = c + rcv + exc
    return float(rps.group(1)), real, int(non2xx.group(1)) if non2xx else 0


def probes(base):
    with urllib.request.urlopen(base + "/metrics") as r:
        m = re.search(r"^lenz_health_checks_total (\d+)$", r.read().decode(), re.M)
    return int(m.group(1)) if m else -1


def main():
    st = bl.Settings()
    base = st.httpd_url.rstrip("/")
    health, static = base + "/health", base + "/static/css/lenz.css"
    for u in (health, static):                     # warm: connections, caches, the first probe
        ab(u)
    p0 = probes(base)
    t0 = time.time()
    rounds = {"health": [], "static": []}
    for which in ("health", "static", "static", "health"):
        rps, failed, non2xx = ab(health if which == "health" else static)
        if failed or non2xx:
            bl.die("%s: %d failed, %d non-2xx answers" % (which, failed, non2xx))
        rounds[which].append(rps)
    took = time.time() - t0
    p1 = probes(base)
    h = sum(rounds["health"]) / 2
    s = sum(rounds["static"]) / 2
    ratio = h / s
    print("bench/health: %d requests a round, %d clients, keep-alive, A B B A" % (N, C))
    print("  GET /health              %8.0f req/s  (%s)" % (h, ", ".join("%.0f" % x for x in rounds["health"])))
    print("  GET /static/css/lenz.css %8.0f req/s  (%s)" % (s, ", ".join("%.0f" % x for x in rounds["static"])))
    print("  ratio %.2f (goal >= %.1f): %s" % (ratio, GOAL, bl.verdict(ratio, GOAL, True)))
    print("  probes made: %d in %.1f s of measuring (%d /health requests)" % (p1 - p0, took, 2 * N))
    print("  " + bl.machine_line())
    bl.save_results(st, "health", {"health_rps": rounds["health"], "static_rps": rounds["static"], "ratio": ratio,
                                   "probes": p1 - p0, "seconds": took, "requests": N, "clients": C})


if __name__ == "__main__":
    main()
