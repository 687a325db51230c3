#!/usr/bin/python3
"""Small S3 admin tool for mod_lenz's dev/test stack (Ceph RGW on loopback).

    s3-admin.py [--env FILE] wait [--timeout S]   poll until a signed ListBuckets succeeds
    s3-admin.py [--env FILE] create-bucket        create LENZ_S3_BUCKET (ok if it is ours)
    s3-admin.py [--env FILE] put-cors ORIGIN...   GET/PUT/HEAD from ORIGINs, any header,
                                                  ExposeHeaders ETag, MaxAge 3600
    s3-admin.py [--env FILE] setup ORIGIN...      wait + create-bucket + put-cors in one go
                                                  (what scripts/stack.sh start runs)
    s3-admin.py [--env FILE] selftest             put/get/range/delete, 2x5 MiB multipart,
                                                  wrong secret refused, CORS preflight
    s3-admin.py [--env FILE] start-upload KEY     start a multipart upload, print its id
    s3-admin.py [--env FILE] uploads PREFIX       list open uploads: key, id, initiated
    s3-admin.py [--env FILE] abort-upload KEY ID  abort one
    s3-admin.py [--env FILE] put-policy FILE      set the bucket policy (a JSON file)
    s3-admin.py [--env FILE] delete-policy        remove it

Settings come from LENZ_S3_ENDPOINT, LENZ_S3_REGION, LENZ_S3_BUCKET,
LENZ_S3_ACCESS_KEY and LENZ_S3_SECRET_FILE: first the environment, then
--env FILE (a stack.env written by scripts/stack.sh), which wins.  Without
LENZ_S3_ENDPOINT anywhere, $LENZ_STACK_DIR/stack.env is read.

Run with Debian's /usr/bin/python3 (python3-botocore), never a pyenv python.
"""
import argparse
import hashlib
import http.client
import os
import sys
import time
import urllib.parse

# A caller's AWS profile/config must not leak into requests to the private stack.
for _v in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE",
           "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_v, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402

KEYS = ("LENZ_S3_ENDPOINT", "LENZ_S3_REGION", "LENZ_S3_BUCKET",
        "LENZ_S3_ACCESS_KEY", "LENZ_S3_SECRET_FILE")
MiB = 1024 * 1024


def die(msg):
    print("s3: " + msg, file=sys.stderr)
    sys.exit(1)


def read_env_file(path):
    vals = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            vals[k.strip()] = v.strip()
    return vals


def load_settings(env_file):
    cfg = {k: os.environ[k] for k in KEYS if os.environ.get(k)}
    if not env_file and "LENZ_S3_ENDPOINT" not in cfg and os.environ.get("LENZ_STACK_DIR"):
        env_file = os.path.join(os.environ["LENZ_STACK_DIR"], "stack.env")
    if env_file:
        try:
            cfg.update({k: v for k, v in read_env_file(env_file).items() if k in KEYS})
        except OSError as e:
            die("cannot read %s: %s" % (env_file, e))
    missing = [k for k in KEYS if not cfg.get(k)]
    if missing:
        die("missing settings: %s (use --env FILE or export them)" % " ".join(missing))
    try:
        with open(cfg["LENZ_S3_SECRET_FILE"], encoding="ascii") as f:
            cfg["secret"] = f.read().strip()
    except OSError as e:
        die("cannot read secret file: %s" % e)
    return cfg


def client(cfg, secret=None, timeout=30):
    sess = botocore.session.get_session()
    conf = Config(signature_version="s3v4",
                  s3={"addressing_style": "path"},   # no DNS for bucket hosts
                  retries={"total_max_attempts": 1},  # callers decide about retrying
                  connect_timeout=5, read_timeout=timeout)
    return sess.create_client("s3", endpoint_url=cfg["LENZ_S3_ENDPOINT"],
                              region_name=cfg["LENZ_S3_REGION"],
                              aws_access_key_id=cfg["LENZ_S3_ACCESS_KEY"],
                              aws_secret_access_key=secret or cfg["secret"],
                              config=conf)


