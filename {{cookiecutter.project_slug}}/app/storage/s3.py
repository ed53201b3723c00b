"""Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2 ...) through aiobotocore.

aiobotocore is botocore (the AWS SDK's own request signing, retries and endpoint rules) on
aiohttp: every call is awaited on the event loop, nothing blocks it. A save streams the file in
parts of PART_BYTES (S3's multipart upload), each sent while the next arrives, so one upload
holds at most two parts in memory; a file smaller than a part is one PUT. Downloads never pass
through the service: the client gets a presigned URL valid for S3_PRESIGN_EXPIRE_SECONDS.
"""

import asyncio
from collections.abc import AsyncIterable
from contextlib import AsyncExitStack
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from app.core.config import Settings
from app.storage.base import checked_key, runs_of

if TYPE_CHECKING:
    from aiobotocore.session import ClientCreatorContext
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

# S3's smallest part (except the last): at most two are held per upload (one received, one sent).
PART_BYTES = 5 * 1024 * 1024


class S3Storage:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bucket = settings.s3_bucket
        self._stack = AsyncExitStack()
        self._client: S3Client | None = None
        self._lock = anyio.Lock()

    async def client(self) -> "S3Client":
        """The one client of this process, created on first use (it holds a connection pool)."""
        async with self._lock:
            if self._client is None:
                self._client = await self._stack.enter_async_context(self._new_client())
            return self._client

    def _new_client(self) -> "ClientCreatorContext[S3Client]":
        s = self.settings
        return get_session().create_client(
            "s3",
            endpoint_url=s.s3_endpoint_url or None,
            region_name=s.s3_region,
            # Empty: botocore's own chain (instance role, web identity, ~/.aws ...).
            aws_access_key_id=s.s3_access_key_id or None,
            aws_secret_access_key=s.s3_secret_access_key.get_secret_value() or None,
            config=AioConfig(
                s3={"addressing_style": s.s3_addressing_style},
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """One PUT for a file smaller than a part; otherwise a multipart upload in which each
        part goes up while the next one is received (at most two parts in memory)."""
        client, key = await self.client(), checked_key(key)
        size, number, tail = 0, 0, b""
        upload_id: str | None = None
        sending: asyncio.Task[CompletedPartTypeDef] | None = None
        parts: list[CompletedPartTypeDef] = []
        try:
            async for run in runs_of(chunks, PART_BYTES):
                body = b"".join(run)
                size += len(body)
                if len(body) < PART_BYTES:  # only the last run can be shorter than a part
                    tail = body
                    break
                if upload_id is None:
                    started = await client.create_multipart_upload(Bucket=self.bucket, Key=key)
                    upload_id = started["UploadId"]
                if sending is not None:
                    parts.append(await sending)
                number += 1
                sending = asyncio.create_task(self._upload_part(upload_id, key, number, body))
            if upload_id is None:
                await client.put_object(Bucket=self.bucket, Key=key, Body=tail)
                return size
            if sending is not None:
                parts.append(await sending)
            if tail:
                parts.append(await self._upload_part(upload_id, key, number + 1, tail))
            await client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                if sending is not None:
                    sending.cancel()
                    await asyncio.gather(sending, return_exceptions=True)
                if upload_id is not None:
                    await client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
            raise
        return size

    async def _upload_part(
        self, upload_id: str, key: str, number: int, body: bytes
    ) -> "CompletedPartTypeDef":
        client = await self.client()
        part = await client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return {"ETag": part["ETag"], "PartNumber": number}

    async def download_url(self, key: str, *, filename_header: str, content_type: str) -> str:
        """A URL that serves the object as a download, valid for S3_PRESIGN_EXPIRE_SECONDS.

        The response headers are signed into the URL: the bucket sends them, not the service.
        """
        client = await self.client()
        return await client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": checked_key(key),
                "ResponseContentDisposition": filename_header,
                "ResponseContentType": content_type,
            },
            ExpiresIn=self.settings.s3_presign_expire_seconds,
        )

    async def delete(self, key: str) -> None:
        client = await self.client()
        await client.delete_object(Bucket=self.bucket, Key=checked_key(key))

    async def keys(self, *, before: datetime) -> list[str]:
        client = await self.client()
        found = []
        async for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for entry in page.get("Contents", []):
                if entry["LastModified"] < before:
                    found.append(entry["Key"])
        return found

    async def discard_partial(self, *, before: datetime) -> int:
        client = await self.client()
        discarded = 0
        pages = client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket)
        async for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < before:
                    await client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    discarded += 1
        return discarded

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None
