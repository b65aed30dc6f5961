"""Exit codes that tell failure kinds apart, so a scheduler can react to each differently."""

from __future__ import annotations

from load.errors import ConflictError, GuardrailError, PushError, StalePlanError
from load.push import not_written
from transform.build import build_failure
from transform.errors import BuildError

OK = 0
ERROR = 1     # bad input, configuration, connection, a crash: one line on stderr names what is wrong
USAGE = 2     # an unknown command or option, a missing argument (typer's own)
BLOCKED = 3   # nothing of the blocked part was pushed: checks failed, a conflict held records back, a guardrail breached, a plan went stale
NOT_WRITTEN = 4  # the push ran, some records were not written (refused or unreachable); the next run retries them

HELP = (
    "Exit codes: 0 done; 1 error (bad input, configuration, connection; one line on stderr, --debug for the "
    "traceback); 2 usage (unknown command, option or argument); 3 blocked (checks failed, a conflict held records back, "
    "a guardrail breached or "
    "the plan went stale: nothing of the blocked part was pushed); 4 some records not written (refused by the "
    "target or unreachable; every outcome is in p2c_meta.push_log and the next run retries them, see `p2c status`)."
)


def exit_code(error: BaseException) -> int:
    """The exit code for an error that reached the CLI's boundary."""
    if isinstance(error, (ConflictError, GuardrailError, StalePlanError)):
        return BLOCKED
    if isinstance(error, BuildError) and _only_checks_failed(error):
        return BLOCKED
    if isinstance(error, PushError):
        return NOT_WRITTEN
    return ERROR


def _only_checks_failed(error: BuildError) -> bool:
    """A build whose models all built but some checks failed (their pushes are held back). `p2c check`
    raises without results (it also reports models never built): it stays an error."""
    results = getattr(error, "results", None) or []
    failed = [r for r in results if r.get("status") not in ("ok", "skipped")]
    return bool(failed) and all(r.get("status") == "check_failed" for r in failed)


def run_error(summary: dict) -> BaseException | None:
    """The error a finished run (or push) ends with, though the rest was pushed: by the worst of what it held
    back, a model that failed to build (1), records not written (4), failed checks or conflicts (3)."""
    error = build_failure(summary["build"])
    if error is not None and exit_code(error) == ERROR:
        return error
    if summary.get("failures"):
        return not_written(summary["failures"])
    if error is not None:
        return error
    if summary["conflicts"]:
        return ConflictError(f"{len(summary['conflicts'])} record(s) held back by a conflict, first: "
                             f"{summary['conflicts'][0]} (the model's on_conflict rule; see `p2c runs show {summary['run_id']}`)")
    return None
