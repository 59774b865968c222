"""A small registry speaking Ollama's dialect, for the `pull` tests.

`GET /v2/<ns>/<model>/manifests/<tag>` serves stored manifest bytes;
`GET|HEAD /v2/<ns>/<model>/blobs/sha256:<hex>` answers `307` to
`http://localhost:<port>/data/<hex>` (a different host name than the
`127.0.0.1` the model name uses, as registry.ollama.ai redirects to its
CDN); `GET /data/<hex>` serves the blob, honouring `Range: bytes=a-b`,
slowly enough that a pull reports progress more than once.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 32 << 10
DELAY_S = 0.01


class OllamaRegistry:
    def __init__(self) -> None:
        self.manifests: dict[str, bytes] = {}
        self.blobs: dict[str, bytes] = {}
        self.served = 0
        self.auth_seen_by_cdn = False
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                self._route(head=True)

            def do_GET(self) -> None:
                self._route(head=False)

            def _route(self, head: bool) -> None:
                m = re.fullmatch(r"/v2/([^/]+/[^/]+)/manifests/([^/]+)", self.path)
                if m:
                    body = registry.manifests.get(f"{m[1]}:{m[2]}")
                    if body is None:
                        return self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', head)
                    return self._send(200, body, head, "application/vnd.docker.distribution.manifest.v2+json")
                m = re.fullmatch(r"/v2/[^/]+/[^/]+/blobs/sha256:([0-9a-f]{64})", self.path)
                if m and m[1] in registry.blobs:
                    self.send_response(307)
                    self.send_header("Location", f"http://localhost:{registry.port}/data/{m[1]}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                m = re.fullmatch(r"/data/([0-9a-f]{64})", self.path)
                if m and m[1] in registry.blobs and not head:
                    return self._data(registry.blobs[m[1]])
                return self._send(404, b"", head)

            def _send(self, status: int, body: bytes, head: bool, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _data(self, blob: bytes) -> None:
                if self.headers.get("Authorization"):
                    registry.auth_seen_by_cdn = True
                start, end = 0, len(blob) - 1
                status = 200
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if m:
                    start = int(m[1])
                    end = int(m[2]) if m[2] else len(blob) - 1
                    status = 206
                part = blob[start : end + 1]
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(part)))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(blob)}")
                self.end_headers()
                for i in range(0, len(part), CHUNK):
                    self.wfile.write(part[i : i + CHUNK])
                    self.wfile.flush()
                    registry.served += len(part[i : i + CHUNK])
                    time.sleep(DELAY_S)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_blob(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest[7:]] = data
        return digest

    def add_model(self, repo: str, tag: str, weights: bytes) -> tuple[str, bytes]:
        """Publish `repo:tag` with one model layer; returns its digest and the manifest."""
        config = b'{"model_format":"gguf","model_family":"llama"}'
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": self.add_blob(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.ollama.image.model",
                    "digest": self.add_blob(weights),
                    "size": len(weights),
                }
            ],
        }
        body = json.dumps(manifest).encode()
        self.manifests[f"{repo}:{tag}"] = body
        return manifest["layers"][0]["digest"], body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
