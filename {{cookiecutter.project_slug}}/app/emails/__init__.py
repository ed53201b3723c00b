"""The emails the service sends: plain-text and HTML bodies rendered from `templates/`."""
