"""Development tooling; nothing here is imported by the app at runtime."""
