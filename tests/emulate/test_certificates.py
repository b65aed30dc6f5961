"""Certificate credentials (client assertions) at the token authority, through msal and by hand."""

import time
import uuid

import jwt
import pytest

from emulate.client_certificate import issue_client_certificate, thumbprints
from tests.emulate.msal_apps import msal_app

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.mark.parametrize("shape", ["client_certificate", "client_certificate_by_thumbprint"])
def test_msal_gets_tokens_with_the_certificate(tenant, shape):
    app, session = msal_app(tenant, getattr(tenant, shape))
    with session:
        result = app.acquire_token_for_client(scopes=[f"{tenant.sales_url}/.default"])
    assert result.get("token_type") == "Bearer", result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["aud"] == tenant.sales_url and claims["appid"] == tenant.client_id


def test_msal_with_an_unregistered_certificate_gets_700027(tenant):
    other = issue_client_certificate(tenant.client_id)
    app, session = msal_app(tenant, other.msal_credential)
    with session:
        result = app.acquire_token_for_client(scopes=[f"{tenant.fno_url}/.default"])
    assert result["error"] == "invalid_client" and result["error_codes"] == [700027]
    assert result["error_description"].startswith("AADSTS700027: The certificate with identifier used to sign the client assertion is not registered")


def _assertion(tenant, key_pem: str, certificate_pem: str, **claims) -> str:
    now = int(time.time())
    payload = {"aud": f"{tenant.authority_url}/oauth2/v2.0/token", "iss": tenant.client_id, "sub": tenant.client_id,
               "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 600, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key_pem, algorithm="PS256",
                      headers={"x5t#S256": thumbprints(certificate_pem)["x5t#S256"]})


@pytest.mark.parametrize(("claims", "status", "code"), [
    ({"aud": "https://login.microsoftonline.com/other/oauth2/v2.0/token"}, 401, 700023),
    ({"iss": "someone-else"}, 401, 700021),
    ({"exp": int(time.time()) - 60}, 401, 700024),
    ({"jti": None}, 400, 50027),
])
def test_hand_made_assertions_are_checked(tenant, http, claims, status, code):
    certificate = tenant.client_certificate
    form = {"grant_type": "client_credentials", "client_id": tenant.client_id, "scope": f"{tenant.sales_url}/.default",
            "client_assertion_type": ASSERTION_TYPE}
    good = http.post(f"{tenant.authority_url}/oauth2/v2.0/token", data={
        **form, "client_assertion": _assertion(tenant, certificate["private_key"], certificate["public_certificate"])})
    assert good.status_code == 200, good.text
    bad = http.post(f"{tenant.authority_url}/oauth2/v2.0/token", data={
        **form, "client_assertion": _assertion(tenant, certificate["private_key"], certificate["public_certificate"], **claims)})
    assert bad.status_code == status and bad.json()["error_codes"] == [code], bad.text


def test_a_forged_signature_is_refused(tenant, http):
    certificate, other = tenant.client_certificate, issue_client_certificate(tenant.client_id)
    forged = _assertion(tenant, other.private_key_pem, certificate["public_certificate"])  # registered thumbprint, wrong key
    response = http.post(f"{tenant.authority_url}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": tenant.client_id, "scope": f"{tenant.sales_url}/.default",
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": forged})
    assert response.status_code == 401 and response.json()["error_codes"] == [700027]
    assert "failed signature validation" in response.json()["error_description"]


def test_legacy_v1_endpoint_with_resource(tenant, http):
    response = http.post(f"{tenant.authority_url}/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret,
        "resource": tenant.fno_url})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["resource"] == tenant.fno_url and int(body["expires_in"]) > 300
    fno = http.get(f"{tenant.fno_url}/data/CustomersV2?$top=1", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert fno.status_code == 200
    unknown = http.post(f"{tenant.authority_url}/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret,
        "resource": "https://other.operations.dynamics.com"})  # not a resource of this tenant
    assert unknown.status_code == 400 and unknown.json()["error_codes"] == [500011]
