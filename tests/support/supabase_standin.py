"""A local Supabase Storage stand-in: Starlette on uvicorn, 127.0.0.1, a free port, a thread.

It answers the REST routes of the storage server under `/storage/v1/` that
uploader/stores/supabase.py calls through the unmodified supabase client (supabase-py
2.34), the way the real server (v1.26.x, see docs/stores.md) does, and no others (a route
the store does not call gets Fastify's 404; add one here when the store starts using it):

    POST /object/{bucket}/{key}              upload: multipart/form-data (the fields
                                             before the file part are not kept);
                                             `x-upsert: true` overwrites
    GET /object/{bucket}/{key}               download
    POST /object/list/{bucket}               one folder level: folders first (`id: null`),
                                             then files, by name; `search` is a name
                                             prefix; paged with limit and offset
    DELETE /object/{bucket} {"prefixes": []} removes those exact keys, returns their rows
    GET /bucket/{id}                         the bucket (the store's start-up check;
                                             HEAD: the Date header, the server's clock)

Nothing else: not the authenticated or public download routes, signed URLs or bucket
management; and of the rows and headers it answers with, only what the supabase client
needs to parse them (no etag, cache-control, versions or owners), as the store reads
nothing more.

What it copies from the real server, including the awkward parts:

- Errors are HTTP 400 (500 for "500") with the real code in the body:
  `{"statusCode": "404", "code": "NoSuchKey", "error": "not_found", "message":
  "Object not found"}`; "409"/"Duplicate"; "403"/"Unauthorized"; "404"/"Bucket not
  found"; "400"/"InvalidKey".
- Auth: every call carries `Authorization: Bearer <JWT>` and `apiKey: <JWT>`. Keys are
  HS256 JWTs signed with this stand-in's secret (`.key` is a service_role key). A wrong,
  malformed or missing bearer gets the real server's answer (400, "403" Unauthorized,
  the JWT library's message: "Invalid Compact JWS", "signature verification failed"). A
  missing or wrong apiKey gets the same shape (the real server leaves that check to its
  gateway).
- POST without upsert on an existing key gives 409, but not atomically: the existence
  check happens before the body is read and the write `race_window` seconds later, so
  concurrent creators of one key mostly all "succeed" (last writer wins), as measured.
- Listing matches `lower(name) LIKE lower(prefix || search) || '%'` like the SQL does:
  case-insensitive, `_` and `%` are wildcards. A missing bucket lists as `[]` (only
  get_bucket, uploads and bucket routes say "Bucket not found").
- Keys must match the server's S3-safe character set (ASCII letters, digits and
  `_/!-.*'() &$@=;:+,?`); `.` and `..` segments are rejected too (InvalidKey).

For the tests it adds, all thread-safe: objects to seed and inspect, and faults that
stand for the gateway in front of the real server, taken by the next matching requests:

    fail_next(n, status=503)   an HTML error page as a gateway sends it; not processed
    reset_next(n)              the connection is reset (RST) unanswered; not processed
    drop_next(n)               processed (committed), then reset instead of answering
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Message as AsgiMessage, Receive, Scope, Send

DEFAULT_BUCKET = "sessions"
DEFAULT_CONTENT_TYPE = "text/plain;charset=UTF-8"
DEFAULT_RACE_WINDOW = 0.02  # seconds between the 409 check and the write of a POST
MAX_DELETE_PREFIXES = 1000
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

_KEY_RE = re.compile(r"[\w/!\-.*'() &$@=;:+,?]+", re.ASCII)
_BEARER_RE = re.compile(r"^Bearer\s+", re.IGNORECASE)
_GATEWAY_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


# --- errors, as the storage server renders them --------------------------------------


class StorageError(Exception):
    """An error the server renders as `{"statusCode", "code", "error", "message"}`."""

    def __init__(self, status: str, code: str, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.error = error or code
        self.message = message

    def response(self) -> JSONResponse:
        body = {
            "statusCode": self.status,
            "code": self.code,
            "error": self.error,
            "message": self.message,
        }
        return JSONResponse(body, status_code=500 if self.status == "500" else 400)


def _not_found() -> StorageError:
    return StorageError("404", "NoSuchKey", "Object not found", error="not_found")


def _no_bucket() -> StorageError:
    return StorageError("404", "NoSuchBucket", "Bucket not found", error="Bucket not found")


def _duplicate(code: str = "KeyAlreadyExists") -> StorageError:
    return StorageError("409", code, "The resource already exists", error="Duplicate")


def _denied(message: str) -> StorageError:
    return StorageError("403", "AccessDenied", message, error="Unauthorized")


def _invalid(message: str) -> StorageError:
    return StorageError("400", "InvalidRequest", message, error="Bad Request")


# --- JWTs (HS256), for keys ----------------------------------------


class _JwtError(Exception):
    pass


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_jwt(payload: dict[str, Any], secret: bytes) -> str:
    header = _b64encode(b'{"alg":"HS256","typ":"JWT"}')
    body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64encode(signature)}"


def verify_jwt(token: str, secret: bytes) -> dict[str, Any]:
    """The payload of a valid token; otherwise _JwtError with the `jose` library's message."""
    parts = token.split(".")
    if len(parts) != 3:
        raise _JwtError("Invalid Compact JWS")
    try:
        header = json.loads(_b64decode(parts[0]))
        payload = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise _JwtError("Invalid Compact JWS") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise _JwtError("Invalid Compact JWS")
    if header.get("alg") != "HS256":
        raise _JwtError('"alg" (Algorithm) Header Parameter value not allowed')
    expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise _JwtError("signature verification failed")
    return payload


