"""A loopback stand-in for the Hugging Face Hub's upload endpoints, as huggingface_hub 1.33
calls them (read from its ``hf_api.py``, ``_commit_api.py`` and ``lfs.py``):

- ``POST /api/repos/create`` (409 when the repository exists, which ``exist_ok`` accepts);
- ``POST /api/validate-yaml`` (the README's front matter is checked before any upload);
- ``POST /api/{type}s/{repo}/preupload/{rev}``: the upload mode per file, ``lfs`` for parquet
  and binary files (what a new dataset repository's ``.gitattributes`` makes the Hub answer),
  ``regular`` otherwise, and the stored file's oid so an unchanged file is skipped;
- ``POST /{type}s/{repo}.git/info/lfs/objects/batch``, then ``PUT`` of each object to the
  ``href`` it returns and ``POST`` of the verify action (the LFS "basic" transfer; the Xet
  transfer is not served, so a test turns ``HF_HUB_DISABLE_XET`` on);
- ``POST /api/{type}s/{repo}/commit/{rev}``: the NDJSON commit (header, file, lfsFile,
  deletedFile, deletedFolder);
- ``GET /api/{type}s/{repo}/tree/{rev}`` and ``GET /api/{type}s/{repo}/revision/{rev}``.

Every request is recorded with its method, path and Authorization header. Writes need the
expected bearer token (401 otherwise), as the Hub's do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import yaml

REPO_API = re.compile(r"^/api/(?P<type>datasets|models|spaces)/(?P<repo>[^/]+/[^/]+)/(?P<op>preupload|commit|tree|revision)"
                      r"/(?P<rev>[^/]+)(?P<rest>/.*)?$")
LFS_BATCH = re.compile(r"^/(?P<type>datasets|spaces)?/?(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch$")


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob, which the Hub reports for a regular file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubStandIn:
    def __init__(self, token: str):
        self.token = token
        self.repos: dict[str, dict] = {}
        self.lfs: dict[str, bytes] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HubStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def files(self, repo_id: str) -> dict[str, bytes]:
        return {p: f["data"] for p, f in self.repos[repo_id]["files"].items()}

    # -- the endpoints ----------------------------------------------------------------------
    def create_repo(self, body: dict) -> tuple[int, dict]:
        repo_id = f"{body['organization']}/{body['name']}" if body.get("organization") else body["name"]
        kind = body.get("type") or "model"
        url = f"{self.url}/{kind}s/{repo_id}" if kind != "model" else f"{self.url}/{repo_id}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this repo", "url": url}
        attributes = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
        self.repos[repo_id] = {"type": kind, "private": body.get("visibility") == "private", "commits": ["0" * 40],
                               "files": {".gitattributes": {"data": attributes, "mode": "regular"}}}
        return 200, {"url": url, "name": repo_id}

    @staticmethod
    def validate_yaml(body: dict) -> tuple[int, dict]:
        content = body["content"]
        if not content.startswith("---\n"):
            return 200, {"errors": [], "warnings": [{"message": "empty or missing yaml metadata in repo card"}]}
        try:
            meta = yaml.safe_load(content[4:content.index("\n---", 3)])
        except (ValueError, yaml.YAMLError) as exc:
            return 400, {"errors": [{"message": f"invalid YAML: {exc}"}]}
        if not isinstance(meta, dict):
            return 400, {"errors": [{"message": "the metadata is not a mapping"}]}
        bad = [c for c in meta.get("configs") or [] if "config_name" not in c or "data_files" not in c]
        if bad:
            return 400, {"errors": [{"message": f"configs need config_name and data_files: {bad}"}]}
        return 200, {"errors": [], "warnings": []}

    def preupload(self, repo: dict, body: dict) -> tuple[int, dict]:
        answer = []
        for f in body["files"]:
            binary = b"\0" in base64.b64decode(f["sample"])
            mode = "lfs" if binary or f["path"].endswith(".parquet") else "regular"
            stored = repo["files"].get(f["path"])
            oid = None
            if stored is not None and stored["mode"] == mode:
                oid = hashlib.sha256(stored["data"]).hexdigest() if mode == "lfs" else git_blob_oid(stored["data"])
            answer.append({"path": f["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return 200, {"files": answer, "commitOid": repo["commits"][-1]}

    def lfs_batch(self, body: dict) -> tuple[int, dict]:
        objects = []
        for obj in body["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.lfs:  # already stored: no actions, the client skips the upload
                entry["actions"] = {"upload": {"href": f"{self.url}/_lfs/{obj['oid']}"},
                                    "verify": {"href": f"{self.url}/_lfs/verify"}}
            objects.append(entry)
        return 200, {"transfer": "basic", "objects": objects}

    def lfs_put(self, oid: str, data: bytes) -> tuple[int, dict]:
        if hashlib.sha256(data).hexdigest() != oid:
            return 400, {"error": "content does not match its oid"}
        self.lfs[oid] = data
        return 200, {}

    def lfs_verify(self, body: dict) -> tuple[int, dict]:
        data = self.lfs.get(body["oid"])
        return (200, {}) if data is not None and len(data) == body["size"] else (404, {"error": "object not found"})

    def commit(self, repo_id: str, repo: dict, lines: list[dict]) -> tuple[int, dict]:
        files = dict(repo["files"])
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "file":
                files[value["path"]] = {"data": base64.b64decode(value["content"]), "mode": "regular"}
            elif key == "lfsFile":
                data = self.lfs.get(value["oid"])
                if data is None or len(data) != value["size"]:
                    return 422, {"error": f"LFS object of {value['path']} was never uploaded"}
                files[value["path"]] = {"data": data, "mode": "lfs"}
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    return 404, {"error": "A file with this name doesn't exist"}
            elif key == "deletedFolder":
                files = {p: f for p, f in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
            elif key != "header":
                return 400, {"error": f"unknown commit operation {key}"}
        oid = hashlib.sha1(json.dumps([repo["commits"][-1], lines], sort_keys=True).encode()).hexdigest()
        repo["files"], repo["commits"] = files, [*repo["commits"], oid]
        return 200, {"commitUrl": f"{self.url}/datasets/{repo_id}/commit/{oid}", "commitOid": oid,
                     "pullRequestUrl": None}

    def tree(self, repo: dict) -> list[dict]:
        out = []
        for path, f in sorted(repo["files"].items()):
            entry = {"type": "file", "path": path, "size": len(f["data"]), "oid": git_blob_oid(f["data"])}
            if f["mode"] == "lfs":
                entry["lfs"] = {"oid": hashlib.sha256(f["data"]).hexdigest(), "size": len(f["data"]), "pointerSize": 134}
            out.append(entry)
        return out

    # -- HTTP plumbing ------------------------------------------------------------------------
    def route(self, method: str, path: str, headers, raw: bytes) -> tuple[int, object]:
        authorized = headers.get("authorization") == f"Bearer {self.token}"
        if method == "PUT" and path.startswith("/_lfs/"):
            return self.lfs_put(path.rsplit("/", 1)[1], raw)  # a pre-signed URL on the Hub: no auth header
        if not authorized:
            return 401, {"error": "Invalid username or password."}
        if method == "POST" and path == "/api/repos/create":
            return self.create_repo(json.loads(raw))
        if method == "POST" and path == "/api/validate-yaml":
            return self.validate_yaml(json.loads(raw))
        if method == "POST" and path == "/_lfs/verify":
            return self.lfs_verify(json.loads(raw))
        if method == "POST" and LFS_BATCH.match(path):
            return self.lfs_batch(json.loads(raw))
        match = REPO_API.match(path)
        if not match:
            return 404, {"error": f"no such endpoint: {method} {path}"}
        repo_id = unquote(match["repo"])
        repo = self.repos.get(repo_id)
        if repo is None:
            return 404, {"error": "Repository not found"}
        op = match["op"]
        if method == "POST" and op == "preupload":
            return self.preupload(repo, json.loads(raw))
        if method == "POST" and op == "commit":
            return self.commit(repo_id, repo, [json.loads(line) for line in raw.splitlines() if line.strip()])
        if method == "GET" and op == "tree":
            return 200, self.tree(repo)
        if method == "GET" and op == "revision":
            return 200, {"id": repo_id, "sha": repo["commits"][-1], "private": repo["private"],
                         "siblings": [{"rfilename": p} for p in sorted(repo["files"])]}
        return 404, {"error": f"no such endpoint: {method} {path}"}

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length") or 0))
                chunks = []  # a streamed file (the LFS PUT) comes chunked
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)

            def _serve(self):
                raw = self._body()
                path = urlsplit(self.path).path
                with standin.lock:
                    standin.requests.append({"method": self.command, "path": path,
                                             "authorization": self.headers.get("authorization")})
                    status, body = standin.route(self.command, path, self.headers, raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args):  # the test reads self.requests, not stderr
                pass

        return Handler
