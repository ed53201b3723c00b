"""Uploads through the served template: a 100 MB file's memory and time, and an early 413.

Targets (issue 23): the server's RSS grows by less than 32 MiB while it stores a 100 MB file;
the upload takes less than twice a plain copy of the same bytes to the same storage (the local
directory: read, write, fsync), same run, same machine; a chunked body over UPLOAD_MAX_BYTES is
answered 413 before the client has sent twice the limit (loopback kernel buffers included).

Upload and copy are timed the same way: ROUNDS rounds of one copy then one upload, the fastest
of each kept. Interleaved, both meet the same moments of a shared machine's load; one upload
against the best of three copies compared an unlucky moment with the luckiest.
"""

import json
import os
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

SIZE = 100 * 1024 * 1024
# The limit the served template runs with: room for the 100 MB file.
UPLOAD_MAX_BYTES = 128 * 1024 * 1024
BOUNDARY = "bench-boundary"
CHUNK = 1024 * 1024
ROUNDS = 5
PNG_SIGNATURE = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
PART_HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
    "Content-Type: image/png\r\n\r\n"
).encode()
PART_TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


def _memory(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def _source(folder: Path) -> Path:
    path = folder / "upload-100mb.bin"
    if not path.exists() or path.stat().st_size != SIZE:
        with path.open("wb") as file:
            file.write(PNG_SIGNATURE + os.urandom(SIZE - len(PNG_SIGNATURE)))
    return path


def _plain_copy(source: Path, storage: Path) -> float:
    storage.mkdir(parents=True, exist_ok=True)
    target = storage / "bench-plain-copy"
    started = time.perf_counter()
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def _request_head(path: str, token: str, length_header: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{length_header}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        more = sock.recv(65536)
        if not more:
            break
        data += more
    return int(data.split(b" ", 2)[1]), data.split(b"\r\n\r\n", 1)[-1]


def _upload(host: str, port: int, path: str, token: str, source: Path) -> tuple[float, int, bytes]:
    length = len(PART_HEAD) + SIZE + len(PART_TAIL)
    with socket.create_connection((host, port)) as sock:
        started = time.perf_counter()
        sock.sendall(_request_head(path, token, f"Content-Length: {length}") + PART_HEAD)
        with source.open("rb") as file:
            while chunk := file.read(CHUNK):
                sock.sendall(chunk)
        sock.sendall(PART_TAIL)
        status, body = _answer(sock)
        return time.perf_counter() - started, status, body


def _oversize_chunked(host: str, port: int, path: str, token: str) -> tuple[int, int]:
    """Sends chunks until the answer arrives (at most 4x the limit); returns status and bytes sent."""
    sent = 0
    with socket.create_connection((host, port)) as sock:
        sock.sendall(_request_head(path, token, "Transfer-Encoding: chunked"))
        body = PART_HEAD + PNG_SIGNATURE + bytes(CHUNK - len(PART_HEAD) - len(PNG_SIGNATURE))
        sock.setblocking(False)
        while sent < 4 * UPLOAD_MAX_BYTES:
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except BlockingIOError:
                pass
            frame = memoryview(f"{len(body):x}\r\n".encode() + body + b"\r\n")
            while frame:
                try:
                    frame = frame[sock.send(frame) :]
                except BlockingIOError:
                    time.sleep(0.0005)
            sent += len(body)
            body = bytes(CHUNK)
        sock.setblocking(True)
        status, _ = _answer(sock)
        return status, sent


def _item(base_url: str, token: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/items",
        data=json.dumps({"title": "Uploads"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        item_id: str = json.loads(response.read())["id"]
        return item_id


def _delete(base_url: str, path: str, token: str, answer: bytes) -> None:
    """Removes a stored upload through the API, so the rounds do not fill the disk."""
    attachment = json.loads(answer)["id"]
    headers = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(
        f"{base_url}{path}/{attachment}", headers=headers, method="DELETE"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def measure(base_url: str, pid: int, token: str, storage: Path, scratch: Path) -> dict[str, Any]:
    host, port = base_url.removeprefix("http://").split(":")
    path = f"/api/v1/items/{_item(base_url, token)}/attachments"
    source = _source(scratch)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    before = _memory(pid, "VmRSS")
    copies, uploads, failed = [], [], []
    for _ in range(ROUNDS):
        copies.append(_plain_copy(source, storage))
        seconds, status, answer = _upload(host, int(port), path, token, source)
        uploads.append(seconds)
        if status != 201:
            failed.append(status)
            continue
        _delete(base_url, path, token, answer)
    growth = _memory(pid, "VmHWM") - before  # the peak over every round
    refused, sent = _oversize_chunked(host, int(port), path, token)
    return {
        "upload_status": failed[0] if failed else 201,
        "upload_seconds": round(min(uploads), 3),
        "plain_copy_seconds": round(min(copies), 3),
        "rounds": ROUNDS,
        "rss_growth_mib": round(growth / 2**20, 1),
        "oversize_status": refused,
        "oversize_sent_over_limit": round(sent / UPLOAD_MAX_BYTES, 2),
    }


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    ratio = result["upload_seconds"] / result["plain_copy_seconds"]
    checks = [
        ("100 MB upload RSS growth, MiB", result["rss_growth_mib"], "< 32", 32.0, 201),
        ("100 MB upload time / plain copy", ratio, "< 2", 2.0, 201),
        ("413 after bytes sent / limit", result["oversize_sent_over_limit"], "< 2", 2.0, 413),
    ]
    status = {201: result["upload_status"], 413: result["oversize_status"]}
    return [
        {"name": name, "value": value, "goal": goal, "limit": limit,
         "errors": int(status[expected] != expected), "higher_is_better": False,
         "met": value < limit and status[expected] == expected}
        for name, value, goal, limit, expected in checks
    ]  # fmt: skip
