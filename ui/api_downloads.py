"""The API's download of a whole session: every segment fetched and checked before the
response starts, staged with bounded memory, and sent while a slot of the dashboard's
load is held.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from . import render
from .context import SEND_CHUNK, Busy, TooLarge, limits_of, load_of, open_reading, sessions_of
from .limits import Slot
from .service import check_sid

#: A download's checked bytes wait in memory up to this, then in an unnamed temp file.
STAGE_IN_MEMORY = 1 << 20


async def download(request: Request) -> Response:
    r = await open_reading(request, check_sid(request.path_params["sid"]))
    name = r.sid + (f"-{r.plan.checkpoint.id}" if r.plan.checkpoint else "") + ".jsonl"
    load, limits = load_of(request), limits_of(request)
    # Every segment is fetched and checked (sha256, counts) before the response starts, so
    # a damaged segment anywhere is a clear error status, never a 200 with a cut-off body.
    # The checked bytes wait in a temporary file: memory stays bounded whatever the size,
    # and the file's size and number are capped (Limits.downloads, download_bytes).
    pieces = r.plan.pieces
    if all(p.entry.bytes is not None for p in pieces):
        size = sum(p.entry.bytes or 0 for p in pieces)  # at most: a checkpoint cuts
    else:
        size = limits.download_bytes // max(1, limits.downloads)
    if size > limits.download_bytes:
        raise TooLarge(
            f"session {r.sid} is too large to download here ({render.size(size)}; "
            f"the dashboard stages at most {render.size(limits.download_bytes)})",
            f"use `agent-uploader replay --sid {r.sid} > {name}`",
        )
    slot = load.take_download(size)
    if slot is None:
        load.refused += 1
        raise Busy("too many downloads at once", "try again when one of them has finished")
    try:
        staged, actual = await _stage_unless_gone(request, sessions_of(request).download(r), size)
    except BaseException:
        slot.release()
        raise
    return Staged(
        staged,
        slot,
        media_type="application/x-ndjson",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "content-length": str(actual),
        },
    )


async def _stage_unless_gone(
    request: Request, chunks: Iterator[bytes], cap: int
) -> tuple[IO[bytes], int]:
    """Stage in a worker thread; a client that goes away meanwhile stops it."""
    cancel = threading.Event()
    task = asyncio.ensure_future(run_in_threadpool(_stage, chunks, cap, cancel))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.25)
            if done:
                return task.result()
            if await request.is_disconnected():
                break
    finally:
        cancel.set()
        if not task.done():
            await asyncio.wait({task})  # the thread removes what it staged, then ends
    if not task.cancelled() and task.exception() is None:
        task.result()[0].close()  # finished just as the client left
    raise ClientDisconnect()


def _stage(chunks: Iterator[bytes], cap: int, cancel: threading.Event) -> tuple[IO[bytes], int]:
    staged: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=STAGE_IN_MEMORY)  # noqa: SIM115
    try:
        size = 0
        for chunk in chunks:
            if cancel.is_set():
                raise ClientDisconnect()
            size += len(chunk)
            if size > cap:
                raise TooLarge(f"the session holds more than its manifest says ({cap} bytes)",
                               "run `agent-uploader verify`")  # fmt: skip
            staged.write(chunk)
        staged.seek(0)
    except BaseException:
        staged.close()
        raise
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # stops the read-ahead thread of an unfinished reading
    return staged, size


class Held(StreamingResponse):
    """A streamed response that holds a Slot until it ends, however it ends."""

    def __init__(self, content: AsyncIterator[Any], slot: Slot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


class Staged(Held):
    """A staged download, sent in pieces; its temp file is gone the moment the response
    ends: sent, failed, or the client disconnected in the middle."""

    def __init__(self, staged: IO[bytes], slot: Slot, **kwargs: Any) -> None:
        async def pieces() -> AsyncIterator[bytes]:
            while chunk := staged.read(SEND_CHUNK):  # a page-cache read: on the loop
                yield chunk

        super().__init__(pieces(), slot, **kwargs)
        self.staged = staged

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.staged.close()
