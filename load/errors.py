"""Errors of the load stage.

    LoadError
    ├── PlanError        no plan to push, an unknown plan id, a bad target config, a tampered plan
    │   └── StalePlanError   the target changed since the plan was made
    ├── GuardrailError   the plan breaks a model's guardrails; nothing was pushed
    ├── ConflictError    records held back by a conflict (on_conflict = block, or a 412); the rest was pushed
    └── PushError        records were refused by the target (details in push_log), or it could not be reached
"""


class LoadError(Exception):
    """Root of the load stage's errors."""


class PlanError(LoadError):
    pass


class StalePlanError(PlanError):
    pass


class GuardrailError(LoadError):
    pass


class ConflictError(LoadError):
    pass


class PushError(LoadError):
    pass
