"""What bench/upload.py and bench/download.py share: settings from the
harness (bench/run.sh), plain HTTP/1.1 connections, SigV4-signed requests
straight to S3, and the accounting of httpd's (and everyone else's) memory
and CPU from /proc.

Both sides of every comparison go through the same client code here (one
http.client connection per stream, TCP_NODELAY, bodies sent from one
buffer, responses read into one buffer and dropped), so the client's own
cost is the same for httpd and for S3 and cancels out of the ratios.

Run with Debian's /usr/bin/python3 (botocore), never a pyenv python.
"""
import datetime
import hashlib
import http.client
import json
import os
import subprocess
import socket
import statistics
import sys
import threading
import time
import urllib.parse

# A caller's AWS settings must not leak into requests to the private stack.
for _v in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE",
           "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_v, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import botocore.session  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
MB = 1e6
TICK = os.sysconf("SC_CLK_TCK")
READ_BUF = 1 << 20          # what a download is read into (and dropped)


def die(msg):
    print("bench: " + msg, file=sys.stderr)
    sys.exit(1)


def parse_size(s):
    s = s.strip()
    mul = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:].upper(), 1)
    return int(s[:-1] if mul > 1 else s) * mul


def read_env_file(path):
    vals = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                vals[k] = v
    return vals


class Settings:
    """What bench/run.sh exported: the stack's stack.env and httpd's place."""

    def __init__(self):
        need = ("LENZ_STACK_DIR", "BENCH_HTTPD_URL", "BENCH_HTTPD_PIDFILE")
        missing = [k for k in need if not os.environ.get(k)]
        if missing:
            die("run me through bench/run.sh (missing %s)" % " ".join(missing))
        self.stack_dir = os.environ["LENZ_STACK_DIR"]
        env = read_env_file(os.path.join(self.stack_dir, "stack.env"))
        self.s3_endpoint = env["LENZ_S3_ENDPOINT"]
        self.s3_region = env["LENZ_S3_REGION"]
        self.s3_bucket = env["LENZ_S3_BUCKET"]
        self.s3_access = env["LENZ_S3_ACCESS_KEY"]
        with open(env["LENZ_S3_SECRET_FILE"], encoding="ascii") as f:
            self.s3_secret = f.read().strip()
        self.httpd_url = os.environ["BENCH_HTTPD_URL"]
        self.httpd_pidfile = os.environ["BENCH_HTTPD_PIDFILE"]
        self.results_dir = os.environ.get("BENCH_RESULTS_DIR", "")
        self.state_file = os.environ.get("BENCH_STATE_FILE", "")
        self.size = parse_size(os.environ.get("BENCH_SIZE", "1G"))
        self.rgw_nodelay = os.environ.get("BENCH_RGW_NODELAY", "1") == "1"
        self.ceph_conf = os.path.join(self.stack_dir, "ceph", "ceph.conf")
        self.ceph_run = os.path.join(self.stack_dir, "ceph", "run")


# ------------------------------------------------------------------ HTTP

class Conn(http.client.HTTPConnection):
    """Keep-alive HTTP/1.1, Nagle off, also after http.client reconnects on
    its own (a server that closed the connection, e.g. MaxKeepAliveRequests)."""

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def connect(url):
    u = urllib.parse.urlsplit(url)
    c = Conn(u.hostname, u.port, timeout=300)
    c.connect()
    return c


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def drain(resp, buf, first_byte=None):
    """Reads resp's body into buf (dropped); returns the byte count.  When
    first_byte is a list, the perf_counter() at which the first body byte
    arrived is appended to it (read1: as soon as any byte is there;
    readinto would wait until buf is full)."""
    mv = memoryview(buf)
    n = 0
    if first_byte is not None:
        n = len(resp.read1(1))
        first_byte.append(time.perf_counter())
    while True:
        k = resp.readinto(mv)
        if not k:
            return n
        n += k


def hash_body(resp, buf):
    mv = memoryview(buf)
    h = hashlib.sha256()
    n = 0
    while True:
        k = resp.readinto(mv)
        if not k:
            return n, h.hexdigest()
        h.update(mv[:k])
        n += k


