"""Realtime events for the signed-in user's streams (app/events/hub.py); `build_event_hub` picks
{%- if cookiecutter.__redis == "yes" %} the Redis hub, shared by every instance.{% else %} the
in-process hub (one process: docs/operations.md "Realtime").{% endif %}"""

from app.core.config import Settings
from app.events.hub import EventHub
{%- if cookiecutter.__redis == "yes" %}
from app.events.redis_hub import RedisHub
{%- else %}
from app.events.memory_hub import MemoryHub
{%- endif %}


def build_event_hub(settings: Settings) -> EventHub:
{%- if cookiecutter.__redis == "yes" %}
    return RedisHub(settings)
{%- else %}
    return MemoryHub(settings)
{%- endif %}