def code_of(err):
    return err.response.get("Error", {}).get("Code", "") or str(
        err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def cmd_wait(cfg, args):
    deadline = time.monotonic() + args.timeout
    s3 = client(cfg, timeout=5)
    last = "no answer"
    while True:
        try:
            s3.list_buckets()
            return 0
        except (BotoCoreError, ClientError) as e:
            last = str(e)
        if time.monotonic() > deadline:
            die("no signed ListBuckets answer from %s within %ss: %s"
                % (cfg["LENZ_S3_ENDPOINT"], args.timeout, last))
        time.sleep(0.1)


def cmd_create_bucket(cfg, args):
    s3 = client(cfg)
    b = cfg["LENZ_S3_BUCKET"]
    try:
        s3.head_bucket(Bucket=b)
        print("s3: bucket %s already exists" % b)
        return 0
    except ClientError as e:
        if code_of(e) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    try:
        s3.create_bucket(Bucket=b)
        print("s3: bucket %s created" % b)
    except ClientError as e:
        if code_of(e) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            die("create bucket %s: %s" % (b, e))
        s3.head_bucket(Bucket=b)  # raises unless it is really ours
        print("s3: bucket %s already exists" % b)
    return 0


def cmd_put_cors(cfg, args):
    s3 = client(cfg)
    rule = {"AllowedOrigins": args.origins, "AllowedMethods": ["GET", "PUT", "HEAD"],
            "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600}
    s3.put_bucket_cors(Bucket=cfg["LENZ_S3_BUCKET"], CORSConfiguration={"CORSRules": [rule]})
    print("s3: CORS on %s for %s" % (cfg["LENZ_S3_BUCKET"], " ".join(args.origins)))
    return 0


def cmd_setup(cfg, args):
    cmd_wait(cfg, args)
    cmd_create_bucket(cfg, args)
    return cmd_put_cors(cfg, args)


def check(cond, what):
    if not cond:
        die("selftest FAILED: " + what)


def preflight(cfg, origin, key):
    """Browser-style CORS preflight for a PUT of key; returns (status, headers)."""
    u = urllib.parse.urlsplit(cfg["LENZ_S3_ENDPOINT"])
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
    conn.request("OPTIONS", "/%s/%s" % (cfg["LENZ_S3_BUCKET"], key), headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"})
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}


def cmd_selftest(cfg, args):
    s3 = client(cfg, timeout=120)
    b = cfg["LENZ_S3_BUCKET"]
    prefix = "selftest/%d-%d/" % (time.time_ns(), os.getpid())
    t0 = time.monotonic()

    # Plain object: put, get, head, ranged get, delete.
    body = os.urandom(100000)
    key = prefix + "plain.bin"
    r = s3.put_object(Bucket=b, Key=key, Body=body, ContentType="application/octet-stream")
    check(r["ETag"].strip('"') == hashlib.md5(body).hexdigest(), "PUT ETag is not the MD5")
    got = s3.get_object(Bucket=b, Key=key)["Body"].read()
    check(got == body, "GET returned different bytes")
    check(s3.head_object(Bucket=b, Key=key)["ContentLength"] == len(body), "HEAD length")
    part = s3.get_object(Bucket=b, Key=key, Range="bytes=1000-1999")["Body"].read()
    check(part == body[1000:2000], "ranged GET")
    s3.delete_object(Bucket=b, Key=key)
    try:
        s3.head_object(Bucket=b, Key=key)
        check(False, "object still there after DELETE")
    except ClientError as e:
        check(code_of(e) in ("404", "NoSuchKey", "NotFound"), "HEAD after DELETE: %s" % e)
    print("s3: selftest put/get/range/delete ok")

    # Multipart: two 5 MiB parts (5 MiB is S3's minimum for a non-last part).
    key = prefix + "multi.bin"
    parts_data = [os.urandom(5 * MiB), os.urandom(5 * MiB)]
    up = s3.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
    try:
        parts = []
        for n, data in enumerate(parts_data, 1):
            r = s3.upload_part(Bucket=b, Key=key, UploadId=up, PartNumber=n, Body=data)
            parts.append({"PartNumber": n, "ETag": r["ETag"]})
        listed = s3.list_parts(Bucket=b, Key=key, UploadId=up)["Parts"]
        check([p["PartNumber"] for p in listed] == [1, 2], "ListParts")
        s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=up,
                                     MultipartUpload={"Parts": parts})
    except Exception:
        try:
            s3.abort_multipart_upload(Bucket=b, Key=key, UploadId=up)
        except Exception:
            pass
        raise
    whole = b"".join(parts_data)
    got = s3.get_object(Bucket=b, Key=key)["Body"].read()
    check(hashlib.sha256(got).digest() == hashlib.sha256(whole).digest(),
          "multipart object content differs")
    etag = s3.head_object(Bucket=b, Key=key)["ETag"].strip('"')
    check(etag.endswith("-2"), "multipart ETag %s does not end in -2" % etag)
    s3.delete_object(Bucket=b, Key=key)
    print("s3: selftest multipart 2 x 5 MiB ok (ETag %s)" % etag)

    # A wrong secret must be refused.
    bad = client(cfg, secret="x" * 40)
    try:
        bad.list_objects_v2(Bucket=b, MaxKeys=1)
        check(False, "request signed with a wrong secret was accepted")
    except ClientError as e:
        check(code_of(e) in ("SignatureDoesNotMatch", "AccessDenied", "403"),
              "wrong secret gave %s" % code_of(e))
        print("s3: selftest wrong secret refused (%s)" % code_of(e))

    # CORS preflight, when the bucket has a CORS configuration.
    try:
        rules = s3.get_bucket_cors(Bucket=b)["CORSRules"]
    except ClientError:
        rules = []
    if rules:
        origin = rules[0]["AllowedOrigins"][0]
        status, hdrs = preflight(cfg, origin, prefix + "x")
        check(status == 200 and hdrs.get("access-control-allow-origin") in (origin, "*"),
              "CORS preflight from %s: %d %s" % (origin, status, hdrs))
        print("s3: selftest CORS preflight from %s ok" % origin)
    print("s3: selftest passed in %.2fs" % (time.monotonic() - t0))
    return 0


def cmd_get(cfg, args):
    """Copies an object into a local file (tests use it to inspect objects)."""
    body = client(cfg).get_object(Bucket=cfg["LENZ_S3_BUCKET"], Key=args.key)["Body"]
    with open(args.file, "wb") as f:
        for chunk in iter(lambda: body.read(1 << 20), b""):
            f.write(chunk)
    return 0


def cmd_put(cfg, args):
    """Replaces an object with a local file's bytes (tests use it to tamper)."""
    with open(args.file, "rb") as f:
        client(cfg).put_object(Bucket=cfg["LENZ_S3_BUCKET"], Key=args.key, Body=f)
    return 0


def cmd_start_upload(cfg, args):
    """Starts a multipart upload and leaves it open (tests of the clean-up)."""
    r = client(cfg).create_multipart_upload(Bucket=cfg["LENZ_S3_BUCKET"], Key=args.key)
    print(r["UploadId"])
    return 0


def cmd_uploads(cfg, args):
    s3 = client(cfg)
    kw = {"Bucket": cfg["LENZ_S3_BUCKET"], "Prefix": args.prefix}
    while True:
        r = s3.list_multipart_uploads(**kw)
        for u in r.get("Uploads", []):
            print("%s\t%s\t%s" % (u["Key"], u["UploadId"], u["Initiated"].isoformat()))
        if not r.get("IsTruncated"):
            return 0
        kw["KeyMarker"] = r["NextKeyMarker"]
        kw["UploadIdMarker"] = r["NextUploadIdMarker"]


def cmd_abort_upload(cfg, args):
    client(cfg).abort_multipart_upload(Bucket=cfg["LENZ_S3_BUCKET"], Key=args.key,
                                       UploadId=args.upload_id)
    return 0


def cmd_put_policy(cfg, args):
    """Sets the bucket policy (tests make S3 refuse some requests)."""
    with open(args.file, encoding="utf-8") as f:
        client(cfg).put_bucket_policy(Bucket=cfg["LENZ_S3_BUCKET"], Policy=f.read())
    return 0


def cmd_delete_policy(cfg, args):
    client(cfg).delete_bucket_policy(Bucket=cfg["LENZ_S3_BUCKET"])
    return 0


def main():
    ap = argparse.ArgumentParser(description="S3 admin for the mod_lenz dev/test stack")
    ap.add_argument("--env", help="stack.env file to read settings from")
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait", help="poll until a signed ListBuckets succeeds")
    w.add_argument("--timeout", type=float, default=60)
    sub.add_parser("create-bucket")
    c = sub.add_parser("put-cors")
    c.add_argument("origins", nargs="+")
    su = sub.add_parser("setup", help="wait, create-bucket, put-cors")
    su.add_argument("--timeout", type=float, default=60)
    su.add_argument("origins", nargs="+")
    sub.add_parser("selftest")
    for name in ("get", "put"):
        g = sub.add_parser(name, help="%s an object from/to a local file" % name)
        g.add_argument("key")
        g.add_argument("file")
    g = sub.add_parser("start-upload", help="start a multipart upload, print its id")
    g.add_argument("key")
    g = sub.add_parser("uploads", help="list open multipart uploads under a prefix")
    g.add_argument("prefix")
    g = sub.add_parser("abort-upload", help="abort a multipart upload")
    g.add_argument("key")
    g.add_argument("upload_id")
    g = sub.add_parser("put-policy", help="set the bucket policy from a JSON file")
    g.add_argument("file")
    sub.add_parser("delete-policy", help="remove the bucket policy")
    args = ap.parse_args()
    cfg = load_settings(args.env)
    fn = {"wait": cmd_wait, "create-bucket": cmd_create_bucket,
          "put-cors": cmd_put_cors, "setup": cmd_setup, "selftest": cmd_selftest,
          "get": cmd_get, "put": cmd_put, "start-upload": cmd_start_upload,
          "uploads": cmd_uploads, "abort-upload": cmd_abort_upload,
          "put-policy": cmd_put_policy, "delete-policy": cmd_delete_policy}[args.cmd]
    try:
        return fn(cfg, args)
    except (BotoCoreError, ClientError) as e:
        die("%s: %s" % (args.cmd, e))


if __name__ == "__main__":
    sys.exit(main())
