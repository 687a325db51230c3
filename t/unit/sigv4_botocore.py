#!/usr/bin/python3
"""Reference S3 signatures from botocore, for t/unit/test_sigv4.c.

Run with Debian's /usr/bin/python3 (package python3-botocore), not a pyenv
interpreter.  Prints one JSON object per line: the inputs of a request and
what botocore makes of them at a frozen time, either the Authorization header
of S3SigV4Auth ("kind": "sign") or the URL of S3SigV4QueryAuth ("kind":
"presign").  The C test signs the same inputs and compares byte for byte.

Inputs are what a correct S3 client sends: paths and queries encoded the way
botocore's serializer does (percent_encode, upper-case hex, '~' kept).
botocore signs the wire query verbatim where SigV4 asks to decode and
re-encode it; on such inputs both readings agree.
"""
import base64
import datetime
import hashlib
import json
import sys
import types

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode

AK = 'AKIAIOSFODNN7EXAMPLE'
SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
TOKEN = ('IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ'
         'D+example/token+with/slashes=')
UPLOAD_ID = ('VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA'
             '.x~y_z-0')


class _FrozenClock(datetime.datetime):
    """datetime.datetime whose clock reads `at` (naive UTC, as utcnow())."""
    at = None

    @classmethod
    def utcnow(cls):
        return cls.at

    @classmethod
    def now(cls, tz=None):
        if tz is None:
            return cls.at
        return cls.at.replace(tzinfo=datetime.timezone.utc).astimezone(tz)


# botocore.auth reads the clock through its module global `datetime`
# (datetime.datetime.utcnow() in Debian 12's 1.29): point that global at a
# namespace whose datetime class is frozen.  Later releases call
# get_current_datetime() (naive UTC) instead; freeze that too when present.
botocore.auth.datetime = types.SimpleNamespace(
    datetime=_FrozenClock, timezone=datetime.timezone)
if hasattr(botocore.auth, 'get_current_datetime'):
    botocore.auth.get_current_datetime = lambda *a, **k: _FrozenClock.at


def freeze(stamp):
    _FrozenClock.at = datetime.datetime.strptime(stamp, '%Y%m%dT%H%M%SZ')


def key(k):
    """An object key as botocore's REST serializer puts it in the path."""
    return percent_encode(k, safe='/~')


def q(*pairs):
    """A query as botocore's serializer writes it (order kept)."""
    out = []
    for p in pairs:
        if isinstance(p, str):
            out.append(p)                      # value-less: "uploads"
        else:
            out.append(percent_encode(p[0]) + '=' + percent_encode(p[1]))
    return '&'.join(out)


def md5b64(body):
    return base64.b64encode(hashlib.md5(body.encode()).digest()).decode()


class _S3Auth(botocore.auth.S3SigV4Auth):
    def canonical_request(self, request):
        self.creq = super().canonical_request(request)
        return self.creq


class _S3QueryAuth(botocore.auth.S3SigV4QueryAuth):
    def canonical_request(self, request):
        self.creq = super().canonical_request(request)
        return self.creq


def creds(token):
    return Credentials(AK, SK, TOKEN if token else None)


def full_url(url, query):
    return url + ('?' + query if query is not None else '')


def sign(name, method, url, query=None, headers=(), body='', unsigned=False,
         time='20240102T030405Z', region='us-east-1', token=False):
    freeze(time)
    req = AWSRequest(method=method, url=full_url(url, query),
                     data=body.encode('utf-8'))
    for n, v in headers:              # HTTPHeaders appends: duplicates kept
        req.headers[n] = v
    req.context['client_config'] = Config(
        s3={'payload_signing_enabled': not unsigned})
    auth = _S3Auth(creds(token), 's3', region)
    auth.add_auth(req)
    if req.context['timestamp'] != time:
        sys.exit('sigv4_botocore: clock not frozen (botocore changed?)')
    return {
        'kind': 'sign', 'name': name, 'method': method, 'url': url,
        'query': query, 'host': botocore.auth._host_from_url(url),
        'headers': [list(h) for h in headers], 'body': body,
        'unsigned': unsigned, 'time': time, 'access_key': AK,
        'secret_key': SK, 'region': region, 'token': TOKEN if token else None,
        'creq': auth.creq, 'authorization': req.headers['Authorization'],
    }


