#!/usr/bin/env python3
"""s3cond.py - an S3 front that honours conditional PUTs, for s3_push.sh.

  s3cond.py LISTEN_PORT LOG

Swift's s3api (2.30) answers a PUT carrying If-None-Match: * with 501, so
drydock falls back to HEAD then PUT there. This front, on loopback, stands
for a service that honours it (AWS S3, MinIO, Ceph RGW): it forwards every
request to S3_ENDPOINT unchanged, as s3tool.py's proxy does, and appends
"METHOD PATH" to LOG for each, except a PUT with If-None-Match: *, which it
serves itself under one lock: a HEAD of the key, then 412 if it exists,
else the PUT (signed here), so that of two racing writers exactly one wins.
"""
import hashlib, http.client, http.server, os, sys, threading, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3tool  # noqa: E402  (endpoint, keys and signing helpers)

EP = s3tool.EP
COND = threading.Lock()


def signed(method, path, body=b""):
    """Send one request signed with the test's keys; (status, body)."""
    import datetime, hmac
    now = datetime.datetime.utcnow()
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    h = {"host": EP.netloc, "x-amz-date": amz, "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    names = ";".join(sorted(h))
    creq = "\n".join([method, s3tool.q(path), "", "".join(f"{k}:{h[k]}\n" for k in sorted(h)), names,
                      h["x-amz-content-sha256"]])
    scope = f"{day}/{s3tool.REGION}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + s3tool.SK).encode()
    for part in (day, s3tool.REGION, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h["Authorization"] = f"AWS4-HMAC-SHA256 Credential={s3tool.AK}/{scope}, SignedHeaders={names}, Signature={sig}"
    c = http.client.HTTPConnection(EP.hostname, EP.port, timeout=60)
    c.request(method, s3tool.q(path), body=body if method == "PUT" else None, headers=h)
    r = c.getresponse()
    return r.status, r.read(), r.getheader("ETag", "")


class Front(s3tool.Proxy):

    def reply(self, status, body=b"", etag=""):
        self.send_response(status)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_one(self):
        with open(Front.log, "a") as f:
            f.write(f"{self.command} {self.path}\n")
        if self.command != "PUT" or self.headers.get("If-None-Match") != "*" or "?" in self.path:
            return super().handle_one()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = urllib.parse.unquote(self.path)
        with COND:
            st, _, _ = signed("HEAD", path)
            if st == 200:
                return self.reply(412, b"<?xml version='1.0'?><Error><Code>PreconditionFailed</Code>"
                                       b"<Message>At least one of the pre-conditions you specified did not hold"
                                       b"</Message></Error>")
            st, data, etag = signed("PUT", path, body)
        self.reply(st, data, etag)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one


if __name__ == "__main__":
    s3tool.Proxy.every = 1 << 62  # never inject a 503
    Front.log = sys.argv[2]
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Front).serve_forever()
