#!/usr/bin/env python3
"""A Python package index on loopback for the [[wheels]] e2e tests.

Serves the files in ROOT/files/ and, for each project found there, a project
page at /simple/<normalized-name>/ in the format the client asks for with
Accept (PEP 691 content negotiation):
  application/vnd.pypi.simple.v1+json  PEP 691 JSON (files[].filename, url,
                                       hashes{sha256}, size unless --no-size)
  application/vnd.pypi.simple.v1+html  PEP 503 HTML (anchors, #sha256=...)
  text/html                            the same HTML
The best quality wins (ties: JSON first); nothing acceptable is 406.
Unknown projects are 404. Each request is logged as
"GET PATH accept=ACCEPT -> CONTENT-TYPE STATUS". Standard library only.
"""
import argparse
import hashlib
import html
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_V1_TYPE = "application/vnd.pypi.simple.v1+html"
HTML_TYPE = "text/html"


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename):
    if filename.endswith(".whl"):
        return normalize(filename.split("-")[0])
    for ext in (".tar.gz", ".zip"):
        if filename.endswith(ext):
            return normalize(filename[: -len(ext)].rsplit("-", 1)[0])
    return None


def parse_accept(value):
    """[(media_type, q)] from an Accept header."""
    out = []
    for part in (value or "*/*").split(","):
        fields = [f.strip() for f in part.split(";")]
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if fields[0]:
            out.append((fields[0].lower(), q))
    return out


def negotiate(accept):
    best, best_q = None, 0.0
    for offered in (JSON_TYPE, HTML_V1_TYPE, HTML_TYPE):
        q = 0.0
        for media, mq in parse_accept(accept):
            if media == offered or media == "*/*" or (media.endswith("/*") and offered.startswith(media[:-1])):
                q = max(q, mq)
        if q > best_q:
            best, best_q = offered, q
    return best


class Handler(BaseHTTPRequestHandler):
    server_version = "airlock-test-index/1"

    def log_message(self, fmt, *args):
        pass

    def log(self, ctype, status):
        with open(self.server.log_path, "a") as f:
            f.write(f"{self.command} {self.path} accept={self.headers.get('Accept', '')} -> {ctype} {status}\n")

    def send(self, status, ctype, body, head=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.log(ctype, status)

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def files(self):
        d = os.path.join(self.server.root, "files")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def handle_request(self, head):
        path = self.path.split("?", 1)[0]
        if path.startswith("/files/"):
            name = path[len("/files/"):]
            full = os.path.join(self.server.root, "files", name)
            if "/" in name or not os.path.isfile(full):
                return self.send(404, "text/plain", b"not found\n", head)
            return self.send(200, "application/octet-stream", open(full, "rb").read(), head)
        m = re.fullmatch(r"/simple/([^/]+)/", path)
        if not m:
            return self.send(404, "text/plain", b"not found\n", head)
        project = m.group(1)
        files = [f for f in self.files() if project_of(f) == project]
        if not files:
            return self.send(404, "text/plain", b"no such project\n", head)
        ctype = negotiate(self.headers.get("Accept"))
        if ctype is None:
            return self.send(406, "text/plain", b"not acceptable\n", head)
        entries = []
        for f in files:
            data = open(os.path.join(self.server.root, "files", f), "rb").read()
            entries.append((f, hashlib.sha256(data).hexdigest(), len(data)))
        if ctype == JSON_TYPE:
            doc = {"meta": {"api-version": "1.1"}, "name": project, "versions": [], "files": []}
            for f, sha, size in entries:
                e = {"filename": f, "url": "../../files/" + f, "hashes": {"sha256": sha}}
                if not self.server.no_size:
                    e["size"] = size
                doc["files"].append(e)
            body = json.dumps(doc).encode()
        else:
            links = "".join(
                f'<a href="/files/{html.escape(f)}#sha256={sha}">{html.escape(f)}</a><br/>\n' for f, sha, _ in entries)
            body = f"<!DOCTYPE html>\n<html><body><h1>Links for {project}</h1>\n{links}</body></html>\n".encode()
        return self.send(200, ctype, body, head)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--no-size", action="store_true", help="leave 'size' out of the JSON")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.root, srv.log_path, srv.no_size = a.root, a.log, a.no_size
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
