#!/usr/bin/python3
"""A small Hugging Face Hub emulator for the e2e tests (python3 stdlib only).

It follows the parts of the Hub's HTTP API that huggingface_hub (and
airlock-bundler) use, with the same headers and error codes:

  GET  /api/models/ORG/NAME/revision/REV[?blobs=true]
       JSON {_id, id, modelId, author, sha, lastModified, private, gated,
       disabled, siblings[{rfilename[, size, blobId, lfs{size, sha256,
       pointerSize}]}], ...}; REV is one URL-encoded path segment: a ref,
       HEAD (the default branch) or a commit id.
  GET  /api/models/ORG/NAME
       the same at the default branch (expand[] parameters are ignored).
  GET  /api/models/ORG/NAME/refs
       {branches: [{name, ref: "refs/heads/NAME", targetCommit}], tags:
       [...  "refs/tags/NAME" ...], converts: []}.
  GET  /api/models/ORG/NAME/tree/REV[/PATH][?recursive=true][&expand=true][&cursor=C]
       a JSON list of {type: "file"|"directory", oid, size, path[, lfs{oid,
       size, pointerSize}]}, paginated: `Link: <URL>; rel="next"`; with
       expand also lastCommit{id, title, date} and (files)
       securityFileStatus.
  POST /api/models/ORG/NAME/paths-info/REV
       body JSON {paths: [...], expand} (the JS client) or a form
       paths=..&expand=.. (huggingface_hub): the tree entries of those paths
       that exist, in the order asked.
  HEAD|GET /ORG/NAME/raw/REV/PATH
       what git holds: a git file's bytes, an LFS file's pointer.
  HEAD|GET /ORG/NAME/resolve/REV/PATH
       LFS files: 302 to the CDN (a second listening port, so another
       origin) with X-Repo-Commit, X-Linked-Etag ("sha256"), X-Linked-Size,
       ETag (the pointer's git blob sha1) and Location.
       Git files: 200 with ETag ("git blob sha1"), X-Repo-Commit, Range/206.
  GET  (CDN) /repos/ORG/NAME/SHA256?Expires=..&Signature=..
       the bytes, with Range/206 (200 without Range, 416 past the end); 400
       when an Authorization header reaches it (as S3 answers a request that
       carries both a signed URL and an Authorization header), 403 when the
       signature does not match.

Errors carry X-Error-Code / X-Error-Message as the Hub sends them:
RepoNotFound (404 with a valid token; on /resolve/ 401 when anonymous; on
/api/ an anonymous request gets a bare 401 "Invalid username or password."
for a missing or private repo), RevisionNotFound 404, EntryNotFound 404,
GatedRepo (401 anonymous, 403 with a valid token that has no access), and
401 "Invalid credentials in Authorization header" for a token the Hub does
not know.

Repositories live under ROOT/ORG/NAME/ (the files of the default branch,
and of every ref without a folder of its own); ROOT/ORG/NAME@REF/ holds the
files of ref REF ('/' in it written %2F), so a tag can point at an older
commit. An optional ROOT/ORG/NAME.json configures the repository, read
again on every request so that a test can change it between runs:

  {"refs": ["main", "v1.0"],        refs (default ["main"]); "main", or else the
                                    first, is the default branch, the others tags
   "branches": ["dev"],             refs that are branches, not tags
   "private": false, "gated": false | "auto" | "manual",
   "allowed_tokens": ["hf_..."],    who may read a private or gated repo
   "lfs": ["*.safetensors"],        globs stored with LFS (default: the
   "lfs_threshold": 10485760,       Hub's .gitattributes list), and files
                                    at least this big (default 10 MiB)
   "lie": ["PATH"],                 serve these files with a flipped byte
   "drop_after": {"PATH": N}}       close the connection after byte N of
                                    the file, once per file per process

An optional ROOT/hub.json {"tokens": ["hf_..."]} lists the tokens the Hub
knows; without it every token is valid.

Each ref's commit id is the SHA-1 of its tree listing (paths and blob ids),
so it changes whenever a file does, and every endpoint answers a ref with
its own commit. There is no history: a path's lastCommit is the commit
itself. A 404 for a missing file still carries X-Repo-Commit. Every request is logged, one line each, with
its Range and whether it carried Authorization (never the token itself).

Usage: hub_emulator.py --root DIR --ports-file FILE --log FILE [--page-size N]
The ports file gets "HUB_PORT CDN_PORT" once both are listening.
"""

