"""Selection (--select) and graph order, including the order checks impose (relationships)."""

import pytest

from transform.errors import GraphError
from transform.graph import select
from transform.project import load_project

from .test_render import make_project

FLOW = "{{ config(flow='%s', target={'system': 'fno', 'entity': 'X', 'key': ['accountid']}) }}"


@pytest.fixture
def project(tmp_path):
    return load_project(make_project(tmp_path, {
        "staging/stg_a.sql": "select * from {{ source('sales', 'accounts') }}",
        "staging/stg_b.sql": "select * from {{ ref('stg_a') }}",
        "flows/flow_accounts.sql": FLOW % "accounts" + "select accountid from {{ ref('stg_b') }}",
        "flows/flow_contacts.sql": FLOW % "contacts" + "select accountid from {{ ref('stg_a') }}",
        "staging/lonely.sql": "select 1 as x",
    }), {})


@pytest.mark.parametrize("selectors, expected", [
    (["stg_b"], {"stg_b"}),
    (["stg_b+"], {"stg_b", "flow_accounts"}),
    (["+stg_b"], {"stg_a", "stg_b"}),
    (["+flow_accounts"], {"stg_a", "stg_b", "flow_accounts"}),
    (["stg_a+"], {"stg_a", "stg_b", "flow_accounts", "flow_contacts"}),
    (["flow:contacts"], {"flow_contacts"}),
    (["+flow:contacts", "lonely"], {"stg_a", "flow_contacts", "lonely"}),
])
def test_select_by_model_flow_and_graph_operators(project, selectors, expected):
    assert select(project.models, selectors) == expected


@pytest.mark.parametrize("selector, message", [
    ("nope+", "--select nope+: no model named 'nope'"),
    ("flow:orders", "--select flow:orders: no model has flow='orders' (flows: accounts, contacts)"),
])
def test_unknown_selection_is_one_clear_error(project, selector, message):
    with pytest.raises(GraphError, match=message.replace("+", r"\+").replace("(", r"\(").replace(")", r"\)")):
        select(project.models, [selector])


def test_build_order_puts_a_relationships_target_first(tmp_path):
    project = load_project(make_project(tmp_path, {
        "flows/a_lines.sql": "{{ config(checks=[{'relationships': {'column': 'k', 'to': 'z_headers', 'field': 'k'}}]) }}"
                             "select 1 as k",
        "flows/z_headers.sql": "select 1 as k",
    }), {})
    assert project.order == ("z_headers", "a_lines")
    assert project.models["a_lines"].depends_on == {"z_headers"}