def presign(name, method, url, query=None, headers=(), expires=3600,
            time='20240102T030405Z', region='us-east-1', token=False):
    freeze(time)
    req = AWSRequest(method=method, url=full_url(url, query))
    for n, v in headers:
        req.headers[n] = v
    auth = _S3QueryAuth(creds(token), 's3', region, expires=expires)
    auth.add_auth(req)
    if '&X-Amz-Date=%s&' % time not in req.url:
        sys.exit('sigv4_botocore: clock not frozen (botocore changed?)')
    return {
        'kind': 'presign', 'name': name, 'method': method, 'url': url,
        'query': query, 'headers': [list(h) for h in headers],
        'expires': expires, 'time': time, 'access_key': AK,
        'secret_key': SK, 'region': region, 'token': TOKEN if token else None,
        'creq': auth.creq, 'presigned': req.url,
    }


VH = 'https://examplebucket.s3.amazonaws.com'   # virtual-hosted style
PS = 'http://127.0.0.1:8080/bucket'             # path style, own port
EMPTY = ''
XML_COMPLETE = ('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>'
                '<ETag>"a54357aff0632cce46d942af68356b38"</ETag></Part>'
                '</CompleteMultipartUpload>')
XML_DELETE = ('<Delete><Object><Key>a b.txt</Key></Object>'
              '<Object><Key>r\u00e9sum\u00e9.pdf</Key></Object></Delete>')
PART = 'part one of the upload \u2603\n' * 4


