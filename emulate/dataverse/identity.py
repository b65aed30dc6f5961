"""`WhoAmI`: the calling application user, its business unit and organization (protocols.md 1.9, D2)."""

import uuid

from emulate.server import Response

DOP_HINT = 4  # x-ms-dop-hint: recommended parallelism; the real value varies by environment (D2)


def who_am_i(tenant_id: str, client_id: str, api_root: str) -> Response:
    """Stable ids derived from the tenant and the registered app, with the `x-ms-dop-hint` header."""
    organization = uuid.uuid5(uuid.UUID(tenant_id), "organization")
    return Response.json(200, {
        "@odata.context": f"{api_root}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
        "BusinessUnitId": str(uuid.uuid5(organization, "businessunit")),
        "UserId": str(uuid.uuid5(organization, f"applicationuser:{client_id}")),
        "OrganizationId": str(organization),
    }, {"x-ms-dop-hint": str(DOP_HINT)})
