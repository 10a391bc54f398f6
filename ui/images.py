"""Images carried in transcript lines (base64 in a content block), as the bytes a browser
shows: `GET /api/sessions/SID/lines/N/images/K`, and data: URLs in an exported file.

Image K of a line is the K-th block that carries its bytes, in the line's document order
(uploader.agents.entries.inline_images: the numbering the parsers give `Entry.images`).
Only PNG, JPEG, GIF and WebP are served, and only when the bytes are what the block says
they are (never SVG, which can hold scripts, nor anything a browser might run), up to
MAX_BYTES.
"""

from __future__ import annotations

import base64
import binascii
import json

from uploader.agents.entries import inline_image, inline_images
from uploader.core.errors import NotFound, UsageError

#: The largest image served.
MAX_BYTES = 10 << 20
#: The media types served, and how their files begin.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


class NoImage(NotFound):
    """The line holds no image with that number."""


class Refused(UsageError):
    """An image that is not served: its media type, or bytes that are not that type."""


class TooBig(UsageError):
    """An image over the size served."""


def media_type(declared: str) -> str:
    return declared.split(";", 1)[0].strip().lower()


def shown(declared: str) -> bool:
    """Is an image of this declared media type one that is served?"""
    return media_type(declared) in SIGNATURES


def image_of(line: bytes, k: int, max_bytes: int | None = None) -> tuple[str, bytes]:
    """(media type, bytes) of image k of a line; NoImage, Refused or TooBig otherwise."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        raise NoImage(f"the line is not JSON, so it holds no image {k}") from None
    found = inline_images(obj)
    if k >= len(found):
        raise NoImage(f"the line holds {len(found)} image(s), counted from 0; not {k}")
    media, data = inline_image(found[k]) or ("", "")
    media = media_type(media)
    if media not in SIGNATURES:
        raise Refused(f"image {k} is {media[:60]!r}: only PNG, JPEG, GIF and WebP are shown")
    if (len(data) - 4) * 3 // 4 > max_bytes:
        raise TooBig(f"image {k} holds more than {max_bytes:,} bytes")
    try:
        body = base64.b64decode(data)
    except (binascii.Error, ValueError):
        raise Refused(f"image {k} is not valid base64") from None
    if len(body) > max_bytes:
        raise TooBig(f"image {k} holds {len(body):,} bytes, more than {max_bytes:,}")
    if not body.startswith(SIGNATURES[media]) or (media == "image/webp" and body[8:12] != b"WEBP"):
        raise Refused(f"image {k} says it is {media}, but its bytes are not")
    return media, body


def data_url(line: bytes, k: int, max_bytes: int | None = None) -> str | None:
    """Image k of a line as a data: URL, or None when it is not served (see image_of)."""
    try:
        media, body = image_of(line, k, max_bytes)
    except (NoImage, Refused, TooBig):
        return None
    return f"data:{media};base64,{base64.b64encode(body).decode()}"
