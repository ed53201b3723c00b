"""A file upload read as it arrives: the request body is never held whole, in memory or on disk.

Starlette's own form parsing (`UploadFile`) spools every part to a temporary file before the
endpoint runs: a 1 GB body is written to disk in full before anything could refuse it, and the
bytes are read twice. Here python-multipart's `MultipartParser` is fed straight from
`request.stream()`, and the file's bytes go on to the caller chunk by chunk, so the size limit
applies as the bytes come in, a disguised type is refused after its first few KiB, and the
caller (the storage) writes each chunk once.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.core.exceptions import (
    FileTooLargeError,
    MalformedUploadError,
    UploadInterruptedError,
)

# Room for the multipart framing around the file (boundaries, part headers, a small field or two).
FRAMING_BYTES = 16 * 1024


@dataclass(slots=True)
class IncomingFile:
    """One file part: the name the client gave, and its bytes as they arrive."""

    filename: str | None
    chunks: AsyncIterator[bytes]


@dataclass(slots=True)
class _Part:
    headers: dict[bytes, bytes]
    data: list[bytes]
    ended: bool = False
    # From Content-Disposition once the headers are complete (read once, not per chunk).
    name: bytes | None = None
    filename: bytes | None = None


async def incoming_file(request: Request, *, field: str, max_bytes: int) -> IncomingFile:
    """The file sent in the multipart field `field`, once its part headers have arrived.

    Refuses at once a body whose Content-Length promises more than `max_bytes` (plus framing);
    otherwise counts: FileTooLargeError as soon as the file passes `max_bytes` or the body
    passes `max_bytes` plus framing (a false Content-Length, or chunked), whichever comes first.
    """
    declared = request.headers.get("content-length")
    limit = max_bytes + FRAMING_BYTES
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise FileTooLargeError(details={"max_bytes": max_bytes})
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise MalformedUploadError()
    events = _file_events(request, boundary, field.encode(), max_bytes, limit)
    first = await anext(events)
    assert isinstance(first, _Start)
    return IncomingFile(first.filename, _data_only(events))


@dataclass(slots=True)
class _Start:
    filename: str | None


async def _data_only(events: AsyncIterator["_Start | bytes"]) -> AsyncIterator[bytes]:
    async for event in events:
        assert isinstance(event, bytes)
        yield event


async def _file_events(
    request: Request, boundary: bytes, field: bytes, max_bytes: int, limit: int
) -> AsyncIterator[_Start | bytes]:
    """Yields `_Start` when the part named `field` begins, then its data; stops at its end."""
    parts: list[_Part] = []
    header: dict[str, bytes] = {}

    def on_part_begin() -> None:
        parts.append(_Part(headers={}, data=[]))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["name"] = header.get("name", b"") + data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] = header.get("value", b"") + data[start:end]

    def on_header_end() -> None:
        parts[-1].headers[header.pop("name", b"").lower()] = header.pop("value", b"")

    def on_headers_finished() -> None:
        part = parts[-1]
        disposition, options = parse_options_header(part.headers.get(b"content-disposition"))
        if disposition == b"form-data":
            part.name, part.filename = options.get(b"name"), options.get(b"filename")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].data.append(data[start:end])

    def on_part_end() -> None:
        parts[-1].ended = True

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)
    received = file_bytes = 0
    started = False
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise FileTooLargeError(details={"max_bytes": max_bytes})
            parser.write(chunk)
            for part in parts:
                if part.name != field:
                    part.data.clear()  # another field: its bytes are counted above, and dropped
                    continue
                if not started:
                    started = True
                    name = part.filename
                    yield _Start(None if name is None else name.decode("utf-8", "replace"))
                for data in part.data:
                    file_bytes += len(data)
                    if file_bytes > max_bytes:
                        raise FileTooLargeError(details={"max_bytes": max_bytes})
                    yield data
                if part.ended:
                    return
                part.data.clear()
            # Parts fully passed over are forgotten; the current one stays for its next bytes.
            parts[:] = parts[-1:] if parts and not parts[-1].ended else []
    except ClientDisconnect:
        raise UploadInterruptedError() from None
    except MultipartParseError:
        raise MalformedUploadError() from None
    # The body ended: before the file part began (no such field), or in its middle.
    raise UploadInterruptedError() if started else MalformedUploadError()
