"""`make resource`: writes a CRUD resource in the shape of the rest of the service."""
