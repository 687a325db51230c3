#!/usr/bin/python3
"""bench/storage.py (`make bench-storage`; run through bench/run.sh): one
member's folder of 100,000 files, listed, sorted and searched through
httpd's API against the same SQL run straight in psql, in one run; then
the /files page's first row in Chromium (bench/storage_page.mjs).

Set-up (not measured): a member made with `lenzctl create-user`, signed in
through POST /api/v1/auth/login (a bearer token), and their root filled
with BENCH_STORAGE_FILES (default 100,000) files by `lenzctl fill-folder`
(rows only, no S3 objects), then `VACUUM (ANALYZE) files, folders`, the
state autovacuum brings a busy table to.  A second member with an empty
root is the page's reference.

Figures (goal from issue 16: each httpd p95 <= 1.5 x psql's p95):
  page 1     GET /api/v1/folders/root?limit=100
  middle     the same with the cursor of row 50,000 (walked to, 1000 a page)
  size desc  GET /api/v1/folders/root?limit=100&sort=size&order=desc
  search     GET /api/v1/files/search?q=invoce (a typo of "invoice")
each BENCH_STORAGE_SAMPLES (default 200) times after 20 warm-ups, one
httpd request and one psql run of the same statements in turn.

The reference is every statement the module runs for that request, in
order, with the request's values: the token family's check (httpd/auth.c),
for the folder routes the root's id and the folder (files/store.c), then
the listing or the search (files/listing.c).  They are prepared in one
persistent psql session exactly as apr_dbd_pgsql prepares them for httpd
(`PREPARE label (varchar, ...) AS ...`, the %s turned into $n) and run with
EXECUTE; psql's own `\\timing` (send to last row received, printing not
included) is summed over the statements of one request.  httpd's time is
the client's: request sent to last body byte, on a keep-alive connection
(a bare socket client, no http.client), so httpd is charged with its HTTP
round trip and everything it does besides the SQL.  Before anything is
timed, each kind's psql rows must equal httpd's answer (ids, in order),
and httpd's own PREPARE text of the listing and search statements (the
1024 bytes pg_stat_activity shows of httpd's sessions) must match the
bench's copy; otherwise the bench stops.

Run with Debian's /usr/bin/python3 (benchlib).
"""
import base64
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

GOAL = 1.5
FILES = int(os.environ.get("BENCH_STORAGE_FILES", "100000"))
SAMPLES = int(os.environ.get("BENCH_STORAGE_SAMPLES", "200"))
WARMUP = 20
PAGE = 100
SEARCH_Q = "invoce"
SEARCH_LIMIT = 50
PASSWORD = "correct horse battery storage"
PAGE_LOADS = 5
HERE = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------ SQL
# Copies of the module's prepared statements, built as the C macros build
# them (files/listing.c KIDS/K_*/ASC/DESC, files/store.c, httpd/auth.c).
# The checks in verify() stop the bench when they drift apart.

TS = "to_char(%s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
ETAG = "'\"' || (extract(epoch FROM %s.updated_at) * 1000000)::bigint || '\"'"


def kids(kf, kx, kfo, kxo, param, cmp, dirn):
    """files/listing.c's KIDS: each branch pages its own index, the union is cut once more."""
    return ("SELECT t, id, name, size, mod, etag, k_text FROM ("
            "(SELECT 0 AS t, f.id, f.name, NULL::bigint AS size, " + TS % "f" + " AS mod, " + ETAG % "f" + " AS etag, "
            + kfo + " AS k_text, " + kf + " AS ok FROM folders f WHERE f.parent_id = %s::uuid AND f.trashed_at IS NULL "
            "AND (%s::int IS NULL OR (%s::int = 0 AND (" + kf + ", f.id) " + cmp + " (" + param + ", %s::uuid))) "
            "ORDER BY " + kf + " " + dirn + ", f.id " + dirn + " LIMIT %s::int) "
            "UNION ALL "
            "(SELECT 1, x.id, x.name, x.size, " + TS % "x" + ", " + ETAG % "x" + ", " + kxo + ", " + kx + " FROM files x "
            "WHERE x.folder_id = %s::uuid AND x.trashed_at IS NULL AND x.state = 'ready' "
            "AND (%s::int IS NULL OR %s::int = 0 OR (" + kx + ", x.id) " + cmp + " (" + param + ", %s::uuid)) "
            "ORDER BY " + kx + " " + dirn + ", x.id " + dirn + " LIMIT %s::int)) c "
            "ORDER BY t, ok " + dirn + ", id " + dirn + " LIMIT %s::int")


