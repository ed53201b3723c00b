"""What an uploaded file is, decided from its bytes, and the name it may be shown under.

Plain functions: the upload parser, the attachment service and the storage tests share them.
"""

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

import puremagic

from app.core.exceptions import UnsupportedFileTypeError

# Enough bytes for every signature of the allowed types (PDF, PNG, JPEG, GIF, WebP, ZIP-based
# office files look at most a few hundred bytes in). Bytes are held back until this many arrived.
SNIFF_BYTES = 8192
MAX_NAME_LENGTH = 255
FALLBACK_NAME = "file"
# Anything not plain ASCII printable, and the characters that end or escape a quoted header value.
UNSAFE_IN_QUOTED_HEADER = re.compile(r'[^\x20-\x7e]|["\\]')


def detect_type(head: bytes) -> str | None:
    """The MIME type the first bytes of a file carry the signature of; None when none matches.

    The client's Content-Type and file name are never consulted: both are the client's say-so.
    """
    try:
        return str(puremagic.from_string(head, mime=True)) or None
    except (puremagic.PureError, ValueError):
        return None


def check_type(head: bytes, allowed: list[str]) -> str:
    """The detected type of a file starting with `head`, if `allowed` lists it."""
    detected = detect_type(head)
    if detected is None or detected not in allowed:
        raise UnsupportedFileTypeError(details={"detected": detected, "allowed": allowed})
    return detected


def safe_filename(name: str | None) -> str:
    """The client's file name fit to show and to send back: its last path segment only, without
    control or format characters, NFC-normalised, at most 255 characters (extension kept).

    Only ever a label: files are stored under a key the service chooses.
    """
    text = unicodedata.normalize("NFC", name or "").replace("\\", "/")
    text = PurePosixPath(text).name if text.strip("/") else ""
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in {"C", "Z"} or ch == " ")
    text = text.strip(" .")
    if not text:
        return FALLBACK_NAME
    if len(text) > MAX_NAME_LENGTH:
        stem, dot, extension = text.rpartition(".")
        keep = extension if dot and 0 < len(extension) <= 16 else ""
        text = (
            text[: MAX_NAME_LENGTH - len(keep) - 1] + "." + keep if keep else text[:MAX_NAME_LENGTH]
        )
    return text


def content_disposition(name: str) -> str:
    """`attachment` (never rendered in the page) with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = UNSAFE_IN_QUOTED_HEADER.sub("_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