def request(conn, method, path, body=None, headers=None):
    # A kept-alive connection idle longer than httpd's KeepAliveTimeout (a
    # 5 GiB upload's parts go over other connections) is closed by the
    # server: found out while sending, before anything was processed, so
    # sending again on a fresh connection is safe.
    try:
        conn.request(method, path, body=body, headers=headers or {})
    except (BrokenPipeError, ConnectionResetError):
        conn.close()
        conn.request(method, path, body=body, headers=headers or {})
    return conn.getresponse()


def json_call(conn, method, path, obj=None, want=(200, 201)):
    body = json.dumps(obj).encode() if obj is not None else None
    hdrs = {"Content-Type": "application/json", "Accept": "application/json"} if body else \
        {"Accept": "application/json"}
    resp = request(conn, method, path, body, hdrs)
    data = resp.read()
    if resp.status not in want:
        die("%s %s: %d %s" % (method, path.split("?")[0], resp.status, data[:300].decode(errors="replace")))
    return json.loads(data) if data else {}


def run_streams(nstreams, url, items, fn):
    """Works through items with nstreams threads, each with its own
    connection to url, calling fn(conn, item); the first error ends the
    bench.  Connections are made before the first item is taken."""
    items = list(items)
    lock = threading.Lock()
    errors = []
    conns = [connect(url) for _ in range(nstreams)]

    def worker(conn):
        while True:
            with lock:
                if not items or errors:
                    return
                it = items.pop(0)
            try:
                fn(conn, it)
            except Exception as e:      # noqa: BLE001 - reported below
                with lock:
                    errors.append("%s: %s" % (it, e))
                return

    if nstreams == 1:
        worker(conns[0])
    else:
        ts = [threading.Thread(target=worker, args=(c,)) for c in conns]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    for c in conns:
        c.close()
    if errors:
        die("; ".join(errors[:3]))


# ------------------------------------------------------------------ S3

class S3:
    """Signed requests straight to S3 (Ceph RGW): botocore signs, our own
    http.client connections carry the bytes (UNSIGNED-PAYLOAD: hashing the
    body would cost the client CPU that httpd's side does not pay)."""

    def __init__(self, st):
        self.st = st
        self.creds = Credentials(st.s3_access, st.s3_secret)
        self.signer = SigV4Auth(self.creds, "s3", st.s3_region)
        sess = botocore.session.get_session()
        self.client = sess.create_client(
            "s3", endpoint_url=st.s3_endpoint, region_name=st.s3_region,
            aws_access_key_id=st.s3_access, aws_secret_access_key=st.s3_secret,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"total_max_attempts": 1}, read_timeout=120))

    def url(self, key, query=""):
        path = "/%s/%s" % (self.st.s3_bucket, urllib.parse.quote(key, safe="/-_.~"))
        return self.st.s3_endpoint + path + ("?" + query if query else "")

    def signed(self, method, url, headers=None):
        """Headers (dict) for a SigV4-signed request with an unsigned payload."""
        req = AWSRequest(method=method, url=url, headers=dict(headers or {}))
        # Signed as the payload hash (SigV4Auth takes the header's value
        # when present); RGW requires the header (notes/s3-rgw.md).
        req.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        self.signer.add_auth(req)
        return dict(req.headers.items())

    def upload_part_request(self, key, upload_id, part, length):
        url = self.url(key, "partNumber=%d&uploadId=%s" % (part, urllib.parse.quote(upload_id, safe="")))
        return path_of(url), self.signed("PUT", url, {"Content-Length": str(length)})

    def get_request(self, key, first=None, last=None):
        url = self.url(key)
        hdrs = {}
        if first is not None:
            hdrs["Range"] = "bytes=%d-%d" % (first, last)
        return path_of(url), self.signed("GET", url, hdrs)


# ------------------------------------------------------------------ /proc

def read_pidfile(path):
    try:
        with open(path, encoding="ascii") as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def children(pid):
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid), encoding="ascii") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def httpd_pids(st):
    """httpd's parent (from its pid file) and its children (the event MPM's
    one worker process, plus any helper it forked)."""
    p = read_pidfile(st.httpd_pidfile)
    if not p or not os.path.exists("/proc/%d" % p):
        die("httpd is not running (pid file %s)" % st.httpd_pidfile)
    return [p] + children(p)