def by_name(cmp, dirn):
    return kids('f.name_key COLLATE "C"', 'x.name_key COLLATE "C"', "f.name_key", "x.name_key",
                '%s::text COLLATE "C"', cmp, dirn)


def by_size(cmp, dirn):
    return kids("(-1)::bigint", "x.size", "'-1'", "x.size::text", "%s::bigint", cmp, dirn)


def listing_args(folder, t, k, cid, limit):
    """The arguments in the statement's order: each branch's, then the page's."""
    branch = [folder, t, t, k if t else None, cid if t else None, limit]
    return branch + branch + [limit]


# files/store.c's FOLDER_COLS and FOLDER_FROM: the caller's rank on the
# folder and on its parent from lenz_access (sql/024), and the path as the
# caller sees it.  Arguments: member (path), member, member (ranks), id.
FOLDER_COLS = ("f.id, f.name, CASE WHEN a.rk = 5 OR a.prk > 0 THEN f.parent_id END, "
               "lenz_visible_path(%s::uuid, f.id), f.depth, " + TS % "f" + ", " + ETAG % "f"
               + ", f.owner_id, a.rk, a.prk, f.path")
FOLDER_FROM = ("FROM folders f CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'folder', f.id) AS rk, "
               "coalesce(lenz_access(%s::uuid, 'folder', f.parent_id), 0) AS prk) a "
               "WHERE f.id = %s::uuid AND a.rk > 0 AND f.trashed_at IS NULL AND left(f.path, 2) <> '//'")

STMTS = {
    "lenz_auth_family_user":
        "SELECT u.id, u.email, u.name, u.roles::text, u.status FROM token_families f "
        "JOIN users u ON u.id = f.user_id WHERE f.id = %s::uuid AND f.revoked_at IS NULL",
    "lenz_fs_root_get": "SELECT id FROM folders WHERE owner_id = %s::uuid AND parent_id IS NULL",
    "lenz_fs_folder": "SELECT " + FOLDER_COLS + " " + FOLDER_FROM,
    "lenz_ls_name_asc": by_name(">", "ASC"),
    "lenz_ls_size_desc": by_size("<", "DESC"),
    "lenz_ls_search":
        "WITH q AS (SELECT plainto_tsquery('simple', translate(%s, '._-', '   ')) AS tq, lower(%s) AS s), "
        "hits AS ("
        " SELECT 'file' AS t, x.id, x.name, rtrim(p.path, '/') || '/' || x.name AS path, x.size, "
        "  greatest(ts_rank_cd(x.search, q.tq), word_similarity(q.s, x.name)) AS score "
        " FROM files x JOIN folders p ON p.id = x.folder_id, q "
        " WHERE x.owner_id = %s::uuid AND x.trashed_at IS NULL AND x.state = 'ready' AND left(p.path, 2) <> '//' "
        "  AND (x.search @@ q.tq OR word_similarity(q.s, x.name) >= 0.5 OR strpos(lower(x.name), q.s) > 0 "
        "       OR word_similarity(q.s, p.path) >= 0.5)"
        " UNION ALL"
        " SELECT 'folder', f.id, f.name, f.path, NULL::bigint, word_similarity(q.s, f.path) "
        " FROM folders f, q WHERE f.owner_id = %s::uuid AND f.parent_id IS NOT NULL AND f.trashed_at IS NULL "
        "  AND left(f.path, 2) <> '//' AND (word_similarity(q.s, f.name) >= 0.5 OR strpos(lower(f.name), q.s) > 0)) "
        "SELECT t, id, name, path, size, score::float8::text AS score_text FROM hits "
        "WHERE %s::float8 IS NULL OR score < %s::float8 OR (score = %s::float8 AND id > %s::uuid) "
        "ORDER BY score DESC, id LIMIT %s::int",
}


