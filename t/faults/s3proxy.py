#!/usr/bin/python3
"""Fault-injecting proxy for mod_lenz's tests (Debian's python3, stdlib only).

It sits on loopback between httpd and a real backend -- Ceph RGW's S3 API,
or the SMTP sink -- and, as the test tells it, forwards every byte unchanged
or misbehaves the way real backends do.

    s3proxy.py --listen PORT --upstream HOST:PORT --control PORT
               [--protocol http|smtp] [--log FILE] [--pid-file FILE]

SigV4 signs the Host header, so the proxy never rewrites a request: httpd
is configured with the proxy's address as its S3 endpoint, signs
"Host: 127.0.0.1:PROXY_PORT", and RGW checks the signature against the Host
it receives (it does not care which port that names in path-style
addressing).

One rule at a time, set through the control endpoint (HTTP on --control):

    PUT  /rule   {"action": ..., options}   replace the rule (answers the stats)
    POST /reset                             back to "pass", counters to zero
    GET  /stats                             {"requests", "faults", "open", "stalled",
                                             "accepted", "rule"}
    GET  /recorded                          {"recorded": [{"method", "target", "body" (hex)}]}
                                            what "record" kept, oldest first (reset clears it)

HTTP (S3) actions, applied per request (keep-alive connections included):
    pass                               forward unchanged (the default)
    delay       ms=N                   wait N ms, then forward
    stall                              read the whole request, never answer
    stall       after=N                read N bytes of the request body, then stop reading
    stall_body  after=N                forward the answer's head and N body bytes, then hang
    cut         after=N                forward the head and N body bytes, then close
    corrupt     at=N                   flip the low bit of the answer's body byte N
    error       status=503 code=SlowDown [message=...]   S3's XML error answer
    close                              close the connection without answering
    record      bytes=N                forward unchanged, keeping the request's first N
                                       body bytes (default 1 MiB) for GET /recorded

SMTP actions, applied per connection:
    pass                               relay both ways
    refuse                             accept and close at once
    stall                              accept, never greet
    reply       code=N [on=REGEX]      answer client lines matching REGEX at their start
                                       (e.g. "EHLO|HELO", "MAIL", "DATA") with N instead of
                                       forwarding them; without "on", greet with N and close

Options for every rule: "method" (exact), "path" (a regex searched in the
request target), "times" (the rule applies to that many matching requests or
connections, then the proxy goes back to pass).

A stalled connection is held until the client closes it (seen through
TCP_INFO, without reading) or the rule changes; "stalled" in the stats counts
the connections held so, a test can tell whether httpd gave up on them
("open" counts every client connection, idle pooled ones included).  A
client that closes while its unread request body fills the window cannot be
seen (its FIN waits behind the data): such a stall ends with the rule.
"""
import argparse
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_HEAD = 64 * 1024
CHUNK = 64 * 1024
TCP_CLOSE_WAIT, TCP_CLOSE = 8, 7
REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}
MESSAGES = {"SlowDown": "Please reduce your request rate.",
            "InternalError": "We encountered an internal error. Please try again.",
            "ServiceUnavailable": "Reduce your request rate."}


class State:
    """The rule and the counters, shared by every connection thread."""

    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.log_path = log_path
        self.generation = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.rule = {"action": "pass"}
            self.generation += 1
            self.requests = 0
            self.faults = 0
            self.recorded = []
            self.accepted = getattr(self, "accepted", 0)
            self.open = getattr(self, "open", 0)
            self.stalled = getattr(self, "stalled", 0)

    def set_rule(self, rule):
        if "path" in rule:
            re.compile(rule["path"])
        with self.lock:
            self.rule = dict(rule)
            self.generation += 1

    def take(self, method=None, target=None):
        """The rule for this request (or connection), counting it."""
        with self.lock:
            self.requests += 1
            r = self.rule
            if r.get("action", "pass") == "pass":
                return {"action": "pass"}, self.generation
            if "method" in r and method is not None and r["method"] != method:
                return {"action": "pass"}, self.generation
            if "path" in r and target is not None and not re.search(r["path"], target):
                return {"action": "pass"}, self.generation
            if "times" in r:
                if r["times"] <= 0:
                    return {"action": "pass"}, self.generation
                r["times"] -= 1
            self.faults += 1
            return dict(r), self.generation

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "faults": self.faults, "open": self.open,
                    "stalled": self.stalled, "accepted": self.accepted, "rule": self.rule}

    def record(self, method, target, body):
        with self.lock:
            self.recorded.append({"method": method, "target": target, "body": body.hex()})

    def stall(self, delta):
        with self.lock:
            self.stalled += delta

    def conn(self, delta):
        with self.lock:
            self.open += delta
            if delta > 0:
                self.accepted += 1

    def log(self, text):
        if not self.log_path:
            return
        stamp = time.strftime("%H:%M:%S", time.localtime()) + ".%03d" % (time.time() % 1 * 1000)
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write("%s %s\n" % (stamp, text))