def ceph_pids(st):
    out = {}
    for name, f in (("rgw", "rgw.pid"), ("osd", "osd.pid"), ("mon", "mon.a.pid")):
        p = read_pidfile(os.path.join(st.ceph_run, f))
        if p:
            out[name] = p
    return out


def proc_cpu(pid, with_children=False):
    """CPU seconds (user+system) of pid, all its threads; with_children adds
    what its waited-for children used (a worker that exited)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    t = int(fields[11]) + int(fields[12])
    if with_children:
        t += int(fields[13]) + int(fields[14])
    return t / TICK


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy():
    """Busy CPU seconds of the whole machine (all cores) since boot."""
    with open("/proc/stat", encoding="ascii") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / TICK


def all_cpu():
    """{pid: (command, CPU seconds)} of every process on the machine."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d, encoding="ascii", errors="replace") as f:
                    head, rest = f.read().rsplit(")", 1)
                v = rest.split()
                out[int(d)] = (head.split("(", 1)[1], (int(v[11]) + int(v[12])) / TICK)
            except (OSError, ValueError, IndexError):
                pass
    return out


class CpuSnap:
    def __init__(self, st):
        hp = httpd_pids(st)
        self.ours = set(hp) | set(ceph_pids(st).values()) | {os.getpid()}
        self.procs = all_cpu()
        self.httpd = sum(proc_cpu(p, with_children=(i == 0)) for i, p in enumerate(hp))
        self.s3 = sum(proc_cpu(p) for p in ceph_pids(st).values())
        t = os.times()
        self.client = t.user + t.system
        self.machine = machine_busy()
        self.wall = time.perf_counter()


class RssSampler(threading.Thread):
    """Sums VmRSS over httpd's processes every period seconds."""

    def __init__(self, st, period=0.1):
        super().__init__(daemon=True)
        self.st, self.period = st, period
        self.stop_ev = threading.Event()
        self.base = self.sample()
        self.peak = self.base
        self.n = 0

    def sample(self):
        return sum(rss_kib(p) for p in httpd_pids(self.st))

    def run(self):
        while not self.stop_ev.wait(self.period):
            v = self.sample()
            self.n += 1
            if v > self.peak:
                self.peak = v

    def finish(self):
        self.stop_ev.set()
        self.join()
        v = self.sample()
        self.peak = max(self.peak, v)
        self.end = v
        return self


class Measure:
    """with Measure(st, nbytes) as m: ...  -> m.seconds, m.mbps, CPU seconds
    of httpd, S3 (radosgw+osd+mon), this client and the rest of the machine,
    and httpd's RSS (before, peak, growth)."""

    def __init__(self, st, nbytes, rss=True):
        self.st, self.nbytes, self.rss = st, nbytes, rss

    def __enter__(self):
        self.sampler = RssSampler(self.st) if self.rss else None
        if self.sampler:
            self.sampler.start()
        self.a = CpuSnap(self.st)
        return self

    def __exit__(self, *exc):
        b = CpuSnap(self.st)
        if self.sampler:
            self.sampler.finish()
        if exc[0]:
            return False
        a = self.a
        self.seconds = b.wall - a.wall
        self.mbps = self.nbytes / MB / self.seconds
        self.cpu = {"httpd": b.httpd - a.httpd, "s3": b.s3 - a.s3, "client": b.client - a.client}
        self.cpu["machine"] = b.machine - a.machine
        self.cpu["other"] = max(0.0, self.cpu["machine"] - self.cpu["httpd"] - self.cpu["s3"]
                                - self.cpu["client"])
        self.httpd_cpu_per_gib = self.cpu["httpd"] / (self.nbytes / GiB)
        # Who else used the CPU meanwhile (other benches, tests, fuzzers).
        d = []
        for pid, (comm, t) in b.procs.items():
            if pid in a.ours or pid in b.ours:
                continue
            t0 = a.procs.get(pid, (comm, 0.0))[1]
            if t - t0 >= 0.05:
                d.append((t - t0, comm, pid))
        self.others = sorted(d, reverse=True)[:4]
        if self.sampler:
            self.rss_before_kib = self.sampler.base
            self.rss_peak_kib = self.sampler.peak
            self.rss_growth_mib = (self.sampler.peak - self.sampler.base) / 1024
            self.rss_samples = self.sampler.n
        return False

    def record(self):
        d = {"bytes": self.nbytes, "seconds": round(self.seconds, 4), "MBps": round(self.mbps, 2),
             "others": ["%s[%d] %.2f" % (c, p, t) for t, c, p in self.others],
             "cpu_seconds": {k: round(v, 2) for k, v in self.cpu.items()},
             "httpd_cpu_s_per_GiB": round(self.httpd_cpu_per_gib, 3)}
        if self.sampler:
            d.update(rss_before_MiB=round(self.rss_before_kib / 1024, 2),
                     rss_peak_MiB=round(self.rss_peak_kib / 1024, 2),
                     rss_growth_MiB=round(self.rss_growth_mib, 2), rss_samples=self.rss_samples)
        return d