def cases():
    # The worked example of the S3 SigV4 documentation (GET with Range).
    yield sign('docs-get-object', 'GET', VH + '/test.txt',
               headers=[('Range', 'bytes=0-9')], time='20130524T000000Z')
    yield sign('put-object', 'PUT', VH + '/test%24file.text',
               headers=[('x-amz-storage-class', 'REDUCED_REDUNDANCY'),
                        ('Content-Type', 'text/plain')],
               body='Welcome to Amazon S3.', time='20130524T000000Z')
    yield sign('key-with-spaces', 'GET', PS + key('/my photo (1).jpg'))
    yield sign('key-unicode', 'PUT',
               PS + key('/r\u00e9sum\u00e9/na\u00efve \u2603 \u65e5\u672c.txt'),
               headers=[('Content-Type', 'text/plain; charset=utf-8')],
               body='h\u00e9llo')
    yield sign('key-reserved-chars', 'GET',
               VH + key("/a+b=c~d&e'f!g*h(i)j,k;l:m@n$o"))
    yield sign('key-folder-marker', 'PUT', PS + key('/dir/sub/'))
    yield sign('key-dot-segments-kept', 'GET', PS + key('/a//b/./c/../d'))
    yield sign('key-percent-literal', 'GET', PS + key('/100% sure.txt'))
    yield sign('head-object', 'HEAD', VH + '/photos/2024/img.jpg',
               headers=[('If-None-Match', '"a54357aff0632cce46d942af68356b38"')])
    yield sign('delete-object', 'DELETE', VH + '/photos/2024/img.jpg')
    yield sign('initiate-multipart', 'POST', PS + key('/big file.bin'),
               query=q('uploads'),
               headers=[('Content-Type', 'application/octet-stream'),
                        ('x-amz-meta-owner', 'user 42'),
                        ('x-amz-server-side-encryption', 'AES256')])
    yield sign('upload-part', 'PUT', PS + key('/big file.bin'),
               query=q(('partNumber', '1'), ('uploadId', UPLOAD_ID)),
               headers=[('Content-MD5', md5b64(PART)),
                        ('Content-Length', str(len(PART.encode())))],
               body=PART)
    yield sign('complete-multipart', 'POST', PS + key('/big file.bin'),
               query=q(('uploadId', UPLOAD_ID)),
               headers=[('Content-Type', 'application/xml')],
               body=XML_COMPLETE)
    yield sign('abort-multipart', 'DELETE', PS + key('/big file.bin'),
               query=q(('uploadId', UPLOAD_ID)))
    yield sign('list-parts', 'GET', PS + key('/big file.bin'),
               query=q(('uploadId', UPLOAD_ID), ('max-parts', '100'),
                       ('part-number-marker', '2')))
    yield sign('list-objects-v2', 'GET', PS,
               query=q(('list-type', '2'), ('prefix', 'photos/2024/'),
                       ('continuation-token',
                        '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wmS5Ebs6KT0='),
                       ('max-keys', '100'), ('delimiter', '/'),
                       ('fetch-owner', 'true'), ('encoding-type', 'url')))
    yield sign('list-unicode-prefix', 'GET', VH + '/',
               query=q(('prefix', '\u2603 snow+man/'), ('delimiter', '/')))
    yield sign('multi-object-delete', 'POST', PS, query=q('delete'),
               headers=[('Content-MD5', md5b64(XML_DELETE)),
                        ('Content-Type', 'application/xml')],
               body=XML_DELETE)
    yield sign('copy-object', 'PUT', PS + key('/copy of a.txt'),
               headers=[('x-amz-copy-source', '/src-bucket/' + key('a b.txt')),
                        ('x-amz-metadata-directive', 'REPLACE'),
                        ('Content-Type', 'text/plain'),
                        ('x-amz-meta-origin', 'copied')])
    yield sign('header-blanks', 'PUT', VH + '/notes.txt',
               headers=[('x-amz-meta-note', '  hello    big   world  '),
                        ('Cache-Control', 'max-age=60,   public'),
                        ('x-amz-meta-tab', 'a\t\tb \t c'),
                        ('Content-Disposition',
                         'attachment;  filename="a  b.txt"')],
               body='notes')
    yield sign('header-case-and-duplicates', 'PUT', VH + '/dup.txt',
               headers=[('X-Amz-Meta-Camel-Case', 'Value'),
                        ('CONTENT-TYPE', 'text/plain'),
                        ('x-amz-meta-dup', 'two'),
                        ('X-AMZ-META-DUP', ' one '),
                        ('x-amz-meta-empty', ''),
                        ('x-amz-tagging', 'project=lenz&tier=a b')],
               body='dup')
    yield sign('unsigned-put', 'PUT', VH + '/stream.bin',
               headers=[('Content-MD5', md5b64(PART))], body=PART,
               unsigned=True)
    yield sign('unsigned-get', 'GET', VH + '/stream.bin',
               headers=[('Range', 'bytes=1048576-2097151')], unsigned=True)
    yield sign('session-token', 'GET', VH + '/secret.txt', token=True)
    yield sign('region-eu-central-1', 'GET',
               'https://examplebucket.s3.eu-central-1.amazonaws.com/a.txt',
               query=q(('versionId',
                        '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nrjfkd'),
                       ('response-content-disposition',
                        'attachment; filename="r\u00e9sum\u00e9.pdf"')),
               region='eu-central-1')
    yield sign('leap-day-tagging', 'PUT', PS + '/a.txt', query=q('tagging'),
               headers=[('Content-MD5', md5b64('<Tagging/>'))],
               body='<Tagging/>', time='20240229T235959Z')
    yield sign('year-end-acl', 'GET', PS + '/a.txt', query=q('acl'),
               time='20231231T235959Z')
    yield sign('default-port-dropped', 'GET',
               'https://s3.example.com:443/bucket/a.txt',
               headers=[('If-Modified-Since', 'Tue, 02 Jan 2024 03:04:05 GMT')])

    yield presign('presign-get', 'GET', VH + '/photos/img.jpg')
    yield presign('presign-get-max-expiry', 'GET', VH + key('/r\u00e9sum\u00e9 1.pdf'),
                  query=q(('response-content-disposition',
                           'attachment; filename="r\u00e9sum\u00e9 1.pdf"'),
                          ('response-content-type', 'application/pdf')),
                  expires=604800)
    yield presign('presign-upload-part', 'PUT', PS + key('/big file.bin'),
                  query=q(('partNumber', '3'), ('uploadId', UPLOAD_ID)),
                  expires=900)
    yield presign('presign-put-content-type', 'PUT', VH + '/up.txt',
                  headers=[('Content-Type', 'text/plain')], expires=60)
    yield presign('presign-head-1s', 'HEAD', VH + '/a.txt', expires=1,
                  time='20240229T235959Z')
    yield presign('presign-delete-own-port', 'DELETE',
                  'http://127.0.0.1:9000/bucket/' + key('x+y=z~.txt'),
                  expires=300)
    yield presign('presign-default-port', 'GET',
                  'https://s3.example.com:443/bucket/' + key('a b/c.txt'),
                  region='eu-west-3')
    yield presign('presign-session-token', 'GET', VH + '/secret.txt',
                  expires=7200, token=True)
    yield presign('presign-initiate', 'POST', PS + '/new.bin',
                  query=q('uploads'), expires=600)


def main():
    for c in cases():
        sys.stdout.write(json.dumps(c, sort_keys=True) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
