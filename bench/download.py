#!/usr/bin/python3
"""bench/download.py (`make bench-download`; run through bench/run.sh):
encrypted downloads through httpd against raw S3 GETs of the same stored
object, in one run.

The file is the 1 GiB encrypted guest upload bench/upload.py kept (or, when
run alone, one uploaded here first, not measured).  One full download
through GET /download/{token} is hashed and must equal the upload's SHA-256
(so no figure comes from a broken path); every other body is read into one
1 MiB buffer and dropped.

Figures (goals from issue 7):
  MB/s of GET /download/{token} / MB/s of a raw S3 GET of the stored object
                                                              >= 0.95
  time to first byte of a 1 MiB range in the middle (Range: bytes=a-b)
    / that of a raw ranged S3 GET of the matching ciphertext segments
    (median of 21 each, alternating, on keep-alive connections) <= 1.5
  (the same for the first 64 KiB, one segment: no goal, shown because
    httpd has to wait for the whole segment)
  httpd's RSS growth during 8 parallel full downloads         <= 8 MiB
  httpd's CPU-seconds per GiB served (one stream; 8 streams)  <= 0.4
MB = 10^6 bytes, GiB = 2^30; the stored object is the plaintext plus 16
bytes per 64 KiB segment, and each side is credited with what it sent.
"""
import hashlib
import json
import os
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

GOAL_RATIO = 0.95
GOAL_TTFB = 1.5
GOAL_RSS_MIB = 8.0
GOAL_CPU = 0.4
PARALLEL = 8
TTFB_SAMPLES = 21
RANGE = 1 << 20
SEG = 65536
TAG = 16


def upload_file(st, size):
    """A BENCH_SIZE encrypted guest upload (4 in flight), not measured."""
    conn = bl.connect(st.httpd_url)
    init = bl.json_call(conn, "POST", "/upload/guest/encrypted/initiate",
                        {"filename": "bench-1GiB.bin", "size": size}, want=(201,))
    ps, count = init["part_size"], init["part_count"]
    buf = os.urandom(ps)
    tq = urllib.parse.quote(init["token"], safe="")
    last = size - ps * (count - 1)

    def send(c, n):
        ln = ps if n < count else last
        r = bl.request(c, "POST", "/upload/guest/encrypted/upload-part?token=%s&part=%d" % (tq, n),
                       memoryview(buf)[:ln], {"Content-Length": str(ln)})
        data = r.read()
        if r.status != 200:
            raise RuntimeError("upload-part %d: %d %s" % (n, r.status, data[:200]))
    bl.run_streams(4, st.httpd_url, range(1, count + 1), send)
    done = bl.json_call(conn, "POST", "/upload/guest/encrypted/complete", {"token": init["token"]},
                        want=(201,))
    h = hashlib.sha256()
    for _ in range(count - 1):
        h.update(buf)
    h.update(memoryview(buf)[:last])
    return {"file_id": done["file_id"], "token": done["token"], "size": size, "sha256": h.hexdigest()}


