"""What the file storage holds, counted without the storage code under test."""
{% if cookiecutter.file_storage == "s3" %}
import boto3

from app.core.config import Settings


def _client(settings: Settings):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key.get_secret_value(),
    )


def stored_objects(settings: Settings) -> set[str]:
    listing = _client(settings).list_objects_v2(Bucket=settings.s3_bucket)
    return {entry["Key"] for entry in listing.get("Contents", [])}


def partial_uploads(settings: Settings) -> int:
    listing = _client(settings).list_multipart_uploads(Bucket=settings.s3_bucket)
    return len(listing.get("Uploads", []))


def stored_bytes(settings: Settings, key: str) -> bytes:
    body: bytes = _client(settings).get_object(Bucket=settings.s3_bucket, Key=key)["Body"].read()
    return body
{%- else %}
from app.core.config import Settings
from app.storage.local import PARTIAL_DIR


def stored_objects(settings: Settings) -> set[str]:
    root = settings.local_storage_dir
    return {path.name for path in root.iterdir() if path.is_file()} if root.is_dir() else set()


def partial_uploads(settings: Settings) -> int:
    partial = settings.local_storage_dir / PARTIAL_DIR
    return len(list(partial.iterdir())) if partial.is_dir() else 0


def stored_bytes(settings: Settings, key: str) -> bytes:
    return (settings.local_storage_dir / key).read_bytes()
{%- endif %}
