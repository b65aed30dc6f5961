"""Errors of the load stage.

    LoadError
    ├── PlanError     no plan to push, an unknown plan id, or a target the registry lacks
    └── PushError     one or more operations were refused by the target (details in push_log)
"""


class LoadError(Exception):
    """Root of the load stage's errors."""


class PlanError(LoadError):
    pass


class PushError(LoadError):
    pass
