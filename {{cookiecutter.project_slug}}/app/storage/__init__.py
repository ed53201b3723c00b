"""Where uploaded files live: {% if cookiecutter.file_storage == "s3" %}an S3-compatible bucket{% else %}a local directory{% endif %} (FILE_STORAGE answer of the template).

Services take the storage as a value; `build_storage` makes the one this deployment uses.
"""

from app.core.config import Settings
{%- if cookiecutter.file_storage == "s3" %}
from app.storage.s3 import S3Storage

Storage = S3Storage


def build_storage(settings: Settings) -> Storage:
    return S3Storage(settings)
{%- else %}
from app.storage.local import LocalStorage

Storage = LocalStorage


def build_storage(settings: Settings) -> Storage:
    return LocalStorage(settings.local_storage_dir)
{%- endif %}
