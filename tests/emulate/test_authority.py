"""Token authority and bearer checks, through msal and over HTTPS."""

import time

import jwt
import pytest

from emulate.authority import FNO_RESOURCE, SALES_RESOURCE, AppRegistration, TokenAuthority
from emulate.errors import Unauthorized
from emulate.tenant import EmulatedTenant
from tests.emulate.msal_apps import msal_app


def test_msal_gets_tokens_for_both_services(tenant):
    app, session = msal_app(tenant, tenant.client_secret)
    with session:
        for origin in (tenant.sales_url, tenant.fno_url):
            result = app.acquire_token_for_client(scopes=[f"{origin}/.default"])
            assert result.get("token_type") == "Bearer", result
            assert result["expires_in"] > 300
            claims = jwt.decode(result["access_token"], options={"verify_signature": False})
            assert claims["aud"] == origin
            assert claims["tid"] == tenant.tenant_id and claims["appid"] == tenant.client_id


def test_msal_reports_a_bad_secret(tenant):
    app, session = msal_app(tenant, "not-the-secret")
    with session:
        result = app.acquire_token_for_client(scopes=[f"{tenant.sales_url}/.default"])
    assert result["error"] == "invalid_client"
    assert 7000215 in result["error_codes"]
    assert result["error_description"].startswith("AADSTS7000215:")


def test_unknown_app_and_unknown_resource_are_refused(tenant, http):
    token_url = f"{tenant.authority_url}/oauth2/v2.0/token"
    form = {"grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret}
    unknown_app = http.post(token_url, data={**form, "client_id": "00000000-0000-0000-0000-000000000001",
                                             "scope": f"{tenant.sales_url}/.default"})
    assert unknown_app.status_code == 400
    assert unknown_app.json()["error"] == "unauthorized_client" and unknown_app.json()["error_codes"] == [700016]
    unknown_resource = http.post(token_url, data={**form, "scope": "https://other.crm4.dynamics.com/.default"})
    assert unknown_resource.status_code == 400 and unknown_resource.json()["error_codes"] == [500011]
    v1_unknown = http.post(f"{tenant.authority_url}/oauth2/token", data={**form, "resource": "https://other.operations.dynamics.com"})
    assert v1_unknown.status_code == 400 and v1_unknown.json()["error_codes"] == [500011]
    no_default = http.post(token_url, data={**form, "scope": f"{tenant.sales_url}/user_impersonation"})
    assert no_default.status_code == 400 and no_default.json()["error"] == "invalid_scope"


def _assert_challenge(response, tenant, origin):
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge == f"Bearer authorization_uri={tenant.authority_url}/oauth2/authorize, resource_id={origin}/"


def test_requests_without_a_token_get_401(tenant, http):
    _assert_challenge(http.get(f"{tenant.sales_url}/api/data/v9.2/accounts"), tenant, tenant.sales_url)
    _assert_challenge(http.get(f"{tenant.fno_url}/data/CustomersV2"), tenant, tenant.fno_url)


def test_a_token_for_the_other_service_gets_401(tenant, http, token_for):
    fno_token = token_for(tenant, http, tenant.fno_url)
    sales_token = token_for(tenant, http, tenant.sales_url)
    wrong_for_sales = http.get(f"{tenant.sales_url}/api/data/v9.2/accounts", headers={"Authorization": f"Bearer {fno_token}"})
    _assert_challenge(wrong_for_sales, tenant, tenant.sales_url)
    wrong_for_fno = http.get(f"{tenant.fno_url}/data/CustomersV2", headers={"Authorization": f"Bearer {sales_token}"})
    _assert_challenge(wrong_for_fno, tenant, tenant.fno_url)
    right = http.get(f"{tenant.fno_url}/data/CustomersV2", headers={"Authorization": f"Bearer {fno_token}"})
    assert right.status_code == 200


def test_a_tampered_token_gets_401(tenant, http, token_for):
    header, payload, signature = token_for(tenant, http, tenant.sales_url).split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    response = http.get(f"{tenant.sales_url}/api/data/v9.2/", headers={"Authorization": f"Bearer {forged}"})
    _assert_challenge(response, tenant, tenant.sales_url)


def test_an_expired_token_gets_401(state_dir, client_for, token_for):
    with EmulatedTenant.start(state_dir, token_lifetime_s=2) as short_lived, client_for(short_lived) as client:
        token = token_for(short_lived, client, short_lived.sales_url)
        url, headers = f"{short_lived.sales_url}/api/data/v9.2/", {"Authorization": f"Bearer {token}"}
        assert client.get(url, headers=headers).status_code == 200
        time.sleep(2.1)
        _assert_challenge(client.get(url, headers=headers), short_lived, short_lived.sales_url)


def _alias_cases(tenant):
    return [(SALES_RESOURCE, f"{tenant.sales_url}/api/data/v9.2/", f"{tenant.fno_url}/data/CustomersV2"),
            (FNO_RESOURCE, f"{tenant.fno_url}/data/CustomersV2", f"{tenant.sales_url}/api/data/v9.2/")]


def test_real_resource_identifiers_stand_for_the_emulated_services(tenant, http):
    """protocols.md 5.3: scopes of the real Sales and F&O resources are accepted; each token is good
    at the emulated service its resource names, and only there."""
    app, session = msal_app(tenant, tenant.client_secret)
    with session:
        for resource, right_url, wrong_url in _alias_cases(tenant):
            result = app.acquire_token_for_client(scopes=[f"{resource}/.default"])
            assert result.get("token_type") == "Bearer", result
            assert jwt.decode(result["access_token"], options={"verify_signature": False})["aud"] == resource
            headers = {"Authorization": f"Bearer {result['access_token']}"}
            assert http.get(right_url, headers=headers).status_code == 200
            assert http.get(wrong_url, headers=headers).status_code == 401


@pytest.mark.parametrize("trailing", ["", "/"])
def test_v1_endpoint_accepts_the_real_resource_identifiers(tenant, http, trailing):
    form = {"grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret}
    for resource, right_url, _ in _alias_cases(tenant):
        answer = http.post(f"{tenant.authority_url}/oauth2/token", data={**form, "resource": resource + trailing})
        assert answer.status_code == 200, answer.text
        assert answer.json()["resource"] == resource + trailing
        assert http.get(right_url, headers={"Authorization": f"Bearer {answer.json()['access_token']}"}).status_code == 200


def test_a_token_checked_once_is_still_refused_where_and_when_it_is_not_valid():
    """Verified claims are reused per token string (every $batch part carries the batch's token),
    never for another audience, and not once the token expired: then the answer is PyJWT's own."""
    authority = TokenAuthority(AppRegistration("tenant", "client", "secret"), lifetime_s=1)
    authority.register("https://sales.test", SALES_RESOURCE)
    authority.register("https://fno.test", FNO_RESOURCE)
    token, _ = authority._access_token("https://sales.test")
    bearer = f"Bearer {token}"
    first, again = authority.verify(bearer, "https://sales.test"), authority.verify(bearer, "https://sales.test")
    assert first == again and first["aud"] == "https://sales.test"
    with pytest.raises(Unauthorized, match="Audience doesn't match"):
        authority.verify(bearer, "https://fno.test")
    time.sleep(max(0.0, first["exp"] - time.time()) + 0.05)
    with pytest.raises(Unauthorized) as expired:
        authority.verify(bearer, "https://sales.test")
    assert expired.value.message == "Bearer token is not valid: Signature has expired"