import argparse
import base64
import fnmatch
import hashlib
import hmac
import json
import os
import posixpath
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_DEFAULT = ["*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt", "*.h5", "*.msgpack", "*.onnx",
               "*.gguf", "*.ot", "*.tflite", "*.npz", "*.pkl", "*.model", "*.tar.*", "*.zip", "*.zst"]
LFS_THRESHOLD_DEFAULT = 10 * 1024 * 1024
REPO_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
SECRET = os.urandom(16)


class State:
    def __init__(self, root, log_path, page_size):
        self.root = root
        self.page_size = page_size
        self.log_lock = threading.Lock()
        self.log_file = open(log_path, "a", buffering=1)
        self.hash_cache = {}  # (path, size, mtime_ns) -> (sha256, git sha1)
        self.hash_lock = threading.Lock()
        self.dropped = set()  # (repo, path) already dropped once
        self.drop_lock = threading.Lock()
        self.cdn_base = None

    def log(self, line):
        with self.log_lock:
            self.log_file.write(line + "\n")


STATE = None


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256, size):
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def read_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def file_hashes(path):
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    with STATE.hash_lock:
        hit = STATE.hash_cache.get(key)
    if hit:
        return hit
    with open(path, "rb") as f:
        data = f.read()
    value = (hashlib.sha256(data).hexdigest(), git_blob_sha1(data))
    with STATE.hash_lock:
        STATE.hash_cache[key] = value
    return value


class Tree:
    """The files of one commit: ROOT/ORG/NAME/ (the default branch) or ROOT/ORG/NAME@REF/."""

    def __init__(self, repo_id, directory, config):
        lfs_globs = config.get("lfs", LFS_DEFAULT)
        threshold = config.get("lfs_threshold", LFS_THRESHOLD_DEFAULT)
        self.dir = directory
        self.files = {}  # path -> dict(size, sha256, sha1, lfs, oid, abs)
        for base, dirs, names in os.walk(directory):
            dirs.sort()
            for n in sorted(names):
                absolute = os.path.join(base, n)
                rel = os.path.relpath(absolute, directory).replace(os.sep, "/")
                size = os.path.getsize(absolute)
                sha256, sha1 = file_hashes(absolute)
                lfs = size >= threshold or any(fnmatch.fnmatch(posixpath.basename(rel), g) or fnmatch.fnmatch(rel, g)
                                               for g in lfs_globs)
                # The tree's oid of an LFS file is the git blob id of its pointer file.
                oid = git_blob_sha1(lfs_pointer(sha256, size)) if lfs else sha1
                self.files[rel] = dict(size=size, sha256=sha256, sha1=sha1, lfs=lfs, oid=oid, abs=absolute)
        listing = "".join(f"{p}\0{f['oid']}\n" for p, f in sorted(self.files.items()))
        self.commit = hashlib.sha1(("commit\0" + repo_id + "\0" + listing).encode()).hexdigest()


