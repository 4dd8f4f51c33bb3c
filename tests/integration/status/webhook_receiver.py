#!/usr/bin/env python3
"""A webhook receiver for status_page.sh, on loopback.

usage: webhook_receiver.py PORT SECRET_FILE LOG

Checks X-Drydock-Signature (HMAC-SHA256 of the body with the secret),
answers 500 to the very first request it gets (so that drydock must
retry), 401 to a bad signature, and 204 otherwise. Every request is one
JSON line in LOG: {"delivery", "event", "signature_ok", "answer"}.
"""
import hashlib
import hmac
import http.server
import json
import sys

port, secret_file, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
secret = open(secret_file, "rb").read().strip()
state = {"requests": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Drydock-Signature", "")
        ok = hmac.compare_digest(want, got)
        try:
            json.loads(body)
            is_json = True
        except ValueError:
            is_json = False
        state["requests"] += 1
        answer = 500 if state["requests"] == 1 else (204 if ok and is_json else 401)
        with open(log_path, "a") as log:
            log.write(json.dumps({"delivery": self.headers.get("X-Drydock-Delivery"),
                                  "event": self.headers.get("X-Drydock-Event"),
                                  "signature_ok": ok, "json": is_json,
                                  "answer": answer}) + "\n")
        self.send_response(answer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
