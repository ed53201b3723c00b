"""Work done outside the request: each job opens its own transaction."""
