"""`p2c emulate --scale N --seed S` serves a tenant generated from that seed at that scale, over HTTPS."""

import ssl

import httpx

from emulate.tenant import EmulatedTenant

ACCOUNTS_PER_SCALE = 200


def account_numbers(served) -> list[str]:
    with httpx.Client(verify=ssl.create_default_context(cafile=served.ca), timeout=30) as http:
        token = served.token(http, served.sales_origin)
        url, numbers = f"{served.sales}accounts?$select=accountnumber&$orderby=accountnumber", []
        while url:
            page = http.get(url, headers={"Authorization": f"Bearer {token}", "Prefer": "odata.maxpagesize=5000"}).json()
            numbers += [row["accountnumber"] for row in page["value"]]
            url = page.get("@odata.nextLink")
    return numbers


def test_scale_and_seed_shape_the_served_tenant(served_tenant, tmp_path):
    served = served_tenant(tmp_path / "tenant", "--scale", "2", "--seed", "11")
    numbers = account_numbers(served)
    assert served.stop() == 0
    assert len(numbers) == 2 * ACCOUNTS_PER_SCALE
    with EmulatedTenant.start(tmp_path / "same-seed", seed=11, scale=2) as same, \
            EmulatedTenant.start(tmp_path / "other-seed", seed=12, scale=2) as other:
        assert numbers == sorted(row["accountnumber"] for row in same.sales.rows("accounts"))
        assert numbers != sorted(row["accountnumber"] for row in other.sales.rows("accounts"))
