#!/usr/bin/env python3
"""s3tool.py - a minimal S3 client and fault proxy for the S3 integration test.

  s3tool.py ls BUCKET PREFIX          every key under PREFIX, one a line
  s3tool.py du BUCKET PREFIX          total bytes of the objects under PREFIX
  s3tool.py uploads BUCKET PREFIX     unfinished multipart uploads under PREFIX
  s3tool.py get BUCKET KEY            the object on stdout
  s3tool.py put BUCKET KEY FILE       store FILE as KEY
  s3tool.py proxy LISTEN_PORT EVERY LOG   forward to the endpoint, answering
                                      every EVERY-th request with 503 SlowDown
                                      (counted in LOG); loopback only
  s3tool.py tls LISTEN_PORT CERT KEY  terminate TLS in front of the endpoint
                                      (a plain-HTTP Swift), for tools that
                                      speak S3 only over https (pgBackRest)

Endpoint and keys come from S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY,
S3_REGION (what swift-s3-local prints). SigV4 is signed here by hand, for the
test only: drydock itself signs through libcurl.
"""
import datetime, hashlib, hmac, http.client, http.server, os, sys, threading
import urllib.parse, xml.etree.ElementTree as ET

EP = urllib.parse.urlparse(os.environ["S3_ENDPOINT"])
AK, SK = os.environ["S3_ACCESS_KEY"], os.environ["S3_SECRET_KEY"]
REGION = os.environ.get("S3_REGION", "us-east-1")


def q(s, safe="/"):
    return urllib.parse.quote(s, safe=safe + "-_.~")


def request(method, path, query=None, body=b""):
    query = query or {}
    now = datetime.datetime.utcnow()
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    cq = "&".join(f"{q(k, '')}={q(v, '')}" for k, v in sorted(query.items()))
    h = {"host": EP.netloc, "x-amz-date": amz, "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    signed = ";".join(sorted(h))
    creq = "\n".join([method, q(path), cq, "".join(f"{k}:{h[k]}\n" for k in sorted(h)), signed, h["x-amz-content-sha256"]])
    scope = f"{day}/{REGION}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + SK).encode()
    for part in (day, REGION, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h["Authorization"] = f"AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={signed}, Signature={sig}"
    c = http.client.HTTPConnection(EP.hostname, EP.port, timeout=30)
    c.request(method, q(path) + ("?" + cq if cq else ""), body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit(f"s3tool: {method} {path}: HTTP {r.status} {data[:200]!r}")
    return data


def strip(tag):
    return tag.split("}")[-1]


def ls(bucket, prefix, sizes=None):
    token = None
    while True:
        query = {"list-type": "2", "prefix": prefix}
        if token:
            query["continuation-token"] = token
        root = ET.fromstring(request("GET", f"/{bucket}", query))
        for c in root:
            if strip(c.tag) == "Contents":
                if sizes is not None:
                    sizes.append(int(next(x.text for x in c if strip(x.tag) == "Size")))
                else:
                    print(next(x.text for x in c if strip(x.tag) == "Key"))
        nxt = [x.text for x in root if strip(x.tag) == "NextContinuationToken"]
        if not nxt:
            return
        token = nxt[0]


def uploads(bucket, prefix):
    root = ET.fromstring(request("GET", f"/{bucket}", {"uploads": "", "prefix": prefix}))
    for u in root:
        if strip(u.tag) == "Upload":
            print(next(x.text for x in u if strip(x.tag) == "Key"))


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with Proxy.lock:
            Proxy.count += 1
            inject = Proxy.count % Proxy.every == 0
        if inject:
            with open(Proxy.log, "a") as f:
                f.write(f"503 {self.command} {self.path}\n")
            msg = b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
            self.send_response(503)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(msg)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(msg)
            return
        c = http.client.HTTPConnection(EP.hostname, EP.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        c.request(self.command, self.path, body=body if (n or self.command in ("PUT", "POST")) else None, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        length = r.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one


def tls_terminator(port, cert, key):
    import socket, ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    # Loopback only, both families: "localhost" may resolve to either.
    socks = []
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            ls = socket.socket(fam, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((addr, port))
            ls.listen(64)
            socks.append(ls)
        except OSError:
            pass

    def pump(a, b):
        try:
            while True:
                data = a.recv(1 << 20)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve(conn):
        try:
            t = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        up = socket.create_connection((EP.hostname, EP.port))
        threading.Thread(target=pump, args=(t, up), daemon=True).start()
        pump(up, t)

    def accept_loop(ls):
        while True:
            conn, _ = ls.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    for ls in socks[1:]:
        threading.Thread(target=accept_loop, args=(ls,), daemon=True).start()
    accept_loop(socks[0])


def main():
    cmd = sys.argv[1]
    if cmd == "ls":
        ls(sys.argv[2], sys.argv[3])
    elif cmd == "du":
        sizes = []
        ls(sys.argv[2], sys.argv[3], sizes)
        print(sum(sizes))
    elif cmd == "uploads":
        uploads(sys.argv[2], sys.argv[3])
    elif cmd == "get":
        sys.stdout.buffer.write(request("GET", f"/{sys.argv[2]}/{sys.argv[3]}"))
    elif cmd == "put":
        request("PUT", f"/{sys.argv[2]}/{sys.argv[3]}", body=open(sys.argv[4], "rb").read())
    elif cmd == "proxy":
        Proxy.every, Proxy.log = int(sys.argv[3]), sys.argv[4]
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Proxy)
        srv.serve_forever()
    elif cmd == "tls":
        tls_terminator(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
