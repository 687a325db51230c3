#!/usr/bin/python3
"""bench/rooms.py (`make bench-rooms`; run through bench/run.sh): issue
18's live-rooms figure.  BENCH_ROOMS_STREAMS (default 2,000) SSE streams
subscribed to one site topic (`/events/stream?room=topic:ID`), opened by
BENCH_ROOMS_MEMBERS (default 10) members from one asyncio client in this
process; then BENCH_ROOMS_POSTS (default 5) posts to the topic through
the API, one at a time, each timed from the moment its POST is sent to the
moment each stream has read its `event: post`.  Printed: httpd's threads,
RSS and PSS idle and with every stream open (per stream, the difference),
and the delivery time's p50, p99 and maximum over every (post, stream).

Each open stream holds an httpd worker thread on Debian 12's httpd (issue
17, blocked: no poll callback to suspend on), so bench/run.sh gives this
httpd ThreadsPerChild 2,100 and LenzEventStreams 2,050 250; the thread
count printed is that cost.  The fan-out is the module's: the post's room
event is one row and one NOTIFY; the process's one LISTEN wakes every
stream; each stream reads the rows past its cursor with its access
checked (one query each, through mod_dbd's pool).

The reference for delivery is the same post reaching one stream alone on
the same httpd, measured first in the same run.

Run with Debian's /usr/bin/python3.
"""
import asyncio
import json
import os
import resource
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
import storage as sb  # noqa: E402

STREAMS = int(os.environ.get("BENCH_ROOMS_STREAMS", "2000"))
MEMBERS = int(os.environ.get("BENCH_ROOMS_MEMBERS", "10"))
POSTS = int(os.environ.get("BENCH_ROOMS_POSTS", "5"))
GOAL_S = 1.0        # the two-host test: a post reaches a client within a second


def proc_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def httpd_figures(st):
    """(threads, RSS KiB, PSS KiB) of httpd's parent and children."""
    pids = bl.httpd_pids(st)
    return (sum(proc_status(p, "Threads") for p in pids), sum(proc_status(p, "VmRSS") for p in pids),
            sum(pss_kib(p) for p in pids))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


class Stream:
    """One SSE connection: its reader collects (event, data) as they come."""

    def __init__(self, host, port, path, token):
        self.host, self.port, self.path, self.token = host, port, path, token
        self.reader = self.writer = None
        self.buf = b""
        self.seen = {}          # marker -> arrival (perf_counter)
        self.status = 0

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                           "Accept: text/event-stream\r\n\r\n" % (self.path, self.host, self.port, self.token)).encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        return self.status

    async def run(self):
        """Reads events until closed; records when each post's marker came."""
        try:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    return
                self.buf += chunk
                while b"\n\n" in self.buf:
                    ev, self.buf = self.buf.split(b"\n\n", 1)
                    if b"event: post" in ev:
                        now = time.perf_counter()
                        for line in ev.split(b"\n"):
                            if line.startswith(b"data: "):
                                i = line.find(b"bench-mark-")
                                if i >= 0:
                                    mark = line[i:i + 20].split(b'"')[0].split(b"\\")[0].decode()
                                    self.seen.setdefault(mark, now)
        except (ConnectionError, asyncio.CancelledError):
            return

    def close(self):
        if self.writer:
            self.writer.close()


async def post_and_wait(loop, member, topic, streams, mark, timeout=60.0):
    """Sends a post carrying mark; returns (seconds to each stream, missing)."""
    body = json.dumps({"body": "a bench post %s" % mark}).encode()
    hdrs = dict(member.headers(), **{"Content-Type": "application/json"})
    t0 = time.perf_counter()
    st, _, data, _ = await loop.run_in_executor(None, member.http.request, "POST",
                                                "/api/v1/topics/%s/posts" % topic, hdrs, body)
    if st != 201:
        bl.die("POST a post: %d %s" % (st, data[:200]))
    end = t0 + timeout
    while time.perf_counter() < end and any(mark not in s.seen for s in streams):
        await asyncio.sleep(0.005)
    got = [s.seen[mark] - t0 for s in streams if mark in s.seen]
    return got, len(streams) - len(got)