class Repo:
    """One repository: its refs, each ref's tree, which files are LFS, and the commits."""

    def __init__(self, repo_id):
        org, name = repo_id.split("/")
        self.id = repo_id
        self.dir = os.path.join(STATE.root, org, name)
        self.config = read_json(os.path.join(STATE.root, org, name + ".json"), {})
        self.refs = self.config.get("refs", ["main"])
        self.main = Tree(repo_id, self.dir, self.config)
        self.trees = {}  # ref -> Tree
        for ref in self.refs:
            pinned = os.path.join(STATE.root, org, f"{name}@{ref.replace('/', '%2F')}")
            self.trees[ref] = Tree(repo_id, pinned, self.config) if os.path.isdir(pinned) else self.main
        self.default_branch = "main" if "main" in self.refs or not self.refs else self.refs[0]
        # Branches: the default one and those listed as "branches"; every other ref is a tag.
        self.branches = [r for r in self.refs if r == self.default_branch or r in self.config.get("branches", [])]
        self.commit = self.trees.get(self.default_branch, self.main).commit

    @staticmethod
    def load(repo_id):
        org, name = repo_id.split("/")
        if not (REPO_PART.match(org) and REPO_PART.match(name)) or ".." in repo_id:
            return None
        if not os.path.isdir(os.path.join(STATE.root, org, name)):
            return None
        return Repo(repo_id)

    def resolve_rev(self, rev):
        """The tree a revision names (a ref, HEAD, or a commit id of one), or None."""
        if rev == "HEAD":
            rev = self.default_branch
        if rev in self.trees:
            return self.trees[rev]
        for t in list(self.trees.values()) + [self.main]:
            if rev == t.commit:
                return t
        return None

    def bytes_of(self, tree, path):
        f = tree.files[path]
        with open(f["abs"], "rb") as fh:
            data = fh.read()
        if path in self.config.get("lie", []) and data:
            # Same size, one flipped byte in the middle: only the hash can tell.
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
        return data


def directories(tree):
    dirs = set()
    for p in tree.files:
        parts = p.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return dirs


LAST_MODIFIED = "2024-07-18T08:56:00.000Z"


def entry_of(tree, path, expand):
    """A /tree/ or /paths-info/ entry, as the Hub lists it."""
    if path in tree.files:
        f = tree.files[path]
        e = {"type": "file", "oid": f["oid"], "size": f["size"], "path": path}
        if f["lfs"]:
            e["lfs"] = {"oid": f["sha256"], "size": f["size"], "pointerSize": len(lfs_pointer(f["sha256"], f["size"]))}
    else:
        oid = hashlib.sha1(("tree\0" + path + "".join(p for p in tree.files if p.startswith(path + "/"))).encode())
        e = {"type": "directory", "oid": oid.hexdigest(), "size": 0, "path": path}
    if expand:
        # The emulator keeps no history: every path was last changed by the commit itself.
        e["lastCommit"] = {"id": tree.commit, "title": "Upload folder using huggingface_hub", "date": LAST_MODIFIED}
        if e["type"] == "file":
            e["securityFileStatus"] = {"status": "safe", "avScan": {"virusFound": False},
                                       "pickleImportScan": {"highestSafetyLevel": "innocuous", "imports": []}}
    return e


