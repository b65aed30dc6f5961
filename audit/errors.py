"""Errors of the audit commands.

    AuditError
    ├── UnknownRunError     no such run in p2c_meta.runs
    └── TraceError          an entity or key that cannot be traced
"""


class AuditError(Exception):
    """Root of the audit commands' errors; the message is one line naming what is wrong."""


class UnknownRunError(AuditError):
    pass


class TraceError(AuditError):
    pass
