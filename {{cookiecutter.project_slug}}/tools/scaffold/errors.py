"""The one error `make resource` refuses a request with."""


class SpecError(ValueError):
    """A request `make resource` refuses; the message says why and what to do instead."""