def known_tokens():
    cfg = read_json(os.path.join(STATE.root, "hub.json"), {})
    return cfg.get("tokens")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hub-emulator/1.0"
    role = "hub"

    def log_message(self, fmt, *args):  # quiet stderr; we keep our own log
        pass

    # ---------------------------------------------------------------- replies
    def send(self, status, body=b"", headers=(), content_type="application/json"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self._status = status
        if self.command != "HEAD":
            self.wfile.write(body)

    def hub_error(self, status, code, message):
        headers = [("X-Error-Message", message)]
        if code:
            headers.append(("X-Error-Code", code))
        self.send(status, json.dumps({"error": message}), headers)

    def bearer(self):
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        return auth[len("Bearer "):] if auth.startswith("Bearer ") else auth

    # ---------------------------------------------------------------- dispatch
    def handle_any(self):
        self._status = 0
        self._dropped = False
        start = time.time()
        try:
            if self.role == "cdn":
                self.cdn()
            else:
                self.hub()
        finally:
            STATE.log(f"{self.role} {self.command} {self.path} range={self.headers.get('Range', '-')} "
                      f"auth={'yes' if self.headers.get('Authorization') else 'no'} status={self._status}"
                      f"{' dropped' if self._dropped else ''} ms={int((time.time() - start) * 1000)}")

    do_GET = handle_any
    do_HEAD = handle_any
    do_POST = handle_any

    def hub(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        segments = url.path.split("/")[1:]  # still percent-encoded
        token = self.bearer()
        tokens = known_tokens()
        if token is not None and tokens is not None and token not in tokens:
            return self.hub_error(401, None, "Invalid credentials in Authorization header")
        api = len(segments) >= 4 and segments[0] == "api" and segments[1] == "models"
        if api:
            repo_id = "/".join(urllib.parse.unquote(s) for s in segments[2:4])
            if len(segments) == 4 and self.command in ("GET", "HEAD"):
                return self.api("revision", repo_id, "HEAD", "", query, token)  # model info, default branch
            if len(segments) == 5 and segments[4] == "refs" and self.command == "GET":
                return self.refs(repo_id, token)
            if len(segments) >= 6 and segments[4] in ("revision", "tree") and self.command in ("GET", "HEAD"):
                rev = urllib.parse.unquote(segments[5])
                sub = "/".join(urllib.parse.unquote(s) for s in segments[6:])
                return self.api(segments[4], repo_id, rev, sub, query, token)
            if len(segments) == 6 and segments[4] == "paths-info" and self.command == "POST":
                return self.paths_info(repo_id, urllib.parse.unquote(segments[5]), token)
        if len(segments) >= 5 and segments[2] in ("resolve", "raw") and self.command in ("GET", "HEAD"):
            repo_id = "/".join(urllib.parse.unquote(s) for s in segments[0:2])
            rev = urllib.parse.unquote(segments[3])
            path = "/".join(urllib.parse.unquote(s) for s in segments[4:])
            return self.resolve(repo_id, rev, path, token, raw=segments[2] == "raw")
        return self.send(404, "Not Found", content_type="text/plain")

    def form(self):
        """The request body: JSON (the JS client) or a form (huggingface_hub), as a dict of lists."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                data = json.loads(body or "{}")
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            return {k: v if isinstance(v, list) else [v] for k, v in data.items()}
        return urllib.parse.parse_qs(body)

    def repo_access(self, repo_id, token, api):
        """The repo, or None after answering the error the Hub gives."""
        repo = Repo.load(repo_id)
        allowed = repo is not None and (not repo.config.get("private") or token in repo.config.get("allowed_tokens", []))
        if not allowed:
            if token is None:
                # Anonymous: the Hub does not tell a missing repo from a private one.
                if api:
                    self.hub_error(401, None, "Invalid username or password.")
                else:
                    self.hub_error(401, "RepoNotFound", "Invalid username or password.")
            else:
                self.hub_error(404, "RepoNotFound", "Repository not found")
            return None
        return repo

    def api(self, kind, repo_id, rev, sub, query, token):
        repo = self.repo_access(repo_id, token, api=True)
        if repo is None:
            return
        tree = repo.resolve_rev(rev)
        if tree is None:
            return self.hub_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        commit = tree.commit
        if kind == "revision":
            if sub:
                return self.send(404, "Not Found", content_type="text/plain")
            blobs = query.get("blobs", ["false"])[0].lower() in ("true", "1")
            siblings = []
            for p, f in sorted(tree.files.items()):
                s = {"rfilename": p}
                if blobs:
                    s.update(size=f["size"], blobId=f["oid"])
                    if f["lfs"]:
                        s["lfs"] = {"size": f["size"], "sha256": f["sha256"],
                                    "pointerSize": len(lfs_pointer(f["sha256"], f["size"]))}
                siblings.append(s)
            org = repo_id.split("/")[0]
            info = {"_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id, "modelId": repo_id,
                    "author": org, "sha": commit, "lastModified": LAST_MODIFIED,
                    "private": bool(repo.config.get("private")), "gated": repo.config.get("gated", False),
                    "disabled": False, "downloads": 0, "likes": 0, "tags": [], "library_name": "transformers",
                    "pipeline_tag": "text-generation", "siblings": siblings, "createdAt": LAST_MODIFIED,
                    "usedStorage": sum(f["size"] for f in tree.files.values())}
            return self.send(200, json.dumps(info), [("X-Repo-Commit", commit)])
        # tree
        recursive = query.get("recursive", ["false"])[0].lower() in ("true", "1")
        expand = query.get("expand", ["false"])[0].lower() in ("true", "1")
        dirs = directories(tree)
        if sub and sub not in dirs:
            if sub in tree.files:
                return self.hub_error(404, "EntryNotFound", f"{sub} is a file, not a directory")
            return self.hub_error(404, "EntryNotFound", f"Entry not found: {sub}")
        prefix = sub + "/" if sub else ""
        entries = []
        for d in sorted(dirs):
            if d.startswith(prefix) and (recursive or "/" not in d[len(prefix):]):
                entries.append(entry_of(tree, d, expand))
        for p in sorted(tree.files):
            if p.startswith(prefix) and (recursive or "/" not in p[len(prefix):]):
                entries.append(entry_of(tree, p, expand))
        offset = 0
        if "cursor" in query:
            try:
                offset = int(base64.urlsafe_b64decode(query["cursor"][0]).decode())
            except ValueError:
                return self.hub_error(400, None, "Invalid cursor")
        page = entries[offset:offset + STATE.page_size]
        headers = [("X-Repo-Commit", commit)]
        if offset + STATE.page_size < len(entries):
            cursor = base64.urlsafe_b64encode(str(offset + STATE.page_size).encode()).decode()
            next_query = urllib.parse.urlencode(
                [(k, v) for k, vs in query.items() if k != "cursor" for v in vs] + [("cursor", cursor)])
            host = self.headers.get("Host", f"127.0.0.1:{self.server.server_address[1]}")
            next_url = f"http://{host}{urllib.parse.urlsplit(self.path).path}?{next_query}"
            headers.append(("Link", f'<{next_url}>; rel="next"'))
        return self.send(200, json.dumps(page), headers)

    def paths_info(self, repo_id, rev, token):
        form = self.form()
        repo = self.repo_access(repo_id, token, api=True)
        if repo is None:
            return
        if form is None:
            return self.hub_error(400, None, "Invalid JSON body")
        tree = repo.resolve_rev(rev)
        if tree is None:
            return self.hub_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        expand = str(form.get("expand", ["false"])[0]).lower() in ("true", "1")
        dirs = directories(tree)
        out = []
        for path in form.get("paths", []):
            if not isinstance(path, str):
                return self.hub_error(400, None, "paths must be strings")
            path = path.strip("/")
            if path in tree.files or path in dirs:  # paths that do not exist are left out, as on the Hub
                out.append(entry_of(tree, path, expand))
        return self.send(200, json.dumps(out), [("X-Repo-Commit", tree.commit)])

    def refs(self, repo_id, token):
        repo = self.repo_access(repo_id, token, api=True)
        if repo is None:
            return
        def ref(name, kind):
            return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": repo.trees[name].commit}
        body = {"branches": [ref(r, "heads") for r in repo.branches],
                "tags": [ref(r, "tags") for r in repo.refs if r not in repo.branches],
                "converts": []}
        return self.send(200, json.dumps(body))

    def resolve(self, repo_id, rev, path, token, raw=False):
        repo = self.repo_access(repo_id, token, api=False)
        if repo is None:
            return
        tree = repo.resolve_rev(rev)
        if tree is None:
            return self.hub_error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        commit = tree.commit
        if repo.config.get("gated") and token not in repo.config.get("allowed_tokens", []):
            if token is None:
                return self.hub_error(401, "GatedRepo", f"Access to model {repo_id} is restricted. You must have "
                                      "access to it and be authenticated to access it. Please log in.")
            host = self.headers.get("Host", "127.0.0.1")
            return self.hub_error(403, "GatedRepo", f"Access to model {repo_id} is restricted and you are not in "
                                  f"the authorized list. Visit http://{host}/{repo_id} to ask for access.")
        f = tree.files.get(path)
        if f is None:
            # The Hub names the commit it looked in, also when the entry is not there.
            return self.send(404, json.dumps({"error": "Entry not found"}),
                             [("X-Error-Code", "EntryNotFound"), ("X-Error-Message", "Entry not found"),
                              ("X-Repo-Commit", commit)])
        common = [("X-Repo-Commit", commit), ("Accept-Ranges", "bytes"), ("Vary", "Origin, Accept-Encoding")]
        if raw:
            # /raw/ serves what git holds: an LFS file's pointer, any other file's bytes.
            if f["lfs"]:
                data = lfs_pointer(f["sha256"], f["size"])
                return self.serve_bytes(repo, None, data, common + [("ETag", f'"{f["oid"]}"')])
            return self.serve_bytes(repo, path, repo.bytes_of(tree, path), common + [("ETag", f'"{f["sha1"]}"')])
        if f["lfs"]:
            expires = str(int(time.time()) + 3600)
            cdn_path = f"/repos/{repo_id}/{f['sha256']}"
            sig = hmac.new(SECRET, (cdn_path + expires).encode(), hashlib.sha256).hexdigest()[:32]
            disposition = urllib.parse.quote(f'inline; filename="{posixpath.basename(path)}"')
            location = (f"{STATE.cdn_base}{cdn_path}?response-content-disposition={disposition}"
                        f"&Expires={expires}&Signature={sig}&Key-Pair-Id=EMULATOR")
            headers = common + [("Location", location), ("ETag", f'"{f["oid"]}"'),
                                ("X-Linked-Etag", f'"{f["sha256"]}"'), ("X-Linked-Size", str(f["size"]))]
            return self.send(302, f"Found. Redirecting to {location}", headers, content_type="text/plain")
        data = repo.bytes_of(tree, path)
        return self.serve_bytes(repo, path, data, common + [("ETag", f'"{f["sha1"]}"')])

    def cdn(self):
        if self.headers.get("Authorization"):
            # S3 refuses a presigned URL that also carries an Authorization header.
            return self.send(400, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidArgument</Code>"
                             "<Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                             "Signature query string parameter or the Authorization header should be specified"
                             "</Message></Error>", content_type="application/xml")
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.split("/")
        if len(parts) != 5 or parts[1] != "repos":
            return self.send(404, "Not Found", content_type="text/plain")
        expires = query.get("Expires", [""])[0]
        sig = hmac.new(SECRET, (url.path + expires).encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(sig, query.get("Signature", [""])[0]):
            return self.send(403, "<Error><Code>AccessDenied</Code></Error>", content_type="application/xml")
        repo = Repo.load(parts[2] + "/" + parts[3])
        hit = None
        if repo is not None:
            for t in list(repo.trees.values()) + [repo.main]:
                p = next((p for p, f in t.files.items() if f["lfs"] and f["sha256"] == parts[4]), None)
                if p is not None:
                    hit = (t, p)
                    break
        if hit is None:
            return self.send(404, "<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        tree, path = hit
        self.serve_bytes(repo, path, repo.bytes_of(tree, path), [("ETag", f'"{parts[4]}"'), ("Accept-Ranges", "bytes")],
                         content_type="binary/octet-stream")

    def serve_bytes(self, repo, path, data, headers, content_type="text/plain; charset=utf-8"):
        size = len(data)
        start, end = 0, size - 1
        status = 200
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if not m:
                return self.send(416, "", headers + [("Content-Range", f"bytes */{size}")])
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size or start > end:
                return self.send(416, "", headers + [("Content-Range", f"bytes */{size}")])
            status = 206
            headers = headers + [("Content-Range", f"bytes {start}-{end}/{size}")]
        body = data[start:end + 1]
        drop_at = repo.config.get("drop_after", {}).get(path) if path is not None else None
        drop = False
        if drop_at is not None and self.command == "GET" and start < drop_at <= end:
            with STATE.drop_lock:
                if (repo.id, path) not in STATE.dropped:
                    STATE.dropped.add((repo.id, path))
                    drop = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self._status = status
        if self.command == "HEAD":
            return
        if drop:
            self.wfile.write(body[:drop_at - start])
            self.wfile.flush()
            self._dropped = True
            self.close_connection = True
            # Half the file and then nothing: the client sees a short body.
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


class CdnHandler(Handler):
    role = "cdn"
    server_version = "cdn-emulator/1.0"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--ports-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    STATE = State(os.path.abspath(args.root), args.log, max(1, args.page_size))
    hub = Server((args.host, 0), Handler)
    cdn = Server((args.host, 0), CdnHandler)
    STATE.cdn_base = f"http://{args.host}:{cdn.server_address[1]}"
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    tmp = args.ports_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{hub.server_address[1]} {cdn.server_address[1]}\n")
    os.replace(tmp, args.ports_file)
    try:
        hub.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
