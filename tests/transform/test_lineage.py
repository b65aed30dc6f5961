"""Column lineage through CTEs, unions, upstream models and value maps, down to raw columns."""

import pytest

from extract.profile import PROJECT_DIR
from transform.errors import ModelError
from transform.lineage import lineage_of
from transform.project import load_project

from .test_render import make_project

SEEDS = {"country": "source_value,target_value\nno,NO\n"}


def test_lineage_traces_ctes_unions_upstream_models_and_value_maps(tmp_path):
    project = load_project(make_project(tmp_path, {
        "staging/stg.sql": "select * from {{ source('sales', 'accounts') }}",
        "flows/f.sql": "with named as (select accountid as id, upper(name) as label from {{ ref('stg') }}) "
                       "select id, coalesce(label, 'none') as label, {{ value_map('country', 'label', default='US') }} as iso, "
                       "'fixed' as constant from named "
                       "union all select accountid, 'other', null, 'fixed' from {{ source('sales', 'accounts') }}",
    }, SEEDS), {})
    [label] = lineage_of(project, "f.label")
    assert label.as_dict() == {"model": "f", "column": "label", "sources": ["sales.accounts.name"], "seeds": [],
                               "literals": ["'none'", "'other'"], "via": ["stg.name"]}
    [iso] = lineage_of(project, "f.iso")
    assert iso.sources == {"sales.accounts.name"}
    assert iso.seeds == {"country.source_value", "country.target_value"}
    assert iso.literals == {"'US'", "NULL"}
    [constant] = lineage_of(project, "f.constant")
    assert (constant.sources, constant.literals) == (set(), {"'fixed'"})
    [key] = lineage_of(project, "f.id")
    assert key.sources == {"sales.accounts.accountid"}


def test_lineage_by_target_entity_field_on_the_real_accounts_flow():
    project = load_project(PROJECT_DIR / "models", {})
    found = {item.model: item for item in lineage_of(project, "CustomersV2.AddressCountryRegionISOCode")}
    accounts = found["customers_from_accounts"]
    assert accounts.sources == {"sales.accounts.address1_country"}
    assert {"country.source_value", "country.target_value"} <= accounts.seeds
    assert "'US'" in accounts.literals
    [currency] = [i for i in lineage_of(project, "CustomersV2.SalesCurrencyCode") if i.model == "customers_from_accounts"]
    assert currency.sources == {"sales.transactioncurrencies.isocurrencycode"}


@pytest.mark.parametrize("spec, message", [
    ("Nothing.Field", "'Nothing' is neither a model nor the target entity of a flow model"),
    ("f.nope", "model f has no column 'nope'"),
    ("justone", "give MODEL.COLUMN or ENTITY.FIELD"),
])
def test_lineage_of_an_unknown_column_is_one_clear_error(tmp_path, spec, message):
    project = load_project(make_project(tmp_path, {"flows/f.sql": "select 1 as a"}), {})
    with pytest.raises(ModelError, match=message):
        lineage_of(project, spec)
