"""The read cache services use: `Cache.get_or_load`, `Cache.invalidate` (app/cache/versioned.py)."""
