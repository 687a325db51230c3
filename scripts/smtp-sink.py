#!/usr/bin/python3
"""SMTP sink for mod_lenz's dev/test stack (started by scripts/stack.sh).

Accepts every message on a loopback port and stores it, envelope included, as
one file per message under --mail-dir:

    <unix-time-ns>-<seq>.eml   written under a dot-name first, then renamed,
                               so a reader never sees half a message.

The file starts with "X-Envelope-From: <addr>" and one "X-Envelope-To: <addr>"
line per recipient, then the message exactly as received.  One line per
message goes to --log.  AUTH PLAIN/LOGIN is offered without TLS and any
credentials are accepted, so clients configured to authenticate work too.

Runs with Debian's /usr/bin/python3 and python3-aiosmtpd.  Exits cleanly on
SIGTERM/SIGINT (closes the listener, removes its pid file).
"""
import argparse
import asyncio
import logging
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult

# aiosmtpd's own warnings go to stderr (the log); it warns on every AUTH
# because it sets its own deprecated Session.login_data: drop just that one.
logging.basicConfig(level=logging.WARNING, format="%(asctime)s smtp: %(levelname)s %(message)s")
logging.getLogger("mail.log").addFilter(
    lambda rec: "login_data is deprecated" not in rec.getMessage())


def log_line(path, text):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(path, "a", encoding="utf-8") as f:
        f.write("%s %s\n" % (stamp, text))


def bare(addr):
    """An address without its angle brackets ("<>", the null sender, gives "")."""
    addr = (addr or "").strip()
    return addr[1:-1] if addr.startswith("<") and addr.endswith(">") else addr


class Sink:
    """aiosmtpd handler: one .eml file per accepted message."""

    def __init__(self, mail_dir, log):
        self.mail_dir = mail_dir
        self.log = log
        self.seq = 0

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        body = envelope.original_content or b""
        # The prepended lines use the line ending of the message's first line.
        nl = body.find(b"\n")
        eol = b"\n" if nl > 0 and body[nl - 1:nl] != b"\r" else b"\r\n"
        sender = bare(envelope.mail_from)
        head = b"X-Envelope-From: <" + sender.encode("utf-8") + b">" + eol
        for rcpt in envelope.rcpt_tos:
            head += b"X-Envelope-To: <" + bare(rcpt).encode("utf-8") + b">" + eol
        name = "%d-%d.eml" % (time.time_ns(), self.seq)
        tmp = os.path.join(self.mail_dir, ".%s.tmp" % name)
        with open(tmp, "wb") as f:
            f.write(head)
            f.write(body)
        # rename() is atomic within the directory: readers see all or nothing.
        os.rename(tmp, os.path.join(self.mail_dir, name))
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        log_line(self.log, "smtp: accepted %s from=<%s> to=%s size=%d auth=%s" % (
            name, sender, ",".join("<%s>" % bare(r) for r in envelope.rcpt_tos), len(body),
            login.decode("utf-8", "replace") if isinstance(login, bytes) else login or "-"))
        return "250 OK queued as " + name


def accept_any(server, session, envelope, mechanism, auth_data):
    """Any user/password is fine: this is a sink, AUTH only has to work."""
    return AuthResult(success=True, auth_data=auth_data)


def write_pid(path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, path)


def remove_pid(path):
    try:
        with open(path) as f:
            if f.read().strip() == str(os.getpid()):
                os.unlink(path)
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mail-dir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--pid-file", required=True)
    ap.add_argument("--max-size", type=int, default=64 * 1024 * 1024,
                    help="largest message accepted, bytes (default 64 MiB)")
    a = ap.parse_args()
    os.makedirs(a.mail_dir, exist_ok=True)

    sink = Sink(a.mail_dir, a.log)

    def factory():
        # hostname given explicitly: the default does a DNS lookup of our FQDN.
        return SMTP(sink, hostname="lenz-smtp-sink", ident="lenz SMTP sink",
                     data_size_limit=a.max_size, enable_SMTPUTF8=True,
                     authenticator=accept_any, auth_require_tls=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        server = loop.run_until_complete(
            loop.create_server(factory, a.host, a.port, reuse_address=True))
    except OSError as e:
        log_line(a.log, "smtp: cannot listen on %s:%d: %s" % (a.host, a.port, e))
        print("smtp: cannot listen on %s:%d: %s" % (a.host, a.port, e), file=sys.stderr)
        return 1
    # The pid file appears only once the port is bound.
    write_pid(a.pid_file)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    log_line(a.log, "smtp: listening on %s:%d pid %d, mail in %s" % (
        a.host, a.port, os.getpid(), a.mail_dir))
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        remove_pid(a.pid_file)
        log_line(a.log, "smtp: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