# --- what is stored ------------------------------------------------------------------------


def _iso(ts: float) -> str:
    """A timestamp as the server's JSON has it: 2025-06-01T12:00:00.123Z."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    id: str
    created_at: float
    updated_at: float

    def metadata(self) -> dict[str, Any]:
        """Part of the real server's metadata object (the store reads none of it)."""
        return {"size": len(self.data), "mimetype": self.content_type}

    def row(self, bucket: str, name: str) -> dict[str, Any]:
        """The object's row, as deleteObjects returns it (the store reads none of it): the
        columns that say which object it was."""
        return {"bucket_id": bucket, "name": name, "id": self.id}


@dataclass
class BucketRecord:
    id: str
    created_at: float
    updated_at: float
    objects: dict[str, StoredObject] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.id,
            "owner": "",
            "public": False,
            "type": "STANDARD",
            "file_size_limit": None,
            "allowed_mime_types": None,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass
class _Fault:
    kind: str  # "error" | "reset" | "drop"
    times: int
    method: str | None
    path: str | None
    status: int = 503

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or self.path in path


def gateway_page(status: int) -> bytes:
    """The HTML error page a gateway in front of the storage server answers with."""
    title = f"{status} {_GATEWAY_REASONS.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


# --- request helpers -------------------------------------------------------------------------


