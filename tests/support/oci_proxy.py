#!/usr/bin/python3
"""A misbehaving front for a registry, for tests: relays GET and HEAD to
--upstream (a docker-registry without auth) and, per files in --state read
on every request, lies or gets in the way:

  bearer            demand `Authorization: Bearer <file content>` on /v2/…,
                    answering 401 with a challenge whose realm is this
                    proxy's /token (which hands out that token);
  redirect_blobs    answer blob GETs with 307 to a second port (a "CDN",
                    another origin) that relays them and refuses, with 400,
                    any request carrying an Authorization header;
  drop_digest       remove Docker-Content-Digest from answers;
  corrupt           a digest: flip one byte of any answer for a path that
                    ends in it (a manifest or a blob).

Every request is logged to --log as "ROLE METHOD PATH auth=HEADER|none".
"""
import argparse
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RELAYED = ("Content-Type", "Docker-Content-Digest", "Docker-Distribution-Api-Version", "Location")


class Config:
    upstream = state = log = None
    proxy_port = cdn_port = 0
    lock = threading.Lock()


def state(name):
    try:
        with open(os.path.join(Config.state, name)) as f:
            return f.read().strip()
    except OSError:
        return None


def make_handler(role):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def relay(self, path):
            req = urllib.request.Request(Config.upstream + path, method=self.command)
            if self.headers.get("Accept"):
                req.add_header("Accept", self.headers["Accept"])
            try:
                resp = urllib.request.urlopen(req)
                status, body, headers = resp.status, resp.read(), resp.headers
            except urllib.error.HTTPError as e:
                status, body, headers = e.code, e.read(), e.headers
            out = [(k, headers[k]) for k in RELAYED if headers.get(k) is not None]
            if state("drop_digest") is not None:
                out = [(k, v) for k, v in out if k != "Docker-Content-Digest"]
            bad = state("corrupt")
            if bad and path.split("?")[0].endswith(bad) and body:
                body = bytearray(body)
                body[len(body) // 2] ^= 0x01
                body = bytes(body)
            self.send(status, body, out)

        def do_GET(self):
            auth = self.headers.get("Authorization")
            with Config.lock, open(Config.log, "a") as f:
                f.write(f"{role} {self.command} {self.path} auth={auth or 'none'}\n")
            if role == "cdn":
                if auth:
                    return self.send(400, b'{"error": "the CDN got an Authorization header"}')
                return self.relay(self.path[len("/cdn"):])
            token = state("bearer")
            if self.path.startswith("/token"):
                return self.send(200, ('{"token": "%s"}' % token).encode(), [("Content-Type", "application/json")])
            if token and self.path.startswith("/v2/") and auth != "Bearer " + token:
                challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="proxy"' % Config.proxy_port
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}',
                                 [("WWW-Authenticate", challenge), ("Content-Type", "application/json")])
            if state("redirect_blobs") is not None and "/blobs/" in self.path and self.command == "GET":
                return self.send(307, b"", [("Location", "http://127.0.0.1:%d/cdn%s" % (Config.cdn_port, self.path))])
            return self.relay(self.path)

        do_HEAD = do_GET

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ports-file", required=True)
    a = ap.parse_args()
    Config.upstream, Config.state, Config.log = a.upstream.rstrip("/"), a.state, a.log
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), make_handler("proxy"))
    cdn = ThreadingHTTPServer(("127.0.0.1", 0), make_handler("cdn"))
    Config.proxy_port, Config.cdn_port = proxy.server_address[1], cdn.server_address[1]
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    tmp = a.ports_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{Config.proxy_port} {Config.cdn_port}\n")
    os.rename(tmp, a.ports_file)
    proxy.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
