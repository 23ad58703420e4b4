#!/usr/bin/python3
"""A registry token server for tests, after the distribution token spec
(docs/spec/auth/token.md in distribution 2.8): GET /token?service=S&scope=
repository:NAME:ACTIONS answers {"token": JWT} (or {"access_token": JWT}),
the JWT signed RS256 with a key whose certificate the registry trusts
(auth.token.rootcertbundle) and carried in the header's x5c.

python3 has no RSA in its standard library: `openssl dgst -sign` signs.

--users USER:PASS (repeatable) makes Basic credentials mandatory; without it
anonymous clients get pull access. Files in --state change behaviour while
it runs: `expire_next` (a count: the next N tokens are already expired),
`token_key` ("token" or "access_token": the JSON key of the answer).
Every request is logged to --log as "PATH QUERY auth=USER|none|bad".
"""
import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Config:
    key = cert_der = issuer = service = state = log = None
    users = {}
    lock = threading.Lock()


def read_state(name, default):
    try:
        with open(os.path.join(Config.state, name)) as f:
            return f.read().strip() or default
    except OSError:
        return default


def take_expired():
    with Config.lock:
        n = int(read_state("expire_next", "0"))
        if n <= 0:
            return False
        with open(os.path.join(Config.state, "expire_next"), "w") as f:
            f.write(str(n - 1))
        return True


def sign(claims):
    header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(Config.cert_der).decode()]}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", Config.key], input=signing_input.encode(),
                         capture_output=True, check=True).stdout
    return signing_input + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def who(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return None if not auth else "bad"
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except Exception:
            return "bad"
        return user if Config.users.get(user) == password else "bad"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        user = self.who()
        with open(Config.log, "a") as f:
            f.write(f"{url.path} {url.query} auth={user or 'none'}\n")
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
        if query.get("service") != [Config.service]:
            return self.reply(400, {"errors": [{"code": "INVALID_SERVICE", "message": "wrong service"}]})
        if user == "bad" or (Config.users and user is None):
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                              [("WWW-Authenticate", 'Basic realm="airlock-test"')])
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = actions.split(",")
            granted = [a for a in wanted if a == "pull" or (user is not None and a in ("push", "delete"))]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        exp = now - 600 if take_expired() else now + 300
        claims = {"iss": Config.issuer, "sub": user or "", "aud": Config.service, "exp": exp, "nbf": now - 10,
                  "iat": now, "jti": secrets.token_hex(16), "access": access}
        key = read_state("token_key", "token")
        self.reply(200, {key: sign(claims), "expires_in": 300})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--users", action="append", default=[])
    ap.add_argument("--state", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    Config.key, Config.issuer, Config.service, Config.state, Config.log = a.key, a.issuer, a.service, a.state, a.log
    Config.cert_der = subprocess.run(["openssl", "x509", "-in", a.cert, "-outform", "DER"], capture_output=True,
                                     check=True).stdout
    Config.users = dict(u.split(":", 1) for u in a.users)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{server.server_address[1]}\n")
    os.rename(tmp, a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
