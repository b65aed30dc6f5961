"""Guardrails judge a plan before anything is sent."""

import pytest

from load import guardrails
from load.config import Guardrails, Target
from load.diff import Change, Operation
from load.errors import GuardrailError
from load.plan import PlanItem

TARGET = Target("m", "sales", "accounts", ("accountnumber",), "accountid",
                guardrails=Guardrails(max_update_share=0.5, min_updates_checked=2, allow_null=("fax",)))


def update(seq, *changes, action="update"):
    return PlanItem(seq, "m", "sales", Operation("accounts", action, (("accountnumber", f"A{seq}"),), changes, "id"))


def test_updating_more_than_the_allowed_share_of_a_target_trips():
    items = [update(n, Change("name", "a", "b")) for n in range(6)]
    guardrails.check(items, {"m": TARGET}, {"m": 12})  # 50%: allowed
    with pytest.raises(GuardrailError, match=r"model m: 6 updates of 10 sales.accounts records \(60%\) exceed max_update_share 50%"):
        guardrails.check(items, {"m": TARGET}, {"m": 10})
    guardrails.check(items[:1], {"m": TARGET}, {"m": 1})  # fewer than min_updates_checked: not held to the share


def test_emptying_a_populated_field_trips_unless_allowed():
    guardrails.check([update(1, Change("fax", "123", None)), update(2, Change("name", None, None))], {"m": TARGET}, {"m": 100})
    with pytest.raises(GuardrailError, match=r"sales.accounts A1 field telephone1: would be emptied \(was '555'\)"):
        guardrails.check([update(1, Change("telephone1", "555", None))], {"m": TARGET}, {"m": 100})


def test_changing_a_key_field_trips_and_every_breach_is_reported():
    items = [update(1, Change("accountnumber", "A1", "B1")), update(2, Change("accountid", "x", "y")),
             update(3, Change("telephone1", "5", None))]
    with pytest.raises(GuardrailError) as caught:
        guardrails.check(items, {"m": TARGET}, {"m": 100})
    message = str(caught.value)
    assert "field accountnumber: is a key field" in message and "field accountid: is a key field" in message
    assert "field telephone1: would be emptied" in message


def test_inserts_are_not_updates():
    guardrails.check([update(n, Change("name", None, "x"), action="insert") for n in range(50)], {"m": TARGET}, {"m": 1})