class Combined:
    """Several measurements of the same thing as one: bytes and seconds
    and CPU add up (MB/s = all bytes / all seconds), RSS growth is the
    largest.  Used for the A B B A order that cancels drift."""

    def __init__(self, ms):
        self.parts = ms
        self.nbytes = sum(m.nbytes for m in ms)
        self.seconds = sum(m.seconds for m in ms)
        self.mbps = self.nbytes / MB / self.seconds
        self.cpu = {k: sum(m.cpu[k] for m in ms) for k in ms[0].cpu}
        self.httpd_cpu_per_gib = self.cpu["httpd"] / (self.nbytes / GiB)
        self.others = sorted((o for m in ms for o in m.others), reverse=True)[:4]
        self.sampler = ms[0].sampler
        if self.sampler:
            worst = max(ms, key=lambda m: m.rss_growth_mib)
            self.rss_growth_mib = worst.rss_growth_mib
            self.rss_before_kib = worst.rss_before_kib
            self.rss_peak_kib = max(m.rss_peak_kib for m in ms)
            self.rss_samples = sum(m.rss_samples for m in ms)

    record = Measure.record


def s3_gc(st):
    """Let RGW reclaim deleted/aborted objects now (memstore is RAM), not
    after its 5-minute gc wait.  Never inside a measurement."""
    os.system("timeout 120 radosgw-admin -c %s gc process --include-all >/dev/null 2>&1" % st.ceph_conf)


# ------------------------------------------------------------------ report

def store_name():
    return os.environ.get("LENZ_CEPH_STORE", "memstore")


def s3_line(st):
    return "S3: Ceph RGW 16 (beast%s), %s, on loopback" % (
        ", tcp_nodelay=1" if st.rgw_nodelay else ", Nagle on: BENCH_RGW_NODELAY=0", store_name())


def machine_line():
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()
    return "%d cores (%s), load average %.2f %.2f %.2f at start" % (os.cpu_count(), model, *load)


def verdict(value, goal, higher_is_better):
    ok = value >= goal if higher_is_better else value <= goal
    return "met" if ok else "MISSED"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, value, unit="", reference="", ratio="", goal="", verdict=""):
        self.rows.append((figure, value, unit, reference, ratio, goal, verdict))

    def print(self, out=sys.stdout):
        head = ("figure", "measured", "unit", "reference", "ratio", "goal", "")
        rows = [head] + [tuple(str(x) for x in r) for r in self.rows]
        w = [max(len(r[i]) for r in rows) for i in range(len(head))]
        for i, r in enumerate(rows):
            out.write("  ".join((c.ljust(w[j]) if j in (0, 2, 6) else c.rjust(w[j]))
                                for j, c in enumerate(r)).rstrip() + "\n")
            if i == 0:
                out.write("  ".join("-" * x for x in w) + "\n")
        out.flush()


def cpu_line(label, m):
    c = m.cpu
    busy = c["machine"] / m.seconds
    return ("  %-28s %6.2f s  httpd %5.2f  S3 %5.2f  client %5.2f  other %5.2f CPU-s"
            "  (machine %.2f of %d cores busy)" % (label, m.seconds, c["httpd"], c["s3"], c["client"],
                                                  c["other"], busy, os.cpu_count()))


