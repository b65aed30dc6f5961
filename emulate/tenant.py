"""The emulated tenant: token authority, Sales (Dataverse) and F&O over HTTPS on loopback."""

import secrets
import uuid
from pathlib import Path
from types import TracebackType

from emulate import cluster, warm_up
from emulate.authority import FNO_RESOURCE, SALES_RESOURCE, AppRegistration, TokenAuthority
from emulate.catalog import DEFAULT_COMPANY, FNO_ENTITY_SETS, SALES_ENTITY_SETS
from emulate.client_certificate import ClientCertificate, issue_client_certificate
from emulate.dataverse.service import DataverseService
from emulate.demo_data import seed_entities
from emulate.fno.service import FnoService
from emulate.front import Dial, ServiceFront
from emulate.protection import DATAVERSE, FNO
from emulate.read_ahead import ReadAhead
from emulate.server import HttpsServer
from emulate.settings import EmulatorSettings
from emulate.store import Store
from emulate.tls import issue_server_context


PAGE_TEXTS = "page_texts"  # the state directory's folder of page bodies (emulate/json_cache.py)
_ENTITY_SETS = [*SALES_ENTITY_SETS.values(), *FNO_ENTITY_SETS.values()]


def _seed_store(store: Store, seed: int, scale: int) -> None:
    """Create and fill a fresh state file: tables, demo rows, counters, the registered app."""
    with store.writing() as cur:
        store.create_tables(cur, _ENTITY_SETS)
        for sequence, start in seed_entities(cur, seed, scale).items():
            store.create_sequence(cur, sequence, start)
        cluster.cluster(store, cur, _ENTITY_SETS)  # large tables in page order (emulate/cluster.py)
        client_id = str(uuid.uuid4())
        certificate = issue_client_certificate(client_id)
        store.put_settings(cur, {
            "seed": str(seed), "scale": str(scale), "tenant_id": str(uuid.uuid4()),
            "client_id": client_id, "client_secret": secrets.token_urlsafe(30),
            "client_certificate": certificate.certificate_pem, "client_certificate_key": certificate.private_key_pem,
            cluster.SETTING: "1",
        })


class EmulatedTenant:
    """A running tenant; build it with `EmulatedTenant.start(state_dir)`."""

    default_company = DEFAULT_COMPANY

    def __init__(self, store: Store, authority: TokenAuthority, servers: dict[str, HttpsServer],
                 sales: DataverseService, fno: FnoService, ca_file: Path, dial: Dial) -> None:
        self._store, self._servers, self._dial = store, servers, dial
        self.sales, self.fno, self.ca_file = sales, fno, ca_file
        self.tenant_id = authority.registration.tenant_id
        self.client_id = authority.registration.client_id
        self.client_secret = authority.registration.client_secret
        stored = store.settings()
        certificate = ClientCertificate(stored["client_certificate_key"], stored["client_certificate"]) \
            if "client_certificate" in stored else None
        # msal `client_credential` dicts: with the public certificate (PS256, x5t#S256) or its SHA-1 thumbprint (RS256, x5t)
        self.client_certificate = certificate.msal_credential if certificate else None
        self.client_certificate_by_thumbprint = certificate.msal_thumbprint_credential if certificate else None
        self.authority_url = authority.url
        self.sales_url = servers["sales"].origin
        self.fno_url = servers["fno"].origin

    @classmethod
    def start(cls, state_dir: Path, *, seed: int = 42, scale: int = 1, fno_page_size: int = 10_000,
              token_lifetime_s: int = 3599, settings: EmulatorSettings = EmulatorSettings()) -> "EmulatedTenant":
        """Open (or create from `seed`/`scale`) `state_dir/tenant.duckdb` and serve it.

        `settings` adds latency, service protection and faults (all off by default)."""
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        store = Store(state_dir / "tenant.duckdb")
        try:
            if not store.is_seeded:
                _seed_store(store, seed, scale)
            cluster.ensure_clustered(store, _ENTITY_SETS)  # once, for a tenant seeded before clustering
            store.attach_page_texts(state_dir / PAGE_TEXTS)  # pages read by key, kept across restarts
            stored = store.settings()
            ca_file, context = issue_server_context(state_dir)
        except BaseException:
            store.close()
            raise
        dial = Dial(settings)
        read_ahead = {name: ReadAhead(lambda: dial.settings.read_ahead) for name in ("sales", "fno")}
        authority = TokenAuthority(AppRegistration(stored["tenant_id"], stored["client_id"], stored["client_secret"],
                                                   stored.get("client_certificate", "")),
                                   token_lifetime_s)
        sales = DataverseService(store, authority, seed=int(stored["seed"]), read_ahead=read_ahead["sales"])
        fno = FnoService(store, authority, page_size=fno_page_size, read_ahead=read_ahead["fno"])
        warm_up.begin(state_dir, store, read_ahead["sales"], read_ahead["fno"])  # first pages served before, built meanwhile
        servers = {"authority": HttpsServer(authority, context),
                   "sales": HttpsServer(ServiceFront("sales", sales, authority, DATAVERSE, dial), context),
                   "fno": HttpsServer(ServiceFront("fno", fno, authority, FNO, dial), context)}
        authority.origin = servers["authority"].origin
        authority.register(servers["sales"].origin, SALES_RESOURCE)
        authority.register(servers["fno"].origin, FNO_RESOURCE)
        warm_up.wait(read_ahead["sales"], read_ahead["fno"])
        for server in servers.values():
            server.start()
        tenant = cls(store, authority, servers, sales, fno, ca_file, dial)
        tenant._state_dir = state_dir
        return tenant

    def describe(self) -> list[str]:
        """What is served where, a line each (for `p2c emulate`)."""
        return [f"Token authority: {self.authority_url}", f"Sales (Dataverse): {self.sales_url}/api/data/v9.2/",
                f"F&O: {self.fno_url}/data/", f"CA certificate: {self.ca_file}", f"Client id: {self.client_id}"]

    @property
    def settings(self) -> EmulatorSettings:
        return self._dial.settings

    def configure(self, settings: EmulatorSettings | None = None, **changes: object) -> EmulatorSettings:
        """Change latency, protection or faults while serving: `tenant.configure(throttle="off")`
        edits the current settings, `tenant.configure(EmulatorSettings(...))` replaces them."""
        settings = (settings or self.settings).replace(**changes)
        self._dial.configure(settings)
        return settings

    def stop(self) -> None:
        """Stop serving and close the state file so another process may open it."""
        for server in self._servers.values():
            server.stop()
        for service in (self.sales, self.fno):
            service.read_ahead.stop()  # after the last request (none schedules more), before the store closes
        warm_up.save(self._state_dir, self.sales.read_ahead, self.fno.read_ahead)
        self._store.close()

    def __enter__(self) -> "EmulatedTenant":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
