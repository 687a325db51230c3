#!/usr/bin/python3
"""bench/upload.py (`make bench-upload`; run through bench/run.sh): encrypted
uploads through httpd against raw S3 UploadPart of the same parts, in one run.

A guest encrypted upload of BENCH_SIZE (1 GiB) as a real client sends it:
POST /upload/guest/encrypted/initiate, then every part's plaintext with
POST /upload/guest/encrypted/upload-part?token=T&part=N on keep-alive
connections, first one part at a time, then 4 in flight (the upload page's
3-4).  The reference is the same number of parts of the same sizes, signed
with SigV4 (UNSIGNED-PAYLOAD) and PUT straight to S3 (Ceph RGW) as
UploadPart by the same client code, one at a time and 4 in flight.
Each mode is measured in the order S3, httpd, httpd, S3 and each side's
two runs are added up (bytes / seconds), so drift favours neither side.

Figures (goals from issue 6):
  MB/s through httpd / MB/s straight to S3          >= 0.90   (per mode)
  httpd's RSS growth during the upload              <= 4 MiB  (max of both modes)
  httpd's CPU-seconds per GiB uploaded              <= 0.6    (per mode)

The payload is one random buffer of one part's size (os.urandom, made once)
sent for every part: the client spends no CPU making data, and on 2 cores
client, httpd and RGW share the same CPUs.  MB = 10^6 bytes, GiB = 2^30.
The first encrypted upload is completed and kept for bench/download.py.
"""
import hashlib
import json
import os
import sys
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

DIGEST = os.environ.get("BENCH_DIGEST", "0") == "1"
GOAL_RATIO = 0.90
GOAL_RSS_MIB = 4.0
GOAL_CPU = 0.6
# Warm-up parts: more than httpd's 32 worker threads, since the event MPM
# hands successive requests to its threads in turn, and each thread keeps
# the memory its first request used (APR allocator, glibc arena).
WARM_PARTS = 40


def initiate(conn, size, name):
    return bl.json_call(conn, "POST", "/upload/guest/encrypted/initiate",
                        {"filename": name, "size": size, "content_type": "application/octet-stream"},
                        want=(201,))


def part_len(n, part_size, count, size):
    return part_size if n < count else size - part_size * (count - 1)


def httpd_sender(token, buf, part_size, count, size):
    tq = urllib.parse.quote(token, safe="")
    # BENCH_DIGEST=1: every part carries X-Part-SHA256, as the upload page
    # sends it (made once per distinct length: the payload is one buffer).
    digests = {}
    if DIGEST:
        for ln in {part_size, part_len(count, part_size, count, size)}:
            digests[ln] = hashlib.sha256(memoryview(buf)[:ln]).hexdigest()

    def send(conn, n):
        ln = part_len(n, part_size, count, size)
        hdrs = {"Content-Length": str(ln), "Content-Type": "application/octet-stream"}
        if DIGEST:
            hdrs["X-Part-SHA256"] = digests[ln]
        resp = bl.request(conn, "POST", "/upload/guest/encrypted/upload-part?token=%s&part=%d" % (tq, n),
                          memoryview(buf)[:ln], hdrs)
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError("upload-part %d: %d %s" % (n, resp.status, data[:200]))
        j = json.loads(data)
        if j.get("size") != ln:
            raise RuntimeError("upload-part %d: size %s, sent %d" % (n, j.get("size"), ln))
    return send


def s3_sender(s3, key, upload_id, buf, part_size, count, size):
    def send(conn, n):
        ln = part_len(n, part_size, count, size)
        path, hdrs = s3.upload_part_request(key, upload_id, n, ln)
        resp = bl.request(conn, "PUT", path, memoryview(buf)[:ln], hdrs)
        data = resp.read()
        if resp.status != 200 or not resp.getheader("ETag"):
            raise RuntimeError("S3 UploadPart %d: %d %s" % (n, resp.status, data[:200]))
    return send


def s3_parts(st, s3, buf, part_size, count, size, streams, measure=True):
    key = "bench/raw-%s" % uuid.uuid4()
    uid = s3.client.create_multipart_upload(Bucket=st.s3_bucket, Key=key)["UploadId"]
    send = s3_sender(s3, key, uid, buf, part_size, count, size)
    try:
        if not measure:
            bl.run_streams(streams, st.s3_endpoint, range(1, count + 1), send)
            return None
        with bl.Measure(st, size) as m:
            bl.run_streams(streams, st.s3_endpoint, range(1, count + 1), send)
        return m
    finally:
        s3.client.abort_multipart_upload(Bucket=st.s3_bucket, Key=key, UploadId=uid)