def openssl_floor(algo, rounds=3):
    """CPU-seconds per GiB that `openssl speed` needs for algo (-evp, 64 KiB
    blocks), best of rounds, measured now: the part of the CPU figure no
    server code can go under on this machine.  None if openssl failed."""
    best = 0.0
    for _ in range(rounds):
        try:
            out = subprocess.run(["openssl", "speed", "-seconds", "1", "-bytes", "65536", "-evp", algo],
                                 capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 2 and f[-1].endswith("k") and f[0].lower().startswith(algo.split("-")[0][:3]):
                try:
                    best = max(best, float(f[-1][:-1]) * 1000.0)
                except ValueError:
                    pass
    return GiB / best if best else None


def floor_lines(algos):
    """Lines with openssl's floors for algos [(algo, what)]."""
    out = []
    for algo, what in algos:
        sec = openssl_floor(algo)
        if sec:
            out.append("  floor: %s alone (`openssl speed -evp %s`, 64 KiB, best of 3, now) costs %.3f CPU-s per GiB"
                       " (%.0f MB/s): %s" % (algo.upper(), algo, sec, GiB / sec / 1e6, what))
    return out


RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bench", "relay")
RELAY_WHAT = {"open": "recv, AES-256-GCM open per 64 KiB segment, send",
              "seal": "recv, AES-256-GCM seal per 64 KiB segment, send"}


def relay_floor(mode, mbps, rounds=2, opts=()):
    """CPU-seconds per GiB of bench/relay (the least any program spends on
    this machine to move and open or seal a GiB between two loopback TCP
    connections, no HTTP) paced at mbps, best of rounds, measured now, with
    opts (relay's -l/-c: the socket options httpd used).  None if it could
    not run."""
    best = None
    for _ in range(rounds):
        try:
            out = subprocess.run([RELAY] + list(opts) + [mode, str(GiB), "%.0f" % mbps],
                                 capture_output=True, text=True, timeout=120).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        for f in out.split():
            if f.startswith("cpu_s_per_gib="):
                v = float(f.split("=", 1)[1])
                best = v if best is None else min(best, v)
    return best


def relay_under_load(mode, mbps, load, rounds=2, opts=()):
    """relay_floor while load(stop) runs in a thread until stop is set: the
    relay with S3 busy on the other core, as it is while httpd is measured.
    The load starts a second before each round; mean of rounds (the
    contention varies, so the least would flatter it).  None if the relay
    could not run."""
    vals = []
    for _ in range(rounds):
        stop = threading.Event()
        t = threading.Thread(target=load, args=(stop,), daemon=True)
        t.start()
        time.sleep(1.0)
        v = relay_floor(mode, mbps, rounds=1, opts=opts)
        stop.set()
        t.join()
        if v is None:
            return None
        vals.append(v)
    return sum(vals) / len(vals)


def relay_line(mode, mbps, httpd_cpu_per_gib, opts=(), opts_what=""):
    """The floor line for bench/relay at httpd's rate, with httpd's figure
    against it."""
    sec = relay_floor(mode, mbps, opts=opts)
    if sec is None:
        return "  floor: bench/relay did not run (make -f bench/bench.mk)"
    return ("  floor: a bare relay at httpd's rate (bench/relay %s, %.0f MB/s: %s%s; loopback TCP, no HTTP,"
            " best of 2, now) costs %.3f CPU-s per GiB; httpd spent %.2fx that"
            % (mode, mbps, RELAY_WHAT[mode], opts_what, sec, httpd_cpu_per_gib / sec))


def noise_notes(res):
    """Lines naming what else ran on the machine during a measurement."""
    out = []
    for k, m in res.items():
        share = m.cpu["other"] / (m.seconds * os.cpu_count())
        if share > 0.10:
            seen = sum(t for t, _, _ in m.others)
            who = ", ".join("%s (pid %d) %.1f s" % (c, p, t) for t, c, p in m.others)
            if m.cpu["other"] - seen > 0.2:
                who += "%s%.1f s in processes that began or ended meanwhile (builds?) or the kernel" % (
                    "; " if who else "", m.cpu["other"] - seen)
            out.append("  NOTE: %.0f%% of the machine went to other processes during %s: %s"
                       % (100 * share, k, who))
    if out:
        out.append("  (figures from a busy machine are noisy; CPU-seconds per GiB suffer least)")
    return out


def save_results(st, bench, data):
    if not st.results_dir:
        return None
    os.makedirs(st.results_dir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(st.results_dir, "%s-%s.json" % (stamp, bench))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    return path


def median(xs):
    return statistics.median(xs)
