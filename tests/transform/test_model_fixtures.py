"""Golden fixtures: one test per ``models/tests/<model>/<case>/`` folder (see transform/fixtures.py)."""

import pytest

from extract.profile import PROJECT_DIR
from transform.errors import TransformError
from transform.fixtures import discover, run_case

MODELS_DIR = PROJECT_DIR / "models"
CASES = discover(MODELS_DIR / "tests")
assert CASES, f"no golden fixtures found under {MODELS_DIR / 'tests'}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_model_fixture(case):
    try:
        outcome = run_case(MODELS_DIR, case)
    except TransformError as exc:
        pytest.fail(f"{case.id}: {exc}", pytrace=False)
    if not outcome.passed:
        pytest.fail(outcome.failure_line(), pytrace=False)
