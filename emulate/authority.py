"""Emulated Entra ID token authority: discovery, client-credentials tokens, verification.

Error shapes follow Entra ID: `{"error", "error_description", "error_codes", ...}`
with AADSTS codes; msal reads `error`/`error_description` (protocols.md 3.2, 5.3).
"""

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from emulate.client_certificate import thumbprints
from emulate.errors import TokenError, Unauthorized
from emulate.server import Request, Response

_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_IGNORED_SCOPES = {"openid", "profile", "offline_access"}
# The real services' resource identifiers (protocols.md 5.3). A client configured for a real org may ask
# for these; each stands for one emulated service, and its token carries the identifier as asked.
SALES_RESOURCE = "https://org.crm.dynamics.com"
FNO_RESOURCE = "https://env.operations.dynamics.com"


@dataclass(frozen=True)
class AppRegistration:
    """The one app registered in the tenant: a client secret and (optionally) a certificate."""

    tenant_id: str
    client_id: str
    client_secret: str
    certificate_pem: str = ""  # public certificate for client assertions


class TokenAuthority:
    """Issues RS256 access tokens for registered resources and verifies them for the services."""

    def __init__(self, registration: AppRegistration, lifetime_s: int) -> None:
        self.registration = registration
        self.lifetime_s = lifetime_s
        self.resources: set[str] = set()  # the emulated services' origins
        self.aliases: dict[str, str] = {}  # a real resource identifier -> the origin it stands for
        self.origin = ""  # set by the tenant once the authority listens
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = uuid.uuid4().hex
        self._verified: dict[tuple, dict] = {}  # (token, audiences, issuer, tenant) -> its claims, checked once

    def register(self, origin: str, alias: str) -> None:
        """A service at `origin` that tokens for the real resource `alias` are also good for."""
        self.resources.add(origin)
        self.aliases[alias] = origin

    def _known(self, resource: str) -> bool:
        return resource in self.resources or resource in self.aliases

    @property
    def url(self) -> str:
        """The authority URL msal is given."""
        return f"{self.origin}/{self.registration.tenant_id}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/v2.0"

    @property
    def authorize_endpoint(self) -> str:
        """What resource servers advertise in `WWW-Authenticate` (the v1 form, as Dataverse does)."""
        return f"{self.url}/oauth2/authorize"

    def challenge(self, origin: str) -> Response:
        """The 401 a protected service answers with: an empty body and a Bearer challenge.

        Shape seen from Dataverse (MSAL.NET issues #3026, #3112); F&O's is not documented, and
        it sits behind the same Entra front door, so it answers alike.
        """
        return Response(401, headers={"WWW-Authenticate": f"Bearer authorization_uri={self.authorize_endpoint}, resource_id={origin}/"})

    # -- HTTP ---------------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        tenant, _, rest = request.path.strip("/").partition("/")
        if request.method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            self._check_tenant(tenant)
            return Response.json(200, self._discovery())
        if request.method == "GET" and rest == "discovery/v2.0/keys":
            return Response.json(200, {"keys": [self._jwk()]})
        if request.method == "POST" and rest in ("oauth2/v2.0/token", "oauth2/token"):
            try:
                self._check_tenant(tenant)
                form = dict(parse_qsl(request.body.decode()))
                return Response.json(200, self._token(form) if rest == "oauth2/v2.0/token" else self._token_v1(form))
            except TokenError as exc:
                return Response.json(exc.status, _error_body(exc))
        return Response.json(404, {"error": "not_found", "error_description": "Unknown endpoint."})

    def _discovery(self) -> dict:
        return {
            "token_endpoint": f"{self.url}/oauth2/v2.0/token",
            "authorization_endpoint": f"{self.url}/oauth2/v2.0/authorize",
            "jwks_uri": f"{self.url}/discovery/v2.0/keys",
            "issuer": self.issuer,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "tenant_region_scope": "EU",
        }

    def _jwk(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {**jwk, "kid": self._kid, "use": "sig", "alg": "RS256"}

    def _check_tenant(self, tenant: str) -> None:
        if tenant != self.registration.tenant_id:
            raise TokenError(400, "invalid_request", 90002, f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")

    # -- token endpoint -----------------------------------------------------
    def _token(self, form: dict[str, str]) -> dict:
        self._check_grant(form)
        self._authenticate_client(form)
        token, _ = self._access_token(self._resource(form.get("scope", "")))
        return {"token_type": "Bearer", "expires_in": self.lifetime_s, "ext_expires_in": self.lifetime_s, "access_token": token}

    def _token_v1(self, form: dict[str, str]) -> dict:
        """The legacy v1 endpoint: `resource=` instead of `scope=`, numbers as strings."""
        self._check_grant(form)
        self._authenticate_client(form)
        resource = form.get("resource", "").rstrip("/")
        if not resource:
            raise TokenError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'resource'.")
        if not self._known(resource):
            raise TokenError(400, "invalid_resource", 500011, f"The resource principal named {resource} was not found in the tenant named {self.registration.tenant_id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.")
        token, now = self._access_token(resource)
        lifetime = str(self.lifetime_s)
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "expires_on": str(now + self.lifetime_s),
                "not_before": str(now), "resource": form["resource"], "access_token": token}

    @staticmethod
    def _check_grant(form: dict[str, str]) -> None:
        grant = form.get("grant_type")
        if not grant:
            raise TokenError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        if grant != "client_credentials":
            raise TokenError(400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'.")

    def _access_token(self, resource: str) -> tuple[str, int]:
        """A signed access token for `resource`, and its issue time."""
        now = int(time.time())
        claims = {
            "aud": resource, "iss": self.issuer, "iat": now, "nbf": now, "exp": now + self.lifetime_s,
            "appid": self.registration.client_id, "appidacr": "1", "idtyp": "app",
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.registration.client_id)),
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, self.registration.client_id)),
            "tid": self.registration.tenant_id, "ver": "1.0",
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid}), now

    def _authenticate_client(self, form: dict[str, str]) -> None:
        client_id = form.get("client_id", "")
        if not client_id:
            raise TokenError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
        if client_id != self.registration.client_id:
            raise TokenError(400, "unauthorized_client", 700016, f"Application with identifier '{client_id}' was not found in the directory '{self.registration.tenant_id}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")
        if "client_assertion" in form or "client_assertion_type" in form:
            self._check_assertion(form)
            return
        secret = form.get("client_secret")
        if secret is None:
            raise TokenError(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        if secret != self.registration.client_secret:
            raise TokenError(401, "invalid_client", 7000215, f"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'.")

    def _check_assertion(self, form: dict[str, str]) -> None:
        """A certificate credential: a JWT signed with the registered certificate's key
        (Entra's certificate-credentials rules: `aud` the token endpoint, `iss` = `sub` = client id)."""
        client_id = self.registration.client_id
        if form.get("client_assertion_type") != _ASSERTION_TYPE:
            raise TokenError(400, "invalid_request", 50027, f"The client_assertion_type '{form.get('client_assertion_type', '')}' is not supported; use '{_ASSERTION_TYPE}'.")
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise TokenError(400, "invalid_request", 50027, f"JWT token is invalid or malformed: {exc}") from exc
        algorithm = header.get("alg")
        if algorithm not in ("PS256", "RS256"):
            raise TokenError(401, "invalid_client", 5002738, f"Invalid JWT token. '{algorithm}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, HS256'.")
        sent = {name: str(header[name]).rstrip("=") for name in ("x5t#S256", "x5t") if name in header}  # msal keeps the padding
        registered = thumbprints(self.registration.certificate_pem) if self.registration.certificate_pem else {}
        if not sent or not any(registered.get(name) == value for name, value in sent.items()):
            used = next(iter(sent.values()), "")
            raise TokenError(401, "invalid_client", 700027, f"The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{used}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]")
        public_key = x509.load_pem_x509_certificate(self.registration.certificate_pem.encode()).public_key()
        try:
            claims = jwt.decode(assertion, public_key, algorithms=[algorithm], options={"verify_aud": False, "verify_exp": False, "require": ["aud", "iss", "sub", "exp", "jti"]})
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(400, "invalid_request", 50027, f"JWT token is invalid or malformed: {exc}.") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(401, "invalid_client", 700027, "Client assertion failed signature validation.") from exc
        if claims["aud"] not in (f"{self.url}/oauth2/v2.0/token", f"{self.url}/oauth2/token"):
            raise TokenError(401, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer.")
        if claims["iss"] != client_id or claims["sub"] != client_id:
            raise TokenError(401, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
        now = int(time.time())
        if not claims["exp"] > now >= int(claims.get("nbf", now)) - 300:
            raise TokenError(401, "invalid_client", 700024, f"Client assertion is not within its valid time range. Current time: {dt.datetime.fromtimestamp(now, dt.timezone.utc):%Y-%m-%dT%H:%M:%S.0000000Z}, expiry time of assertion {dt.datetime.fromtimestamp(int(claims['exp']), dt.timezone.utc):%Y-%m-%dT%H:%M:%S.0000000Z}.")

    def _resource(self, scope: str) -> str:
        scopes = [s for s in scope.split() if s not in _IGNORED_SCOPES]
        if not scopes:
            raise TokenError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise TokenError(400, "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
        resource = scopes[0].removesuffix("/.default").rstrip("/")
        if not self._known(resource):
            raise TokenError(400, "invalid_resource", 500011, f"The resource principal named {resource} was not found in the tenant named {self.registration.tenant_id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.")
        return resource

    # -- used by the services -----------------------------------------------
    def verify(self, authorization: str | None, audience: str) -> dict:
        """Claims of a valid bearer token for `audience` (a service origin) or its real alias; `Unauthorized` otherwise.

        A token once found valid for these audiences is not decoded again (a $batch sends it with every
        part) while its time claims still hold; when they no longer do, it is decoded again, and fails
        as it would have."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Bearer token is missing.")
        audiences = [audience, *(alias for alias, origin in self.aliases.items() if origin == audience)]
        remembered = (token.strip(), tuple(audiences), self.issuer, self.registration.tenant_id)
        claims = self._verified.get(remembered)
        if claims is not None and _in_time(claims, time.time()):
            return dict(claims)
        try:
            claims = jwt.decode(token.strip(), self._key.public_key(), algorithms=["RS256"],
                                audience=audiences, issuer=self.issuer, options={"require": ["exp", "aud", "iss", "tid"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Bearer token is not valid: {exc}") from exc
        if claims["tid"] != self.registration.tenant_id:
            raise Unauthorized("Bearer token was issued for another tenant.")
        if len(self._verified) >= _MAX_VERIFIED:
            self._verified.clear()
        self._verified[remembered] = dict(claims)
        return claims


_MAX_VERIFIED = 1024


def _in_time(claims: dict, now: float) -> bool:
    """Whether PyJWT (no leeway) would still accept the token's `iat`, `nbf` and `exp` at `now`."""
    return all(int(claims[name]) <= now for name in ("iat", "nbf") if name in claims) and int(claims["exp"]) > now


def _error_body(exc: TokenError) -> dict:
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": exc.error,
        "error_description": f"AADSTS{exc.aadsts}: {exc.description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {stamp}",
        "error_codes": [exc.aadsts],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={exc.aadsts}",
    }
