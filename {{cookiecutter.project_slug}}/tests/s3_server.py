"""A real S3 API server on a free loopback port: moto's server mode, spoken to over HTTP.

The storage code under test is the real one (aiobotocore signing, multipart uploads, presigned
URLs); only the far end is moto instead of AWS, MinIO or R2.
"""

from types import TracebackType
from typing import Self

import boto3
from moto.server import ThreadedMotoServer

BUCKET = "uploads-test"
KEYS = {"s3_access_key_id": "test-key", "s3_secret_access_key": "test-secret"}


class S3Server:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def __enter__(self) -> Self:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=BUCKET)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()

    def settings(self) -> dict[str, object]:
        return {
            "s3_endpoint_url": self.endpoint_url,
            "s3_bucket": BUCKET,
            "s3_region": "us-east-1",
            "s3_addressing_style": "path",
            **KEYS,
        }

    def client(self):  # type: ignore[no-untyped-def]
        """A plain boto3 client: what the tests count with is not the code under test."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=KEYS["s3_access_key_id"],
            aws_secret_access_key=KEYS["s3_secret_access_key"],
        )