def _like(pattern: str) -> re.Pattern[str]:
    """SQL `LIKE pattern || '%'` as a regex: % any run, _ any one character, \\ escapes."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out) + ".*", re.DOTALL)


def _header_params(name: str, value: str) -> tuple[str, dict[str, str]]:
    msg = Message()
    msg[name] = value
    params = msg.get_params(header=name, failobj=[]) or []
    main = params[0][0].lower() if params else ""
    rest = {str(k).lower(): str(v) for k, v in params[1:]}
    return main, rest


@dataclass
class _FilePart:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


def parse_multipart(body: bytes, content_type: str) -> _FilePart | None:
    """The first file part of a form (as @fastify/multipart's request.file() sees it; the
    fields before it, such as the client's cacheControl, are not kept)."""
    _, params = _header_params("content-type", content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise _invalid("Boundary not found")
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise _invalid("Malformed part header")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        _, disposition = _header_params(
            "content-disposition", headers.get("content-disposition", "")
        )
        name = disposition.get("name", "")
        if "filename" in disposition:
            return _FilePart(name, disposition["filename"], headers.get("content-type"), data)
    return None


# --- the stand-in ---------------------------------------------------------------------------


class SupabaseStandin:
    """The server, its state and the tests' controls. `start()`, then use `.url`/`.key`."""

    def __init__(self, *, bucket: str = DEFAULT_BUCKET, host: str = "127.0.0.1") -> None:
        self.host = host
        self.bucket = bucket
        self.url = ""  # http://127.0.0.1:PORT once started: the SUPABASE_URL
        self._secret = secrets.token_bytes(32)
        self.key = self.make_key("service_role")
        self.race_window = DEFAULT_RACE_WINDOW
        self._lock = threading.Lock()
        self._buckets: dict[str, BucketRecord] = {}
        self._faults: list[_Fault] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.create_bucket(bucket)
        self.app = self._build_app()

    # lifecycle ----------------------------------------------------------------------

    @property
    def storage_url(self) -> str:
        """The client's storage base: {SUPABASE_URL}/storage/v1/."""
        return f"{self.url}/storage/v1/"

    def start(self) -> SupabaseStandin:
        config = uvicorn.Config(
            self,
            host=self.host,
            port=0,
            http="h11",
            ws="none",
            lifespan="off",
            loop="asyncio",
            interface="asgi3",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=3,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="supabase-standin", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the Supabase stand-in did not start")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Supabase stand-in did not start in {START_TIMEOUT}s")
            time.sleep(0.005)
        port = server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError("the Supabase stand-in did not stop")
        self._server = self._thread = None

    def __enter__(self) -> SupabaseStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a fresh server: only the default bucket, empty; no faults."""
        with self._lock:
            self._buckets.clear()
            self._faults.clear()
        self.race_window = DEFAULT_RACE_WINDOW
        self.create_bucket(self.bucket)

    # keys ----------------------------------------------------------------------------

    def make_key(self, role: str = "service_role") -> str:
        """A key this server accepts."""
        payload = {"iss": "supabase-standin", "role": role, "iat": int(time.time())}
        return sign_jwt(payload, self._secret)

    # buckets and objects, directly --------------------------------------------------------

    def create_bucket(self, name: str) -> None:
        with self._lock:
            if name not in self._buckets:
                now = time.time()
                self._buckets[name] = BucketRecord(name, now, now)

    def put_object(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        bucket: str | None = None,
    ) -> None:
        """Seed an object without HTTP (e.g. thousands of keys for a listing test)."""
        with self._lock:
            self._write(self._buckets[bucket or self.bucket], key, data, content_type)

    def get_object(self, key: str, *, bucket: str | None = None) -> StoredObject | None:
        with self._lock:
            record = self._buckets.get(bucket or self.bucket)
            return None if record is None else record.objects.get(key)

    def keys(self, *, bucket: str | None = None) -> list[str]:
        with self._lock:
            record = self._buckets.get(bucket or self.bucket)
            return sorted(record.objects) if record else []

    # faults ------------------------------------------------------------------------------

    def fail_next(
        self,
        times: int = 1,
        status: int = 503,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """The next `times` matching requests get `status` with a gateway's HTML page."""
        self._add_fault(_Fault("error", times, method, path, status))

    def reset_next(
        self, times: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """The next `times` matching requests are read, then their connection reset (RST)."""
        self._add_fault(_Fault("reset", times, method, path))

    def drop_next(
        self, times: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """The next `times` matching requests are processed (a write is committed), then the
        connection is reset instead of answering: the client cannot know it succeeded."""
        self._add_fault(_Fault("drop", times, method, path))

    def heal(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        """How many injected faults have not hit a request yet."""
        with self._lock:
            return sum(max(fault.times, 0) for fault in self._faults)

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
            return None

    # ASGI: faults in front of the app ----------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        fault = self._take_fault(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "error":
            await _drain(receive)
            page = Response(
                gateway_page(fault.status),
                status_code=fault.status,
                headers={"content-type": "text/html; charset=utf-8"},
            )
            await page(scope, receive, send)
        elif fault.kind == "reset":
            await _drain(receive)
            await self._reset(scope)
        else:  # drop
            await self.app(scope, receive, _swallow)
            await self._reset(scope)

    async def _reset(self, scope: Scope) -> None:
        """Abort this request's connection with an RST (SO_LINGER 0), sending nothing."""
        server = self._server
        client = tuple(scope.get("client") or ())
        connections = list(server.server_state.connections) if server else []
        for conn in connections:
            if tuple(getattr(conn, "client", None) or ()) == client:
                transport = conn.transport
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
                break
        else:
            return  # the client has gone already (it timed out and closed)
        for _ in range(3):  # let uvicorn see the connection lost before the app returns
            await asyncio.sleep(0)

    # the storage API ---------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        api = [
            Route("/bucket/{bucket}", self._h_get_bucket, methods=["GET"]),
            Route("/object/list/{bucket}", self._h_list, methods=["POST"]),
            Route("/object/{bucket}", self._h_remove, methods=["DELETE"]),
            Route("/object/{bucket}/{key:path}", self._h_upload, methods=["POST"]),
            Route("/object/{bucket}/{key:path}", self._h_download, methods=["GET"]),
        ]
        return Starlette(
            routes=[Mount("/storage/v1", routes=api)],
            exception_handlers={
                StorageError: _storage_error,
                404: _route_not_found,
                405: _route_not_found,
            },
        )

    # auth

    def _authorize(self, request: Request) -> None:
        """403 for a bad bearer JWT or a missing or bad apiKey."""
        token = _BEARER_RE.sub("", request.headers.get("authorization", ""))
        try:
            verify_jwt(token, self._secret)
        except _JwtError as exc:
            raise _denied(str(exc)) from exc
        apikey = request.headers.get("apikey")
        if apikey is None:
            raise _denied("No API key found in request")
        try:
            verify_jwt(apikey, self._secret)
        except _JwtError as exc:
            raise _denied("Invalid authentication credentials") from exc

    # helpers

    @staticmethod
    def _target(request: Request) -> tuple[str, str]:
        bucket: str = request.path_params["bucket"]
        key: str = request.path_params["key"]
        if not _KEY_RE.fullmatch(key) or {".", ".."} & set(key.split("/")):
            raise StorageError("400", "InvalidKey", f"Invalid key: {key}")
        return bucket, key

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        raw = await request.body()
        body: dict[str, Any] = json.loads(raw) if raw else {}
        return body

    def _find(self, bucket: str, key: str) -> StoredObject:
        with self._lock:
            record = self._buckets.get(bucket)
            obj = record.objects.get(key) if record else None
        if obj is None:
            raise _not_found()
        return obj

    def _write(
        self,
        record: BucketRecord,
        key: str,
        data: bytes,
        content_type: str,
    ) -> StoredObject:
        """Store under the lock; an overwrite keeps the object's id and created_at."""
        now = time.time()
        old = record.objects.get(key)
        obj = StoredObject(
            data=data,
            content_type=content_type,
            id=old.id if old else str(uuid.uuid4()),
            created_at=old.created_at if old else now,
            updated_at=now,
        )
        record.objects[key] = obj
        return obj

    def _object_response(self, obj: StoredObject) -> Response:
        return Response(obj.data, headers={"content-type": obj.content_type})

    # uploads

    async def _h_upload(self, request: Request) -> Response:
        self._authorize(request)
        bucket, key = self._target(request)
        upsert = request.headers.get("x-upsert") == "true"
        with self._lock:
            record = self._buckets.get(bucket)
            exists = record is not None and key in record.objects
        if record is None:
            raise _no_bucket()
        if exists and not upsert:
            raise _duplicate()
        part = parse_multipart(await request.body(), request.headers.get("content-type", ""))
        if part is None:
            raise _invalid("No content provided")
        data, content_type = part.data, part.content_type or DEFAULT_CONTENT_TYPE
        if not upsert and self.race_window > 0:
            await asyncio.sleep(self.race_window)  # the real check is not atomic with the write
        with self._lock:
            record = self._buckets.get(bucket)
            if record is None:
                raise _no_bucket()
            obj = self._write(record, key, data, content_type)
        return JSONResponse({"Id": obj.id, "Key": f"{bucket}/{key}"})

    # reads

    async def _h_download(self, request: Request) -> Response:
        self._authorize(request)
        bucket, key = self._target(request)
        return self._object_response(self._find(bucket, key))

    async def _h_list(self, request: Request) -> Response:
        """By name, ascending: the store asks for nothing else (sortBy is not read)."""
        self._authorize(request)
        bucket: str = request.path_params["bucket"]
        body = await self._json(request)
        prefix = body.get("prefix")
        if not isinstance(prefix, str):
            raise _invalid("body must have required property 'prefix'")
        limit = int(body.get("limit", 100))
        offset = int(body.get("offset", 0))
        rows = self._search(bucket, prefix, body.get("search") or "")
        return JSONResponse(rows[offset : offset + limit])

    def _search(self, bucket: str, prefix: str, search: str) -> list[dict[str, Any]]:
        """storage.search_v1_optimised: the folders at one level, then the files there."""
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        level = prefix.count("/") + 1
        pattern = _like((prefix + search).lower())
        with self._lock:
            record = self._buckets.get(bucket)
            items = list(record.objects.items()) if record else []
        folders: set[str] = set()
        files: list[tuple[str, StoredObject]] = []
        for name, obj in items:
            parts = name.split("/")
            if len(parts) == level and pattern.fullmatch(name.lower()):
                files.append((parts[-1], obj))
            elif len(parts) > level:
                folder = "/".join(parts[:level])
                if pattern.fullmatch(folder.lower()):
                    folders.add(folder)
        folder_rows = [
            {
                "name": folder.rsplit("/", 1)[-1],
                "id": None,
                "updated_at": None,
                "created_at": None,
                "last_accessed_at": None,
                "metadata": None,
            }
            for folder in folders
        ]
        folder_rows.sort(key=lambda row: str(row["name"]))
        files.sort(key=lambda item: item[0])
        file_rows = [
            {
                "name": short,
                "id": obj.id,
                "updated_at": _iso(obj.updated_at),
                "created_at": _iso(obj.created_at),
                "last_accessed_at": _iso(obj.updated_at),
                "metadata": obj.metadata(),
            }
            for short, obj in files
        ]
        return folder_rows + file_rows

    # removal

    async def _h_remove(self, request: Request) -> Response:
        self._authorize(request)
        bucket: str = request.path_params["bucket"]
        body = await self._json(request)
        prefixes = body.get("prefixes")
        if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
            raise _invalid("body must have required property 'prefixes'")
        if not prefixes:
            raise _invalid("body/prefixes must NOT have fewer than 1 items")
        if len(prefixes) > MAX_DELETE_PREFIXES:
            raise _invalid(f"Maximum of {MAX_DELETE_PREFIXES} objects can be deleted at once")
        removed: list[dict[str, Any]] = []
        with self._lock:
            record = self._buckets.get(bucket)
            for name in dict.fromkeys(prefixes):
                obj = record.objects.pop(name, None) if record else None
                if obj is not None:
                    removed.append(obj.row(bucket, name))
        return JSONResponse(removed)

    # buckets

    async def _h_get_bucket(self, request: Request) -> Response:
        self._authorize(request)
        with self._lock:
            record = self._buckets.get(request.path_params["bucket"])
            row = record.row() if record else None
        if row is None:
            raise _no_bucket()
        return JSONResponse(row)


async def _drain(receive: Receive) -> None:
    """Read a request's body to its end (or the client's disconnect)."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _swallow(message: AsgiMessage) -> None:
    return None


async def _storage_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StorageError)
    return exc.response()


async def _route_not_found(request: Request, exc: Exception) -> Response:
    """Fastify's answer for a route it does not have."""
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {
            "message": f"Route {request.method}:{request.url.path} not found",
            "error": "Not Found",
            "statusCode": 404,
        },
        status_code=404,
    )
