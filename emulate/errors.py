"""The one error hierarchy of the emulator.

Services raise `ServiceError` subclasses; each service renders them in its own
error envelope (Dataverse hex codes, F&O innererror). The token authority
raises `TokenError`, rendered in the Entra (AADSTS) shape.
"""


class EmulatorError(Exception):
    """Base of every error the emulator raises on purpose."""


class ServiceError(EmulatorError):
    """A request a service refuses.

    `code` is the Dataverse hex code ("0x80040217"), `kind` the F&O innererror
    type; each service fills in what its envelope needs.
    """

    status = 400

    def __init__(self, message: str, *, code: str = "", kind: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401


class NotFound(ServiceError):
    status = 404


class MethodNotAllowed(ServiceError):
    status = 405


class PreconditionFailed(ServiceError):
    status = 412


class TooManyRequests(ServiceError):
    """A service protection limit (emulate/protection.py); the front adds `Retry-After`."""

    status = 429


class InternalServerError(ServiceError):
    """An injected server failure (emulate/faults.py), rendered in the service's own envelope."""

    status = 500


class TokenError(EmulatorError):
    """A token request the authority refuses, as Entra ID answers it."""

    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(f"AADSTS{aadsts}: {description}")
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description