class Closed(Exception):
    pass


class Reader:
    """Buffered reads from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(CHUNK)
        if not data:
            raise Closed()
        self.buf += data

    def head(self):
        """Up to and including the blank line; None on a clean EOF before any byte."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise Closed()
            try:
                self.fill()
            except Closed:
                if not self.buf:
                    return None
                raise
        i = self.buf.index(b"\r\n\r\n") + 4
        h, self.buf = self.buf[:i], self.buf[i:]
        return h

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\r\n") + 2
        ln, self.buf = self.buf[:i], self.buf[i:]
        return ln

    def some(self, limit):
        if not self.buf:
            self.fill()
        piece, self.buf = self.buf[:limit], self.buf[limit:]
        return piece


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0]
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return first, hdrs


def framing(hdrs, has_body=True):
    if not has_body:
        return ("none", 0)
    if "chunked" in hdrs.get("transfer-encoding", "").lower():
        return ("chunked", 0)
    if "content-length" in hdrs:
        return ("length", int(hdrs["content-length"]))
    return ("close", 0)


def body_pieces(rd, frame, is_request):
    """The payload in pieces; chunked framing is taken apart."""
    kind, n = frame
    if kind == "none" or (kind == "close" and is_request):
        return
    if kind == "length":
        while n > 0:
            piece = rd.some(min(n, CHUNK))
            n -= len(piece)
            yield piece
        return
    if kind == "close":
        while True:
            try:
                piece = rd.some(CHUNK)
            except Closed:
                return
            yield piece
    # chunked
    while True:
        size = int(rd.line().split(b";")[0].strip(), 16)
        if size == 0:
            while rd.line() != b"\r\n":     # trailers
                pass
            return
        while size > 0:
            piece = rd.some(min(size, CHUNK))
            size -= len(piece)
            yield piece
        rd.line()


class Framer:
    """Writes payload pieces framed as the source was."""

    def __init__(self, sock, frame):
        self.sock = sock
        self.chunked = frame[0] == "chunked"

    def write(self, piece):
        if not piece:
            return
        if self.chunked:
            self.sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        else:
            self.sock.sendall(piece)

    def end(self):
        if self.chunked:
            self.sock.sendall(b"0\r\n\r\n")


def tcp_state(sock):
    try:
        return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]
    except OSError:
        return TCP_CLOSE


def hang(state, sock, generation, limit=600):
    """Hold the connection without reading until the peer closes it, the
    rule changes, or LIMIT seconds pass."""
    end = time.time() + limit
    state.stall(+1)
    try:
        while time.time() < end:
            if tcp_state(sock) in (TCP_CLOSE_WAIT, TCP_CLOSE):
                return "client closed"
            if state.generation != generation:
                return "rule changed"
            time.sleep(0.05)
        return "time limit"
    finally:
        state.stall(-1)


def s3_error(status, code, message, resource, head_only):
    rid = "lenzfault-%x" % int(time.time() * 1e6)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            '<Resource>%s</Resource><RequestId>%s</RequestId></Error>'
            % (code, message, resource.replace("&", "&amp;").replace("<", "&lt;"), rid)).encode()
    head = ("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
            "x-amz-request-id: %s\r\nDate: %s\r\n\r\n"
            % (status, REASONS.get(status, "Error"), len(body), rid,
               time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))).encode()
    return head if head_only else head + body


