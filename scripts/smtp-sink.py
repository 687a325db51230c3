#!/usr/bin/python3
"""SMTP sink for mod_lenz's dev/test stack (started by scripts/stack.sh).

Accepts every message on loopback ports and stores it, envelope included, as
one file per message under --mail-dir:

    <unix-time-ns>-<seq>.eml   written under a dot-name first, then renamed,
                               so a reader never sees half a message.

The file starts with "X-Envelope-From: <addr>" and one "X-Envelope-To: <addr>"
line per recipient, then the message exactly as received.  One line per
message goes to --log, ending "auth=USER mech=MECHANISM tls=yes|no" (auth=-
mech=- without AUTH): whom the client authenticated as, how, and whether the
session was encrypted.  AUTH PLAIN/LOGIN
takes any credentials, so clients configured to authenticate work too.

Listeners (all on --host):
  --port          SMTP; with --tls-cert/--tls-key it offers STARTTLS, and
                  with --auth-require-tls it offers AUTH only inside TLS
                  (538 to AUTH in clear), as a real submission server does.
  --smtps-port    implicit TLS from the first byte (needs --tls-cert/--tls-key).
  --plain-port    SMTP that never offers STARTTLS and takes AUTH in clear:
                  an old relay, for clients that must refuse to talk to it.

Runs with Debian's /usr/bin/python3 and python3-aiosmtpd.  Exits cleanly on
SIGTERM/SIGINT (closes the listener, removes its pid file).
"""
import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, TLSSetupException

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
        log_line(self.log, "smtp: accepted %s from=<%s> to=%s size=%d auth=%s mech=%s tls=%s" % (
            name, sender, ",".join("<%s>" % bare(r) for r in envelope.rcpt_tos), len(body),
            login.decode("utf-8", "replace") if isinstance(login, bytes) else login or "-",
            (getattr(session, "lenz_mechanism", None) or "-") if login else "-",
            "yes" if uses_tls(server) else "no"))
        return "250 OK queued as " + name

    async def handle_exception(self, error):
        """One log line instead of aiosmtpd's traceback; a failed STARTTLS
        handshake (a client that does not trust our certificate) is expected."""
        if isinstance(error, TLSSetupException):
            log_line(self.log, "smtp: STARTTLS handshake failed: %s" % (error.__cause__ or error))
            return "421 4.7.0 TLS handshake failed"
        log_line(self.log, "smtp: session error: %s: %s" % (error.__class__.__name__, error))
        return "500 Error: (%s) %s" % (error.__class__.__name__, error)


def uses_tls(server):
    """The session is encrypted: after STARTTLS, or on the implicit-TLS port
    (in both cases the transport is an asyncio SSL transport)."""
    t = server.transport
    return t is not None and t.get_extra_info("ssl_object") is not None


def accept_any(server, session, envelope, mechanism, auth_data):
    """Any user/password is fine: this is a sink, AUTH only has to work.
    The mechanism is kept for the log line."""
    session.lenz_mechanism = mechanism
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
    ap.add_argument("--tls-cert", help="PEM certificate (chain) for STARTTLS and --smtps-port")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    ap.add_argument("--smtps-port", type=int, help="also listen here with implicit TLS")
    ap.add_argument("--plain-port", type=int, help="also listen here without STARTTLS")
    ap.add_argument("--auth-require-tls", action="store_true",
                    help="on --port, offer and take AUTH only inside TLS")
    a = ap.parse_args()
    if bool(a.tls_cert) != bool(a.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if (a.smtps_port or a.auth_require_tls) and not a.tls_cert:
        ap.error("--smtps-port and --auth-require-tls need --tls-cert/--tls-key")
    os.makedirs(a.mail_dir, exist_ok=True)

    sink = Sink(a.mail_dir, a.log)
    tls = None
    if a.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(a.tls_cert, a.tls_key)

    def factory(starttls, auth_require_tls):
        # hostname given explicitly: the default does a DNS lookup of our FQDN.
        return lambda: SMTP(sink, hostname="lenz-smtp-sink", ident="lenz SMTP sink",
                            data_size_limit=a.max_size, enable_SMTPUTF8=True,
                            authenticator=accept_any, tls_context=starttls,
                            auth_require_tls=auth_require_tls)

    # (port, protocol factory, ssl context of the listener, what it is)
    listeners = [(a.port, factory(tls, a.auth_require_tls), None,
                  "STARTTLS offered" if tls else "plain")]
    if a.smtps_port:
        # aiosmtpd sees no STARTTLS here, so it must not insist on one for AUTH.
        listeners.append((a.smtps_port, factory(None, False), tls, "implicit TLS"))
    if a.plain_port:
        listeners.append((a.plain_port, factory(None, False), None, "plain, no STARTTLS"))

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    servers = []
    for port, proto, ctx, what in listeners:
        try:
            servers.append(loop.run_until_complete(
                loop.create_server(proto, a.host, port, reuse_address=True, ssl=ctx)))
        except OSError as e:
            log_line(a.log, "smtp: cannot listen on %s:%d: %s" % (a.host, port, e))
            print("smtp: cannot listen on %s:%d: %s" % (a.host, port, e), file=sys.stderr)
            return 1
    # The pid file appears only once every port is bound.
    write_pid(a.pid_file)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    log_line(a.log, "smtp: listening on %s pid %d, mail in %s%s" % (
        ", ".join("%s:%d (%s)" % (a.host, port, what) for port, _, _, what in listeners),
        os.getpid(), a.mail_dir, ", AUTH only inside TLS" if a.auth_require_tls else ""))
    try:
        loop.run_forever()
    finally:
        for server in servers:
            server.close()
        for server in servers:
            loop.run_until_complete(server.wait_closed())
        remove_pid(a.pid_file)
        log_line(a.log, "smtp: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