def httpd_parts(st, conn, init, buf, size, streams, measure=True):
    send = httpd_sender(init["token"], buf, init["part_size"], init["part_count"], size)
    items = range(1, init["part_count"] + 1)
    if not measure:
        bl.run_streams(streams, st.httpd_url, items, send)
        return None
    with bl.Measure(st, size) as m:
        bl.run_streams(streams, st.httpd_url, items, send)
    return m


def main():
    st = bl.Settings()
    s3 = bl.S3(st)
    size = st.size
    conn = bl.connect(st.httpd_url)
    rss_cold = bl.RssSampler(st).sample() / 1024

    keep = initiate(conn, size, "bench-1GiB.bin")
    ps, count = keep["part_size"], keep["part_count"]
    buf = os.urandom(ps)
    last = part_len(count, ps, count, size)

    print("bench/upload: encrypted upload through httpd vs UploadPart straight to S3 (Ceph RGW, %s)" % bl.store_name())
    print("  %d bytes (%.2f GiB) in %d parts of %d bytes (last %d); guest, POST .../encrypted/upload-part"
          % (size, size / bl.GiB, count, ps, last))
    print("  payload: one %d-byte os.urandom buffer made once and sent for every part (no client CPU"
          " spent making data)" % ps)
    print("  X-Part-SHA256: %s" % ("sent with every part (BENCH_DIGEST=1): httpd hashes each part too"
                                   if DIGEST else "not sent (BENCH_DIGEST=0): httpd makes no digest"))
    print("  httpd: event MPM, 1 child x 32 threads; " + bl.s3_line(st))
    print("  " + bl.machine_line())
    print("  MB = 10^6 bytes; CPU-seconds from /proc/<pid>/stat; RSS = sum of VmRSS over httpd's"
          " processes every 100 ms")
    sys.stdout.flush()

    # Warm-up, not measured: DB pool, curl's S3 connections, every worker
    # thread, RGW's caches; the same on both sides.
    winit = initiate(conn, WARM_PARTS * ps, "warm-up.bin")
    httpd_parts(st, conn, winit, buf, WARM_PARTS * ps, 4, measure=False)
    bl.json_call(conn, "POST", "/upload/guest/abort", {"token": winit["token"]}, want=(204,))
    s3_parts(st, s3, buf, ps, WARM_PARTS, WARM_PARTS * ps, 4, measure=False)
    bl.s3_gc(st)

    # Each mode in the order S3, httpd, httpd, S3, so that drift (RGW's
    # caches, memstore's allocations, other load) does not favour a side.
    # Every measured upload is aborted and collected before the next step,
    # so each starts from the same store; the file bench/download.py
    # fetches is uploaded afterwards, not measured.  (Until 2026-11-22 the
    # first httpd upload was the kept one: the 1 GiB it left in memstore
    # slowed RGW for the three measurements after it -- one S3, two httpd.)
    def httpd_abort(streams):
        init = initiate(conn, size, "bench-1GiB-again.bin")
        m = httpd_parts(st, conn, init, buf, size, streams)
        bl.json_call(conn, "POST", "/upload/guest/abort", {"token": init["token"]}, want=(204,))
        bl.s3_gc(st)
        return m

    res = {}
    for streams in (1, 4):
        a = s3_parts(st, s3, buf, ps, count, size, streams)
        bl.s3_gc(st)
        b = httpd_abort(streams)
        c = httpd_abort(streams)
        d = s3_parts(st, s3, buf, ps, count, size, streams)
        bl.s3_gc(st)
        res["s3_%d" % streams] = bl.Combined([a, d])
        res["httpd_%d" % streams] = bl.Combined([b, c])
    httpd_parts(st, conn, keep, buf, size, 4, measure=False)
    done = bl.json_call(conn, "POST", "/upload/guest/encrypted/complete", {"token": keep["token"]},
                        want=(201,))

    # What bench/download.py fetches: the kept file and its SHA-256.
    h = hashlib.sha256()
    for _ in range(count - 1):
        h.update(buf)
    h.update(memoryview(buf)[:last])
    state = {"file_id": done["file_id"], "token": done["token"], "size": size, "sha256": h.hexdigest()}
    if st.state_file:
        with open(st.state_file, "w", encoding="utf-8") as f:
            json.dump(state, f)

    t = bl.Table()
    for k, label in (("1", "1 in flight"), ("4", "4 in flight")):
        hm, sm = res["httpd_" + k], res["s3_" + k]
        ratio = hm.mbps / sm.mbps
        t.add("upload MB/s, %s" % label, "%.1f" % hm.mbps, "MB/s", "%.1f S3" % sm.mbps, "%.2f" % ratio,
              ">= %.2f" % GOAL_RATIO, bl.verdict(ratio, GOAL_RATIO, True))
    for k, label in (("1", "1 in flight"), ("4", "4 in flight")):
        hm = res["httpd_" + k]
        t.add("httpd RSS growth, %s" % label, "%.2f" % hm.rss_growth_mib, "MiB",
              "%.1f before" % (hm.rss_before_kib / 1024), "", "<= %g" % GOAL_RSS_MIB,
              bl.verdict(hm.rss_growth_mib, GOAL_RSS_MIB, False))
    for k, label in (("1", "1 in flight"), ("4", "4 in flight")):
        hm = res["httpd_" + k]
        t.add("httpd CPU-s per GiB, %s" % label, "%.3f" % hm.httpd_cpu_per_gib, "s/GiB",
              "%.3f S3 side" % (hm.cpu["s3"] / (hm.nbytes / bl.GiB)), "", "<= %g" % GOAL_CPU,
              bl.verdict(hm.httpd_cpu_per_gib, GOAL_CPU, False))
    print()
    t.print()
    print("\n  where the CPU went (CPU-seconds during the measurements; S3 = radosgw + ceph-osd + ceph-mon;"
          " a side measured twice is added up):")
    for k, label in (("s3_1", "S3 direct, 1 in flight"), ("httpd_1", "httpd, 1 in flight"),
                     ("s3_4", "S3 direct, 4 in flight"), ("httpd_4", "httpd, 4 in flight")):
        print(bl.cpu_line(label, res[k]))
    print("  httpd RSS right after start: %.1f MiB; growth above is from just before each upload, after"
          " a %d-part warm-up;" % (rss_cold, WARM_PARTS))
    print("  peak during the uploads - RSS right after start (warm-up included): %.1f MiB"
          % (max(res["httpd_1"].rss_peak_kib, res["httpd_4"].rss_peak_kib) / 1024 - rss_cold))
    for line in bl.floor_lines([("aes-256-gcm", "every byte is sealed"),
                                ("sha256", "spent only on parts sent with X-Part-SHA256"
                                 " (or under LenzUploadPartDigest always); this run sends %s"
                                 % ("one with every part (BENCH_DIGEST=1)" if DIGEST else "none"))]):
        print(line)
    # httpd waits for 256 KiB (LenzNetworkRead) of a part before it wakes
    # (SO_RCVLOWAT, netread.c): the relay reads the same way.
    print(bl.relay_line("seal", res["httpd_1"].mbps, res["httpd_1"].httpd_cpu_per_gib,
                        opts=("-l", "262144"), opts_what=", reads wake at 256 KiB as httpd's do"))

    # The same relay while RGW takes a direct upload, one part in flight, as
    # it takes httpd's parts while httpd is measured: RGW's core is busy and
    # the relay shares caches, memory and the scheduler with it as httpd does.
    def rgw_busy(stop):
        while not stop.is_set():
            s3_parts(st, s3, buf, ps, 8, 8 * ps, 1, measure=False)
        bl.s3_gc(st)
    loaded = bl.relay_under_load("seal", res["httpd_1"].mbps, rgw_busy, opts=("-l", "262144"))
    if loaded is not None:
        print("  floor under load: the same relay while RGW takes direct UploadParts on the other core"
              " (mean of 2) costs %.3f CPU-s per GiB; httpd spent %.2fx that"
              % (loaded, res["httpd_1"].httpd_cpu_per_gib / loaded))
    for line in bl.noise_notes(res):
        print(line)
    path = bl.save_results(st, "upload", {
        "bench": "upload", "size": size, "part_size": ps, "parts": count, "digest": DIGEST,
        "results": {k: m.record() for k, m in res.items()},
        "ratio_1": res["httpd_1"].mbps / res["s3_1"].mbps, "ratio_4": res["httpd_4"].mbps / res["s3_4"].mbps,
        "rss_cold_MiB": rss_cold, "warm_parts": WARM_PARTS, "machine": bl.machine_line()})
    if path:
        print("  results: %s" % path)
    print()


if __name__ == "__main__":
    main()