class HttpConn(threading.Thread):
    """One client connection: request by request, so a rule change takes
    effect on a kept-alive connection too."""

    def __init__(self, state, client, upstream):
        super().__init__(daemon=True)
        self.state, self.client, self.upstream = state, client, upstream
        self.up = None
        self.up_rd = None

    def up_connect(self):
        if self.up is None:
            self.up = socket.create_connection(self.upstream, timeout=None)
            self.up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.up_rd = Reader(self.up)

    def up_close(self):
        if self.up is not None:
            self.up.close()
        self.up = self.up_rd = None

    def run(self):
        self.state.conn(+1)
        try:
            rd = Reader(self.client)
            while self.one(rd):
                pass
        except (Closed, OSError, ValueError):
            pass
        finally:
            self.up_close()
            try:
                self.client.close()
            except OSError:
                pass
            self.state.conn(-1)

    def one(self, rd):
        head = rd.head()
        if head is None:
            return False
        first, hdrs = parse_head(head)
        parts = first.split(" ")
        method, target = parts[0], parts[1] if len(parts) > 1 else "/"
        rule, gen = self.state.take(method, target)
        act = rule.get("action", "pass")
        req_frame = framing(hdrs)
        self.state.log("%s %s -> %s" % (method, target[:120], json.dumps(rule) if act != "pass" else "pass"))

        if act == "close":
            return False
        if act == "stall":
            after = rule.get("after")
            got = 0
            for piece in body_pieces(rd, req_frame, True):
                got += len(piece)
                if after is not None and got >= after:
                    break
            why = hang(self.state, self.client, gen)
            self.state.log("  stall ended: %s (%d body bytes read)" % (why, got))
            return False
        if act == "error":
            for _ in body_pieces(rd, req_frame, True):
                pass
            code = rule.get("code", "InternalError")
            self.client.sendall(s3_error(int(rule.get("status", 500)), code,
                                         rule.get("message", MESSAGES.get(code, "")),
                                         target.split("?")[0], method == "HEAD"))
            return "close" not in hdrs.get("connection", "").lower()
        if act == "delay":
            time.sleep(float(rule.get("ms", 0)) / 1000)

        # Forward the request unchanged: head bytes as received, body re-framed
        # only if it was chunked (identical bytes for Content-Length bodies).
        # A client waiting for "100 Continue" gets it from us (the body has
        # to come through here first); the backend's own 100 is swallowed.
        continued = "100-continue" in hdrs.get("expect", "").lower()
        try:
            if continued:
                self.client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.up_connect()
            self.up.sendall(head)
            out = Framer(self.up, req_frame)
            keep, kept = int(rule.get("bytes", 1 << 20)) if act == "record" else 0, b""
            for piece in body_pieces(rd, req_frame, True):
                if len(kept) < keep:
                    kept += piece[:keep - len(kept)]
                out.write(piece)
            out.end()
            if act == "record":
                self.state.record(method, target, kept)
        except (OSError, Closed):
            self.up_close()
            return False

        # The answer (skipping interim 1xx heads).
        while True:
            rhead = self.up_rd.head()
            if rhead is None:
                raise Closed()
            status_line, rh = parse_head(rhead)
            status = int(status_line.split(" ")[1])
            if status >= 200:
                break
            if not continued:
                self.client.sendall(rhead)
        has_body = method != "HEAD" and status not in (204, 304)
        frame = framing(rh, has_body)
        self.client.sendall(rhead)
        w = Framer(self.client, frame)
        sent = 0
        for piece in body_pieces(self.up_rd, frame, False):
            if act == "corrupt":
                at = int(rule.get("at", 0))
                if sent <= at < sent + len(piece):
                    b = bytearray(piece)
                    b[at - sent] ^= 0x01
                    piece = bytes(b)
                    self.state.log("  corrupted body byte %d" % at)
            if act in ("cut", "stall_body") and sent + len(piece) >= int(rule.get("after", 0)):
                piece = piece[:int(rule.get("after", 0)) - sent]
                w.write(piece)
                sent += len(piece)
                if act == "cut":
                    self.state.log("  cut after %d body bytes" % sent)
                    return False
                why = hang(self.state, self.client, gen)
                self.state.log("  stalled after %d body bytes; %s" % (sent, why))
                return False
            w.write(piece)
            sent += len(piece)
        w.end()
        if frame[0] == "close" or "close" in rh.get("connection", "").lower():
            self.up_close()
            return False
        return "close" not in hdrs.get("connection", "").lower()