async def bench(st, members, topic):
    u = urllib.parse.urlsplit(st.httpd_url)
    loop = asyncio.get_running_loop()
    path = "/events/stream?room=topic:%s" % topic
    res = {}
    table = bl.Table()

    # The reference: one stream alone.
    one = Stream(u.hostname, u.port, path, members[1].token)
    if await one.open() != 200:
        bl.die("one stream: %d" % one.status)
    task = loop.create_task(one.run())
    await asyncio.sleep(1.0)
    singles = []
    for k in range(POSTS):
        got, missing = await post_and_wait(loop, members[0], topic, [one], "bench-mark-1-%03d" % k)
        if missing:
            bl.die("a post did not reach the single stream")
        singles += got
        await asyncio.sleep(0.3)
    one.close()
    task.cancel()
    await asyncio.sleep(1.0)
    threads0, rss0, pss0 = httpd_figures(st)

    streams = [Stream(u.hostname, u.port, path, members[i % len(members)].token) for i in range(STREAMS)]
    t0 = time.perf_counter()
    statuses = []
    for i in range(0, STREAMS, 100):    # in waves: the listen backlog is finite
        statuses += await asyncio.gather(*(s.open() for s in streams[i:i + 100]))
    opened = time.perf_counter() - t0
    bad = [x for x in statuses if x != 200]
    if bad:
        bl.die("%d of %d streams did not open (statuses %s)" % (len(bad), STREAMS, sorted(set(bad))))
    tasks = [loop.create_task(s.run()) for s in streams]
    await asyncio.sleep(3.0)
    threads1, rss1, pss1 = httpd_figures(st)

    arrivals, missing = [], 0
    for k in range(POSTS):
        got, miss = await post_and_wait(loop, members[0], topic, streams, "bench-mark-n-%03d" % k)
        arrivals += got
        missing += miss
        await asyncio.sleep(1.0)
    for s in streams:
        s.close()
    for t in tasks:
        t.cancel()

    print("  %d streams opened in %.1f s by %d members; %d posts, each to every stream" %
          (STREAMS, opened, len(members), POSTS))
    table.add("httpd threads, idle", threads0)
    table.add("httpd threads, %d streams open" % STREAMS, threads1)
    table.add("httpd RSS, idle", "%.1f" % (rss0 / 1024.0), "MiB")
    table.add("httpd RSS, %d streams open" % STREAMS, "%.1f" % (rss1 / 1024.0), "MiB")
    table.add("httpd PSS, %d streams open" % STREAMS, "%.1f" % (pss1 / 1024.0), "MiB")
    table.add("RSS per open stream", "%.0f" % ((rss1 - rss0) / float(STREAMS)), "KiB")
    ref50 = pct(singles, 50)
    for label, p in (("p50", 50), ("p99", 99), ("max", 100)):
        v = pct(arrivals, p) if arrivals else float("nan")
        table.add("post to all %d streams, %s" % (STREAMS, label), "%.3f" % v, "s",
                  "%.3f" % ref50 if label == "p50" else "", "%.1f" % (v / ref50) if ref50 > 0 else "",
                  "<= %.1f s" % GOAL_S if label == "max" else "",
                  bl.verdict(v, GOAL_S, False) if label == "max" else "")
    table.add("post to one stream alone, p50", "%.3f" % ref50, "s")
    table.add("deliveries missing", missing, "", "", "", "0", "ok" if missing == 0 else "MISSED")
    table.print()
    res.update(streams=STREAMS, members=len(members), posts=POSTS, threads_idle=threads0, threads_open=threads1,
               rss_idle_kib=rss0, rss_open_kib=rss1, pss_open_kib=pss1, single_p50=ref50,
               p50=pct(arrivals, 50) if arrivals else None, p99=pct(arrivals, 99) if arrivals else None,
               max=max(arrivals) if arrivals else None, missing=missing, opened_s=opened)
    return res, missing


def main():
    st = bl.Settings()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = STREAMS + 256
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            bl.die("open files: %d streams need %d descriptors, the hard limit is %d" % (STREAMS, want, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    http = sb.Http(st.httpd_url)
    print("bench/rooms: %d SSE streams in one topic's room on one httpd, a post's time to reach them all" % STREAMS)
    print("  " + bl.machine_line())
    members = []
    for i in range(MEMBERS):
        m = sb.Member(st, sb.Http(st.httpd_url), "rooms%d" % i)
        members.append(m)
    hdrs = dict(members[0].headers(), **{"Content-Type": "application/json"})
    code, _, data, _ = http.request("POST", "/api/v1/topics", hdrs,
                                    json.dumps({"title": "Bench room", "body": "the bench's topic"}).encode())
    if code != 201:
        bl.die("POST /api/v1/topics: %d %s" % (code, data[:200]))
    topic = json.loads(data)["id"]
    res, missing = asyncio.run(bench(st, members, topic))
    path = bl.save_results(st, "rooms", res)
    if path:
        print("  results: %s" % path)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