def as_prepared(sql):
    """(parameter count, text with $n) as apr_dbd turns %s into $n."""
    n = [0]

    def repl(_):
        n[0] += 1
        return "$%d" % n[0]
    return sql.count("%s"), re.sub(r"%s", repl, sql)


def prepare_sql(label):
    n, text = as_prepared(STMTS[label])
    return "PREPARE %s (%s) AS %s" % (label, ",".join(["varchar"] * n), text) if n else \
        "PREPARE %s AS %s" % (label, text)


def lit(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def execute(label, args):
    return "EXECUTE %s(%s);" % (label, ", ".join(lit(a) for a in args))


# ------------------------------------------------------------------ clients

class Http:
    """A bare HTTP/1.1 keep-alive client on one socket (TCP_NODELAY): the
    request sent in one write, the answer read until its Content-Length
    (or last chunk).  Little Python between the clock readings."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.sock = None

    def connect(self):
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None

    def request(self, method, path, headers=None, body=None):
        """(status, headers dict, body bytes, seconds from send to last byte)."""
        head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\n" % (method, path, self.host, self.port)
        for k, v in (headers or {}).items():
            head += "%s: %s\r\n" % (k, v)
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        msg = head.encode() + b"\r\n" + (body or b"")
        for attempt in (1, 2):
            if not self.sock:
                self.connect()
            t0 = time.perf_counter()
            try:
                self.sock.sendall(msg)
                status, hdrs, data = self._read()
            except (ConnectionError, EOFError):
                # A kept-alive connection httpd closed meanwhile (its
                # KeepAliveTimeout): nothing was processed; once more.
                self.close()
                if attempt == 2:
                    raise
                continue
            t1 = time.perf_counter()
            if hdrs.get("connection", "").lower() == "close":
                self.close()
            return status, hdrs, data, t1 - t0
        raise RuntimeError("unreachable")

    def _recv(self, buf):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk

    def _read(self):
        buf = bytearray()
        while True:
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            self._recv(buf)
        lines = bytes(buf[:i]).decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        rest = buf[i + 4:]
        if "content-length" in hdrs:
            n = int(hdrs["content-length"])
            while len(rest) < n:
                self._recv(rest)
            return status, hdrs, bytes(rest[:n])
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            out = bytearray()
            pos = 0
            while True:
                j = rest.find(b"\r\n", pos)
                while j < 0:
                    self._recv(rest)
                    j = rest.find(b"\r\n", pos)
                size = int(bytes(rest[pos:j]).split(b";")[0], 16)
                while len(rest) < j + 2 + size + 2:
                    self._recv(rest)
                if size == 0:
                    # Trailers are not expected; the final CRLF is there.
                    return status, hdrs, bytes(out)
                out += rest[j + 2:j + 2 + size]
                pos = j + 2 + size + 2
        if status in (204, 304) or status < 200:
            return status, hdrs, b""
        raise RuntimeError("an answer with neither Content-Length nor chunks")


class Psql:
    """One persistent psql session (as one of httpd's pooled connections):
    statements go in on stdin; `\\timing` lines come back on stdout, query
    output goes to /dev/null unless rows are asked for."""

    TIME = re.compile(r"^Time: ([0-9.]+) ms")

    def __init__(self, conninfo):
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-d", conninfo],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True, bufsize=1)
        self.n = 0
        self.send("\\timing on\n\\o /dev/null\n")

    def send(self, text):
        self.p.stdin.write(text)
        self.p.stdin.flush()

    def run(self, sql, rows=False):
        """Runs sql (one or more statements, one a line); returns
        ([time in ms of each statement], rows as lists of fields)."""
        self.n += 1
        mark = "@@lenz-bench-%d@@" % self.n
        if rows:
            self.send("\\o\n%s\n\\o /dev/null\n\\echo %s\n" % (sql, mark))
        else:
            self.send("%s\n\\echo %s\n" % (sql, mark))
        times, out = [], []
        while True:
            line = self.p.stdout.readline()
            if not line:
                self.err.seek(0)
                bl.die("psql ended: %s" % self.err.read().strip()[-500:])
            line = line.rstrip("\n")
            if line == mark:
                return times, out
            m = self.TIME.match(line)
            if m:
                times.append(float(m.group(1)))
            elif rows and line:
                out.append(line.split("\x1f"))

    def close(self):
        try:
            self.send("\\q\n")
            self.p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()


# ------------------------------------------------------------------ set-up

def stack_env(st):
    return bl.read_env_file(os.path.join(st.stack_dir, "stack.env"))


def lenzctl(st, *args, stdin=None):
    env = dict(os.environ)
    env.update(stack_env(st))
    env["LENZ_MASTER_KEY_FILE"] = os.environ["BENCH_MASTER_KEY"]
    p = subprocess.run([os.environ["BENCH_LENZCTL"]] + list(args), input=stdin, env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        bl.die("lenzctl %s: %s" % (args[0], (p.stderr or p.stdout).strip()))
    return p.stdout.strip()


def jwt_claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Member:
    def __init__(self, st, http, tag):
        self.st, self.http = st, http
        self.email = "bench-storage-%s-%d-%d@example.org" % (tag, os.getpid(), int(time.time()))
        out = lenzctl(st, "create-user", self.email, "--name", "Bench Storage", "--password-stdin",
                      stdin=PASSWORD + "\n")
        self.id = out.split()[1]
        self.login()

    def login(self):
        st, _, data, _ = self.http.request("POST", "/api/v1/auth/login",
                                           {"Content-Type": "application/json", "Accept": "application/json"},
                                           json.dumps({"email": self.email, "password": PASSWORD}).encode())
        if st != 200:
            bl.die("sign-in of %s: %d %s" % (self.email, st, data[:200]))
        self.token = json.loads(data)["access_token"]
        self.family = jwt_claims(self.token)["fam"]
        self.since = time.monotonic()

    def headers(self):
        # Access tokens live 15 minutes: a new one (outside any timing)
        # well before that.
        if time.monotonic() - self.since > 600:
            self.login()
        return {"Authorization": "Bearer " + self.token, "Accept": "application/json"}

    def get(self, path, want=200):
        st, _, data, sec = self.http.request("GET", path, self.headers())
        if st != want:
            bl.die("GET %s: %d %s" % (path, st, data[:300]))
        return json.loads(data), sec, len(data)


def cursor_parts(cursor):
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    t, k, i = raw.split("\n")
    return t, k, i


# ------------------------------------------------------------------ checks

def verify(member, pg, conninfo, k):
    """httpd's answer to kind k, and psql's rows for the same statement,
    must be the same ids in the same order; and the PREPARE text of the
    statement httpd ran last (pg_stat_activity shows its first 1024 bytes)
    must be the bench's.  Returns the number of bytes compared (0 when no
    session of httpd's showed it)."""
    doc, _, nbytes = member.get(k["path"])
    items = doc.get("children", doc.get("results"))
    k["bytes"] = nbytes
    if len(items) != k["limit"]:
        bl.die("%s: %d rows, want %d" % (k["name"], len(items), k["limit"]))
    want = [c["id"] for c in items]
    _, rows = pg.run(k["sql"][-1], rows=True)
    got = [r[1] for r in rows][:k["limit"]]
    if got != want:
        bl.die("%s: psql's rows differ from httpd's answer (first ids %s vs %s): the bench's copy of "
               "the statement no longer does what the module's does" % (k["name"], got[:3], want[:3]))
    label = k["sql"][-1].split("(")[0].replace("EXECUTE ", "")
    seen = subprocess.run(["psql", "-X", "-A", "-t", "-R", "\x1e", "-d", conninfo, "-c",
                           "SELECT query FROM pg_stat_activity WHERE query LIKE 'PREPARE %s %%'" % label],
                          capture_output=True, text=True).stdout
    ours = prepare_sql(label)
    n = 0
    for t in seen.strip("\n").split("\x1e"):
        if not t.startswith("PREPARE %s " % label):
            continue
        n = min(len(t), len(ours))
        if n < 200 or t[:n] != ours[:n]:
            i = next((j for j in range(n) if t[j] != ours[j]), n)
            bl.die("httpd prepared %s differently from the bench's copy (at byte %d: %r vs %r): update "
                   "bench/storage.py" % (label, i, t[i:i + 60], ours[i:i + 60]))
    return label, n


# ------------------------------------------------------------------ measure

def pct(xs, p):
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def measure(member, pg, kind, samples):
    """samples of one kind, httpd and psql in turn (order swapped every
    other round); returns (httpd ms list, psql ms list, last-statement ms)."""
    h, q, last = [], [], []
    for i in range(samples):
        hdrs = member.headers()
        if kind["family"] != member.family:
            kind["refresh"]()
        script = "\n".join(kind["sql"])
        for side in (("h", "q") if i % 2 == 0 else ("q", "h")):
            if side == "h":
                st, _, data, sec = member.http.request("GET", kind["path"], hdrs)
                if st != 200:
                    bl.die("GET %s: %d %s" % (kind["path"], st, data[:200]))
                h.append(sec * 1000)
            else:
                times, _ = pg.run(script)
                if len(times) != len(kind["sql"]):
                    bl.die("psql gave %d timings for %d statements" % (len(times), len(kind["sql"])))
                q.append(sum(times))
                last.append(times[-1])
    return h, q, last


def procs():
    """{pid: (command, parent pid, CPU seconds)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d, encoding="ascii", errors="replace") as f:
                    head, rest = f.read().rsplit(")", 1)
                v = rest.split()
                out[int(d)] = (head.split("(", 1)[1], int(v[1]), (int(v[11]) + int(v[12])) / bl.TICK)
            except (OSError, ValueError, IndexError):
                pass
    return out


class Others:
    """with Others(st) as o: ... -> o.share: the part of the machine (both
    cores) that went to processes other than the measured ones meanwhile,
    and o.top: the largest of them.  Measured: httpd, the bench stack's
    PostgreSQL (its postmaster and every process under it, also the
    parallel query workers that came and went, through the postmaster's
    reaped children's time), this client and its psql."""

    def __init__(self, st):
        self.st = st
        self.postmaster = bl.read_pidfile(os.path.join(st.stack_dir, "pg", "data", "postmaster.pid"))

    def ours(self, ps):
        mine = set(bl.httpd_pids(self.st)) | {os.getpid()}
        parents = mine | ({self.postmaster} if self.postmaster else set())
        return {pid for pid, (_, ppid, _) in ps.items() if pid in parents or ppid in parents}

    def reaped(self):
        t = os.times()
        return t.children_user + t.children_system + (
            bl.proc_cpu(self.postmaster, True) - bl.proc_cpu(self.postmaster) if self.postmaster else 0.0)

    def __enter__(self):
        self.a, self.t0, self.m0, self.r0 = procs(), time.perf_counter(), bl.machine_busy(), self.reaped()
        return self

    def __exit__(self, *exc):
        b, wall = procs(), time.perf_counter() - self.t0
        mine = self.ours(self.a) | self.ours(b)
        ours = self.reaped() - self.r0
        d = []
        for pid, (comm, _, t) in b.items():
            dt = t - self.a.get(pid, (comm, 0, 0.0))[2]
            if pid in mine:
                ours += dt
            elif dt >= 0.05:
                d.append((dt, comm, pid))
        self.seconds = wall
        self.other = max(0.0, bl.machine_busy() - self.m0 - ours)
        self.share = self.other / (wall * os.cpu_count())
        self.top = sorted(d, reverse=True)[:4]
        # What no process seen at both ends accounts for: processes that
        # began or ended meanwhile (a build's compilers), the kernel.
        self.unseen = max(0.0, self.other - sum(t for t, _, _ in d))
        return False

    def note(self, what):
        if self.share <= 0.10:
            return None
        who = ", ".join("%s (pid %d) %.1f s" % (c, p, t) for t, c, p in self.top)
        if self.unseen > 0.2:
            who += "%s%.1f s in processes that began or ended meanwhile (builds?) or the kernel" % (
                "; " if who else "", self.unseen)
        return "  NOTE: %.0f%% of the machine went to other processes during %s: %s" % (
            100 * self.share, what, who)


def page_bench(st, full, empty, empty_folder):
    node = os.environ.get("BENCH_NODE", "")
    mods = os.environ.get("BENCH_BROWSER_MODULES", "")
    if not node or not mods:
        return None, "no Node 18 or puppeteer-core (scripts/node18.sh, scripts/fetch-browser-deps.sh failed)"
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
    out.close()
    env = dict(os.environ, LENZ_BASE_URL=st.httpd_url, LENZ_BROWSER_MODULES=mods,
               NODE_PATH=":".join(x for x in ("/usr/share/nodejs", os.environ.get("NODE_PATH")) if x),
               BENCH_PAGE_RESULTS=out.name, BENCH_PAGE_LOADS=str(PAGE_LOADS), BENCH_PASSWORD=PASSWORD,
               BENCH_FULL_EMAIL=full.email, BENCH_EMPTY_EMAIL=empty.email,
               BENCH_EMPTY_FOLDER=empty_folder)
    p = subprocess.run([node, os.path.join(HERE, "storage_page.mjs")], env=env, capture_output=True,
                       text=True, timeout=600)
    try:
        with open(out.name, encoding="utf-8") as f:
            res = json.load(f)
    except (OSError, ValueError):
        res = None
    os.unlink(out.name)
    if p.returncode != 0 or not res:
        return None, "bench/storage_page.mjs failed (%d): %s" % (p.returncode, (p.stderr or p.stdout).strip()[-800:])
    return res, None


def main():
    st = bl.Settings()
    env = stack_env(st)
    conninfo = env["LENZ_PG_CONNINFO"]
    http = Http(st.httpd_url)

    print("bench/storage: one member's folder of %d files, through httpd's API vs the same SQL in psql"
          % FILES)
    print("  " + bl.machine_line())
    print("  httpd: event MPM, 1 child x 32 threads, mod_dbd (DBDKeep 2, DBDMax 8) to PostgreSQL on loopback TCP;"
          " one keep-alive client connection; psql: one persistent session, PREPAREd as apr_dbd does")
    sys.stdout.flush()

    full = Member(st, http, "full")
    empty = Member(st, http, "empty")
    t0 = time.perf_counter()
    out = lenzctl(st, "fill-folder", "--user", full.email, "--count", str(FILES))
    fill_s = time.perf_counter() - t0
    print("  set-up: lenzctl fill-folder: %s (%.1f s with the process)" % (out, fill_s))
    pg = Psql(conninfo)
    t0 = time.perf_counter()
    pg.run("VACUUM (ANALYZE) files, folders;")
    print("  set-up: VACUUM (ANALYZE) files, folders: %.1f s" % (time.perf_counter() - t0))
    try:
        return run(st, conninfo, http, pg, full, empty, fill_s)
    finally:
        pg.close()
        if os.environ.get("BENCH_KEEP") != "1":
            # The members go, their 100,000 rows with them (no objects).
            c = Psql(conninfo)
            c.run("DELETE FROM users WHERE id IN (%s, %s);" % (lit(full.id), lit(empty.id)))
            c.close()


def run(st, conninfo, http, pg, full, empty, fill_s):
    root_doc, _, _ = full.get("/api/v1/folders/root?limit=1")
    root = root_doc["id"]
    # An empty folder of the same member: the page's cost without rows
    # but with the member's 100,000 files elsewhere.
    st_, _, data, _ = http.request("POST", "/api/v1/folders",
                                   dict(full.headers(), **{"Content-Type": "application/json"}),
                                   json.dumps({"name": "Empty"}).encode())
    if st_ != 201:
        bl.die("POST /api/v1/folders: %d %s" % (st_, data[:200]))
    empty_folder = json.loads(data)["id"]

    # The middle: walk to row 50,000 with the largest pages (not timed).
    cursor, seen = None, 0
    target = (FILES + 1) // 2
    while seen < target:
        lim = min(1000, target - seen)
        doc, _, _ = full.get("/api/v1/folders/root?limit=%d%s" % (
            lim, "&cursor=" + urllib.parse.quote(cursor, safe="") if cursor else ""))
        seen += len(doc["children"])
        cursor = doc["next_cursor"]
        if not cursor:
            bl.die("the listing ended after %d rows" % seen)
    ct, ck, cid = cursor_parts(cursor)

    def listing(name, path, label, extra):
        def sql():
            return [execute("lenz_auth_family_user", [full.family]),
                    execute("lenz_fs_root_get", [full.id]),
                    execute("lenz_fs_folder", [full.id, full.id, full.id, root]),
                    execute(label, listing_args(root, *extra, PAGE + 1))]
        k = {"name": name, "path": path, "limit": PAGE}

        def refresh():
            k["sql"], k["family"] = sql(), full.family
        k["refresh"] = refresh
        refresh()
        return k

    kinds = [
        listing("page 1", "/api/v1/folders/root?limit=%d" % PAGE, "lenz_ls_name_asc",
                [None, None, None]),
        listing("middle (row %d)" % (target + 1),
                "/api/v1/folders/root?limit=%d&cursor=%s" % (PAGE, urllib.parse.quote(cursor, safe="")),
                "lenz_ls_name_asc", [ct, ck, cid]),
        listing("size desc", "/api/v1/folders/root?limit=%d&sort=size&order=desc" % PAGE,
                "lenz_ls_size_desc", [None, None, None]),
    ]
    sk = {"name": "search", "path": "/api/v1/files/search?q=%s" % SEARCH_Q, "limit": SEARCH_LIMIT}

    def refresh_search():
        sk["family"] = full.family
        sk["sql"] = [execute("lenz_auth_family_user", [full.family]),
                     execute("lenz_ls_search", [SEARCH_Q, SEARCH_Q, full.id, full.id, None, None, None, None,
                                                SEARCH_LIMIT + 1])]
    sk["refresh"] = refresh_search
    refresh_search()
    kinds.append(sk)

    pg.run("\n".join(prepare_sql(lb) + ";" for lb in STMTS))
    checked = {}
    for k in kinds:
        label, n = verify(full, pg, conninfo, k)
        checked[label] = max(n, checked.get(label, 0))
    checked = ["%s %s" % (lb, "(%d bytes)" % n if n else "(not seen)") for lb, n in checked.items()]
    print("  checked: psql's rows are httpd's answer for every kind; httpd's PREPARE text is the bench's: %s"
          % ", ".join(checked))
    sys.stdout.flush()

    tab = bl.Table()
    results = {}
    for k in kinds:
        measure(full, pg, k, WARMUP)
        with Others(st) as m:
            h, q, last = measure(full, pg, k, SAMPLES)
        r = {"httpd_ms": {"p50": round(pct(h, 50), 3), "p95": round(pct(h, 95), 3)},
             "psql_ms": {"p50": round(pct(q, 50), 3), "p95": round(pct(q, 95), 3)},
             "psql_last_statement_ms": {"p50": round(pct(last, 50), 3), "p95": round(pct(last, 95), 3)},
             "statements": len(k["sql"]), "response_bytes": k["bytes"], "path": k["path"],
             "samples": SAMPLES, "others_share": round(m.share, 3), "others_unseen_s": round(m.unseen, 2),
             "others": ["%s[%d] %.2f" % (c, p, t) for t, c, p in m.top], "seconds": round(m.seconds, 2)}
        r["ratio_p50"] = round(r["httpd_ms"]["p50"] / r["psql_ms"]["p50"], 2)
        r["ratio_p95"] = round(r["httpd_ms"]["p95"] / r["psql_ms"]["p95"], 2)
        results[k["name"]] = (r, m)
        tab.add("%s p50" % k["name"], "%.2f" % r["httpd_ms"]["p50"], "ms", "%.2f" % r["psql_ms"]["p50"],
                "%.2f" % r["ratio_p50"])
        tab.add("%s p95" % k["name"], "%.2f" % r["httpd_ms"]["p95"], "ms", "%.2f" % r["psql_ms"]["p95"],
                "%.2f" % r["ratio_p95"], "<= %.1f" % GOAL, bl.verdict(r["ratio_p95"], GOAL, False))

    print()
    print("bench/storage: %d samples each after %d warm-ups; httpd = request sent to last byte; "
          "psql = the request's %s statements (\\timing, summed)" % (SAMPLES, WARMUP,
                                                                    "/".join(str(len(k["sql"])) for k in kinds)))
    tab.print()
    for k in kinds:
        r = results[k["name"]][0]
        print("  %-18s %d statements, the last (%s) alone p50 %.2f ms p95 %.2f ms in psql; answer %d bytes"
              % (k["name"], r["statements"], k["sql"][-1].split("(")[0].replace("EXECUTE ", ""),
                 r["psql_last_statement_ms"]["p50"], r["psql_last_statement_ms"]["p95"], r["response_bytes"]))
    notes = [n for n in (v[1].note(k) for k, v in results.items()) if n]
    for line in notes + (["  (figures from a busy machine are noisy)"] if notes else []):
        print(line)
    sys.stdout.flush()

    with Others(st) as pm:
        page, why = page_bench(st, full, empty, empty_folder)
    if page:
        print()
        print("bench/storage: the /files page in Chromium %s (headless, Node %s, puppeteer-core %s), "
              "median of %d loads after one unmeasured"
              % (page.get("chromium", "?"), page.get("node", "?"), page.get("puppeteer", "?"), PAGE_LOADS))
        pt = bl.Table()
        ref = page["variants"]["empty member"]
        for name, v in page["variants"].items():
            fr = bl.median(v["first_row"])
            pt.add("%s: first row" % name, "%.1f" % fr, "ms",
                   "%.1f" % bl.median(ref["first_row"]) if name != "empty member" else "",
                   "%.2f" % (fr / bl.median(ref["first_row"])) if name != "empty member" else "")
            pt.add("%s: first byte" % name, "%.1f" % bl.median(v["first_byte"]), "ms")
            pt.add("%s: DOMContentLoaded" % name, "%.1f" % bl.median(v["dcl"]), "ms")
        pt.print()
        for name, v in page["variants"].items():
            print("  %-26s %s (%d rows; each load's first row: %s ms)" % (
                name, v["url"], v["rows"], " ".join("%.1f" % x for x in v["first_row"])))
        # Chromium and Node are ours here, and count as others: the note
        # says only how busy the machine was.
        print("  the machine was %.0f%% busy meanwhile (Chromium and Node included)" % (100 * pm.share))
    else:
        print()
        print("bench/storage: the page was not measured: %s" % why)

    data = {"bench": "storage", "files": FILES, "fill_seconds": round(fill_s, 1),
            "kinds": {k: v[0] for k, v in results.items()}, "page": page, "page_error": why,
            "machine": bl.machine_line()}
    path = bl.save_results(st, "storage", data)
    if path:
        print("  results: %s" % path)
    return 0 if page else 1


if __name__ == "__main__":
    sys.exit(main())