class SmtpConn(threading.Thread):
    """One SMTP client connection."""

    def __init__(self, state, client, upstream):
        super().__init__(daemon=True)
        self.state, self.client, self.upstream = state, client, upstream

    def run(self):
        self.state.conn(+1)
        up = None
        try:
            rule, gen = self.state.take()
            act = rule.get("action", "pass")
            self.state.log("connection -> %s" % json.dumps(rule))
            if act == "refuse":
                return
            if act == "stall":
                self.state.log("  stall ended: %s" % hang(self.state, self.client, gen))
                return
            if act == "reply" and not rule.get("on"):
                self.client.sendall(b"%d %s\r\n" % (int(rule.get("code", 421)),
                                                     rule.get("text", "fault injected").encode()))
                return
            up = socket.create_connection(self.upstream)
            self.relay(up, rule if act == "reply" else None)
        except (OSError, Closed):
            pass
        finally:
            if up is not None:
                up.close()
            self.client.close()
            self.state.conn(-1)

    def relay(self, up, rule):
        """Both ways; client lines are looked at when a verb is intercepted."""
        verb = re.compile((rule or {}).get("on", "").encode(), re.I) if (rule or {}).get("on") else None
        crd = Reader(self.client)
        in_data = False
        while True:
            r, _, _ = select.select([self.client, up], [], [])
            if up in r:
                data = up.recv(CHUNK)
                if not data:
                    return
                self.client.sendall(data)
            if self.client in r:
                crd.fill()
                while b"\n" in crd.buf:
                    i = crd.buf.index(b"\n") + 1
                    ln, crd.buf = crd.buf[:i], crd.buf[i:]
                    if in_data:
                        in_data = ln not in (b".\r\n", b".\n")
                    elif verb and verb.match(ln):
                        self.client.sendall(b"%d %s\r\n" % (int(rule.get("code", 451)),
                                                             rule.get("text", "fault injected").encode()))
                        continue
                    elif ln.upper().startswith(b"DATA"):
                        in_data = True
                    up.sendall(ln)
                if in_data and crd.buf:
                    up.sendall(crd.buf)
                    crd.buf = b""


def control_handler(state):
    class Control(BaseHTTPRequestHandler):
        def reply(self, code, obj):
            body = json.dumps(obj).encode() + b"\n"
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/stats":
                return self.reply(200, state.stats())
            if self.path == "/recorded":
                with state.lock:
                    rec = list(state.recorded)
                return self.reply(200, {"recorded": rec})
            return self.reply(404, {"error": "GET /stats, GET /recorded, PUT /rule, POST /reset"})

        def do_PUT(self):
            if self.path != "/rule":
                return self.reply(404, {"error": "PUT /rule"})
            try:
                n = int(self.headers.get("Content-Length", "0"))
                rule = json.loads(self.rfile.read(n) or b"{}")
                if not isinstance(rule, dict) or "action" not in rule:
                    raise ValueError("a JSON object with an action")
                state.set_rule(rule)
            except (ValueError, re.error) as e:
                return self.reply(400, {"error": str(e)})
            state.log("rule: %s" % json.dumps(rule))
            return self.reply(200, state.stats())

        def do_POST(self):
            if self.path != "/reset":
                return self.do_PUT()
            state.reset()
            state.log("reset")
            return self.reply(200, state.stats())

        def log_message(self, fmt, *args):
            pass

    return Control


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", required=True, help="HOST:PORT")
    ap.add_argument("--control", type=int, required=True)
    ap.add_argument("--protocol", choices=("http", "smtp"), default="http")
    ap.add_argument("--log")
    ap.add_argument("--pid-file")
    a = ap.parse_args()
    host, port = a.upstream.rsplit(":", 1)
    upstream = (host, int(port))
    state = State(a.log)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", a.listen))
    lsock.listen(128)
    ctl = ThreadingHTTPServer(("127.0.0.1", a.control), control_handler(state))
    ctl.daemon_threads = True
    threading.Thread(target=ctl.serve_forever, daemon=True).start()

    def stop(signum, frame):
        if a.pid_file:
            try:
                os.unlink(a.pid_file)
            except OSError:
                pass
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.pid_file:
        with open(a.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())
    state.log("listening on 127.0.0.1:%d for %s, upstream %s, control on %d"
              % (a.listen, a.protocol, a.upstream, a.control))
    conn_class = HttpConn if a.protocol == "http" else SmtpConn
    while True:
        client, _ = lsock.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn_class(state, client, upstream).start()


if __name__ == "__main__":
    sys.exit(main())
