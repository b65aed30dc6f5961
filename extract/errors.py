"""Errors raised while connecting to the services and extracting from them.

    ExtractError
    ├── ProfileError      the profile is missing, malformed or names an unset secret
    ├── AuthError         the token authority refused or could not be reached
    ├── ServiceError      a service answered with an error, or could not be reached
    └── PageError         a page could not be landed (malformed body, repeating nextLink, …)
"""


class ExtractError(Exception):
    """Root of the extract stage's errors; the message is one line naming what is wrong."""


class ProfileError(ExtractError):
    pass


class AuthError(ExtractError):
    pass


class ServiceError(ExtractError):
    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class PageError(ExtractError):
    pass
