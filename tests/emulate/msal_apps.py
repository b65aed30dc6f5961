"""msal exactly as a customer would build it against the emulated authority (no p2c code in between)."""

import msal
import requests


def msal_app(tenant, credential) -> tuple[msal.ConfidentialClientApplication, requests.Session]:
    """A confidential client with ``credential`` (a secret or a certificate dict) trusting only the tenant's CA."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(tenant.ca_file)
    app = msal.ConfidentialClientApplication(tenant.client_id, client_credential=credential, authority=tenant.authority_url,
                                             instance_discovery=False, http_client=session)
    return app, session