def main():
    st = bl.Settings()
    s3 = bl.S3(st)
    rss_cold = bl.RssSampler(st).sample() / 1024
    if st.state_file and os.path.exists(st.state_file):
        with open(st.state_file, encoding="utf-8") as f:
            fil = json.load(f)
        origin = "kept by bench/upload.py"
    else:
        fil = upload_file(st, st.size)
        origin = "uploaded first, not measured"
        if st.state_file:
            with open(st.state_file, "w", encoding="utf-8") as f:
                json.dump(fil, f)
    size = fil["size"]
    dl_path = "/download/%s" % urllib.parse.quote(fil["token"], safe="")
    key = "files/%s" % fil["file_id"]
    segs = (size + SEG - 1) // SEG
    obj_size = size + TAG * segs
    buf = bytearray(bl.READ_BUF)

    print("bench/download: encrypted download through httpd vs GET straight from S3 (Ceph RGW, %s)" % bl.store_name())
    print("  %d bytes (%.2f GiB) plaintext, stored as %d bytes (%d segments of 64 KiB + 16-byte tags); %s"
          % (size, size / bl.GiB, obj_size, segs, origin))
    print("  bodies read into one 1 MiB buffer and dropped; httpd: event MPM, 1 child x 32 threads")
    print("  " + bl.s3_line(st) + "; " + bl.machine_line())
    print("  MB = 10^6 bytes; CPU-seconds from /proc/<pid>/stat; RSS = sum of VmRSS over httpd's"
          " processes every 100 ms")
    sys.stdout.flush()

    def get_httpd(conn, rng=None, first=None):
        hdrs = {"Accept": "*/*"}
        if rng:
            hdrs["Range"] = "bytes=%d-%d" % rng
        resp = bl.request(conn, "GET", dl_path, None, hdrs)
        n = bl.drain(resp, buf, first)
        want = (rng[1] - rng[0] + 1) if rng else size
        if resp.status != (206 if rng else 200) or n != want:
            raise RuntimeError("GET /download: %d, %d bytes of %d" % (resp.status, n, want))
        return n

    def get_s3(conn, rng=None, first=None):
        path, hdrs = s3.get_request(key, *(rng or (None, None)))
        resp = bl.request(conn, "GET", path, None, hdrs)
        n = bl.drain(resp, buf, first)
        want = (rng[1] - rng[0] + 1) if rng else obj_size
        if resp.status != (206 if rng else 200) or n != want:
            raise RuntimeError("S3 GET: %d, %d bytes of %d" % (resp.status, n, want))
        return n

    # Warm-up, not measured: 40 ranges of 1 MiB, 8 at a time, each way
    # (more requests than httpd has worker threads: each keeps the memory
    # its first request used).
    warm = [(i * bl.MiB, i * bl.MiB + bl.MiB - 1) for i in range(40)]
    bl.run_streams(PARALLEL, st.httpd_url, warm, lambda c, r: get_httpd(c, r))
    bl.run_streams(PARALLEL, st.s3_endpoint, warm, lambda c, r: get_s3(c, r))

    # The path must be right before it is timed: one full download, hashed.
    conn = bl.connect(st.httpd_url)
    resp = bl.request(conn, "GET", dl_path, None, {})
    n, digest = bl.hash_body(resp, buf)
    if resp.status != 200 or n != size or digest != fil["sha256"]:
        bl.die("the download differs from the upload (%d, %d bytes, sha256 %s, want %s); not measuring"
               % (resp.status, n, digest, fil["sha256"]))
    conn.close()
    print("  verified: one full download's SHA-256 equals the upload's (%s...)" % digest[:16])

    # One stream, in the order S3, httpd, httpd, S3 (each side's two runs
    # added up), so drift favours neither side.
    def one(side):
        with bl.Measure(st, obj_size if side == "s3" else size) as m:
            if side == "s3":
                bl.run_streams(1, st.s3_endpoint, [None], lambda c, _: get_s3(c))
            else:
                bl.run_streams(1, st.httpd_url, [None], lambda c, _: get_httpd(c))
        return m

    res = {}
    seq = [one(side) for side in ("s3", "httpd", "httpd", "s3")]
    res["s3_1"] = bl.Combined([seq[0], seq[3]])
    res["httpd_1"] = bl.Combined([seq[1], seq[2]])

    # Time to first byte: a 1 MiB range in the middle; S3 gets the byte
    # range of the segments that hold it (what httpd itself asks S3 for).
    # Also the first 64 KiB (one segment), where httpd must have the whole
    # segment from S3 before it may send a byte of it.
    def cipher_range(a, b):
        fs, ls = a // SEG, b // SEG
        return fs * (SEG + TAG), min(ls * (SEG + TAG) + SEG + TAG, obj_size) - 1

    mid = ((size - RANGE) // 2, (size - RANGE) // 2 + RANGE - 1)
    head = (0, min(SEG, size) - 1)
    cases = {"mid": mid, "head": head}
    hc, sc = bl.connect(st.httpd_url), bl.connect(st.s3_endpoint)
    tt = {(c, side): [] for c in cases for side in ("httpd", "s3")}
    tl = {(c, side): [] for c in cases for side in ("httpd", "s3")}
    for _ in range(TTFB_SAMPLES):
        for c, rng in cases.items():
            for side, conn, fn, r in (("s3", sc, get_s3, cipher_range(*rng)), ("httpd", hc, get_httpd, rng)):
                first = []
                t0 = time.perf_counter()
                fn(conn, r, first)
                t1 = time.perf_counter()
                tt[(c, side)].append(first[0] - t0)
                tl[(c, side)].append(t1 - t0)
    hc.close()
    sc.close()
    ttfb = {k: statistics.median(v) for k, v in tt.items()}
    ttlb = {k: statistics.median(v) for k, v in tl.items()}
    slow = {k: sum(1 for x in v if x > 0.030) for k, v in tl.items()}

    with bl.Measure(st, obj_size * PARALLEL) as m:
        bl.run_streams(PARALLEL, st.s3_endpoint, [None] * PARALLEL, lambda c, _: get_s3(c))
    res["s3_8"] = m
    with bl.Measure(st, size * PARALLEL) as m:
        bl.run_streams(PARALLEL, st.httpd_url, [None] * PARALLEL, lambda c, _: get_httpd(c))
    res["httpd_8"] = m

    t = bl.Table()
    h1, s1, h8, s8 = res["httpd_1"], res["s3_1"], res["httpd_8"], res["s3_8"]
    r1 = h1.mbps / s1.mbps
    t.add("download MB/s, 1 stream", "%.1f" % h1.mbps, "MB/s", "%.1f S3" % s1.mbps, "%.2f" % r1,
          ">= %.2f" % GOAL_RATIO, bl.verdict(r1, GOAL_RATIO, True))
    r8 = h8.mbps / s8.mbps
    t.add("download MB/s, 8 streams (total)", "%.1f" % h8.mbps, "MB/s", "%.1f S3" % s8.mbps, "%.2f" % r8,
          "(none)", "")
    rt = ttfb[("mid", "httpd")] / ttfb[("mid", "s3")]
    t.add("TTFB, 1 MiB range in the middle", "%.2f" % (ttfb[("mid", "httpd")] * 1e3), "ms",
          "%.2f S3" % (ttfb[("mid", "s3")] * 1e3), "%.2f" % rt, "<= %.1f" % GOAL_TTFB,
          bl.verdict(rt, GOAL_TTFB, False))
    t.add("  same range, time to last byte", "%.2f" % (ttlb[("mid", "httpd")] * 1e3), "ms",
          "%.2f S3" % (ttlb[("mid", "s3")] * 1e3),
          "%.2f" % (ttlb[("mid", "httpd")] / ttlb[("mid", "s3")]), "", "")
    rh = ttfb[("head", "httpd")] / ttfb[("head", "s3")]
    t.add("TTFB, first 64 KiB (one segment)", "%.2f" % (ttfb[("head", "httpd")] * 1e3), "ms",
          "%.2f S3" % (ttfb[("head", "s3")] * 1e3), "%.2f" % rh, "(none)", "")
    t.add("httpd RSS growth, 8 parallel downloads", "%.2f" % h8.rss_growth_mib, "MiB",
          "%.1f before" % (h8.rss_before_kib / 1024), "", "<= %g" % GOAL_RSS_MIB,
          bl.verdict(h8.rss_growth_mib, GOAL_RSS_MIB, False))
    t.add("httpd RSS growth, 1 download", "%.2f" % h1.rss_growth_mib, "MiB",
          "%.1f before" % (h1.rss_before_kib / 1024), "", "", "")
    for label, m in (("1 stream", h1), ("8 streams", h8)):
        t.add("httpd CPU-s per GiB served, %s" % label, "%.3f" % m.httpd_cpu_per_gib, "s/GiB",
              "%.3f S3 side" % (m.cpu["s3"] / (m.nbytes / bl.GiB)), "", "<= %g" % GOAL_CPU,
              bl.verdict(m.httpd_cpu_per_gib, GOAL_CPU, False))
    print()
    t.print()
    print("\n  where the CPU went (CPU-seconds during the measurements; S3 = radosgw + ceph-osd + ceph-mon;"
          " a side measured twice is added up):")
    for k, label in (("s3_1", "S3 direct, 1 stream"), ("httpd_1", "httpd, 1 stream"),
                     ("s3_8", "S3 direct, 8 streams"), ("httpd_8", "httpd, 8 streams")):
        print(bl.cpu_line(label, res[k]))
    for c, label in (("mid", "1 MiB mid"), ("head", "first 64K")):
        for side in ("httpd", "s3"):
            print("  TTFB %-9s %-5s (ms, sorted): %s" % (label, side, " ".join(
                "%.1f" % (x * 1e3) for x in sorted(tt[(c, side)]))))
    for k, n in sorted(slow.items()):
        if n:
            print("  NOTE: %d of %d %s requests (%s) took over 30 ms to the last byte: RGW's"
                  " Nagle + delayed ACK (docs/bench.md)" % (n, TTFB_SAMPLES, k[1], k[0]))
    print("  httpd RSS when this bench started: %.1f MiB; growth above is from just before each"
          " measurement, after the warm-up;" % rss_cold)
    print("  peak during 8 parallel downloads - RSS when this bench started: %.1f MiB"
          % (h8.rss_peak_kib / 1024 - rss_cold))
    for line in bl.floor_lines([("aes-256-gcm", "every byte is opened")]):
        print(line)
    print(bl.relay_line("open", h1.mbps, h1.httpd_cpu_per_gib))
    for line in bl.noise_notes(res):
        print(line)
    path = bl.save_results(st, "download", {
        "bench": "download", "size": size, "object_size": obj_size,
        "results": {k: m.record() for k, m in res.items()},
        "ratio_1": r1, "ratio_8": r8,
        "ttfb_ms": {side: round(ttfb[("mid", side)] * 1e3, 3) for side in ("httpd", "s3")},
        "ttfb_ratio": rt,
        "ttlb_ms": {side: round(ttlb[("mid", side)] * 1e3, 3) for side in ("httpd", "s3")},
        "ttfb_head_ms": {side: round(ttfb[("head", side)] * 1e3, 3) for side in ("httpd", "s3")},
        "ttfb_head_ratio": rh, "slow_requests": {"%s_%s" % k: n for k, n in slow.items()},
        "rss_cold_MiB": rss_cold, "machine": bl.machine_line()})
    if path:
        print("  results: %s" % path)
    print()


if __name__ == "__main__":
    main()
