"""Profiles: where the tenant is, how to authenticate, where the staging database lives.

A profile is a TOML file in ``profiles/`` (named by its stem) or any path. It names the
environment variable that holds the client secret, never the secret itself. A profile with
a ``[tenant] emulated = true`` table starts the emulated tenant in-process instead of
naming real endpoints.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extract.errors import ProfileError

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROFILES_DIR = PROJECT_DIR / "profiles"


@dataclass(frozen=True)
class Endpoints:
    """A real (or separately served) tenant: token authority, services and credentials."""

    authority: str
    client_id: str
    client_secret_env: str
    sales_url: str
    fno_url: str
    ca_file: Path | None = None

    @classmethod
    def of_tenant(cls, tenant: Any, secret_env: str = "") -> "Endpoints":
        """The endpoints of a running emulated tenant (its secret read from `secret_env`, when named)."""
        return cls(tenant.authority_url, tenant.client_id, secret_env, tenant.sales_url, tenant.fno_url,
                   Path(tenant.ca_file).resolve())

    def client_secret(self, profile: str) -> str:
        secret = os.environ.get(self.client_secret_env, "")
        if not secret:
            raise ProfileError(
                f"profile {profile!r}: environment variable {self.client_secret_env} "
                "(the client secret) is not set"
            )
        return secret


@dataclass(frozen=True)
class EmulatedTenantSettings:
    """The emulated tenant started in-process, its state kept in ``state_dir``."""

    state_dir: Path
    seed: int = 42
    scale: int = 1


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    staging_database: Path
    models_dir: Path
    companies: tuple[str, ...]
    default_company: str
    endpoints: Endpoints | None = None
    emulated: EmulatedTenantSettings | None = None
    max_parallel: int = 8  # requests in flight per service ([extract] max_parallel; never above the service's 52)


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (``profiles/<name>.toml``) or by path."""
    path = _locate(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"profile {path}: cannot be read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {path}: not valid TOML ({exc})") from exc
    return _parse(path, data)


def _locate(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.parent != Path("."):
        if candidate.is_file():
            return candidate
        raise ProfileError(f"profile file {candidate} does not exist")
    named = PROFILES_DIR / f"{name_or_path}.toml"
    if named.is_file():
        return named
    known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.toml")))
    raise ProfileError(f"unknown profile {name_or_path!r} (known: {known}; or give a path to a .toml file)")


def _parse(path: Path, data: dict[str, Any]) -> Profile:
    reader = _Reader(path, data)
    staging = reader.table("staging")
    fno = reader.table("fno")
    companies = tuple(reader.value(fno, "fno", "companies", list, ["usmf"]))
    default_company = reader.value(fno, "fno", "default_company", str, companies[0] if companies else "usmf")
    tenant = reader.table("tenant", required=False)
    emulated = None
    endpoints = None
    if tenant and reader.value(tenant, "tenant", "emulated", bool, False):
        emulated = EmulatedTenantSettings(
            state_dir=reader.path(reader.value(tenant, "tenant", "state_dir", str, ".p2c/tenant")),
            seed=reader.value(tenant, "tenant", "seed", int, 42),
            scale=reader.value(tenant, "tenant", "scale", int, 1),
        )
    else:
        auth = reader.table("auth")
        sales = reader.table("sales")
        ca_file = reader.value(auth, "auth", "ca_file", str, "")
        endpoints = Endpoints(
            authority=reader.value(auth, "auth", "authority", str),
            client_id=reader.value(auth, "auth", "client_id", str),
            client_secret_env=reader.value(auth, "auth", "client_secret_env", str),
            sales_url=reader.value(sales, "sales", "url", str).rstrip("/"),
            fno_url=reader.value(fno, "fno", "url", str).rstrip("/"),
            ca_file=reader.path(ca_file) if ca_file else None,
        )
    project = reader.table("project", required=False) or {}
    extract = reader.table("extract", required=False) or {}
    max_parallel = reader.value(extract, "extract", "max_parallel", int, 8)
    if max_parallel < 1:
        raise ProfileError(f"profile {path}: extract.max_parallel must be at least 1, not {max_parallel}")
    return Profile(
        name=path.stem,
        path=path,
        staging_database=reader.path(reader.value(staging, "staging", "database", str)),
        models_dir=reader.path(reader.value(project, "project", "models", str, str(PROJECT_DIR / "models"))),
        companies=companies,
        default_company=default_company,
        endpoints=endpoints,
        emulated=emulated,
        max_parallel=max_parallel,
    )


_MISSING = object()


class _Reader:
    """Typed access to a profile's tables, with errors that name the file and key."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path_ = path
        self.data = data

    def table(self, name: str, *, required: bool = True) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise ProfileError(f"profile {self.path_}: missing table [{name}]")
            return {}
        if not isinstance(value, dict):
            raise ProfileError(f"profile {self.path_}: [{name}] must be a table")
        return value

    def value(self, table: dict[str, Any], table_name: str, key: str, kind: type, default: Any = _MISSING) -> Any:
        if key not in table:
            if default is _MISSING:
                raise ProfileError(f"profile {self.path_}: missing key {table_name}.{key}")
            return default
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ProfileError(f"profile {self.path_}: {table_name}.{key} must be {kind.__name__}, not {value!r}")
        return value

    def path(self, value: str) -> Path:
        """Relative paths in a profile are relative to the working directory, as in dbt."""
        return Path(value).expanduser()


def write_profile(
    path: Path,
    *,
    staging_database: Path,
    companies: tuple[str, ...] = ("usmf",),
    endpoints: Endpoints | None = None,
    emulated: EmulatedTenantSettings | None = None,
    models_dir: Path | None = None,
    comment: str = "",
) -> Path:
    """Write a profile that ``load_profile`` reads back as given: the one writer of the format."""
    tables: list[tuple[str, dict[str, Any]]] = []
    if models_dir is not None:
        tables.append(("project", {"models": str(models_dir)}))
    if emulated is not None:
        tables.append(("tenant", {"emulated": True, "state_dir": str(emulated.state_dir),
                                  "seed": emulated.seed, "scale": emulated.scale}))
    if endpoints is not None:
        auth = {"authority": endpoints.authority, "client_id": endpoints.client_id,
                "client_secret_env": endpoints.client_secret_env}
        if endpoints.ca_file is not None:
            auth["ca_file"] = str(endpoints.ca_file)
        tables += [("auth", auth), ("sales", {"url": endpoints.sales_url})]
    fno = {"url": endpoints.fno_url} if endpoints is not None else {}
    fno.update({"companies": list(companies), "default_company": companies[0]})
    tables += [("fno", fno), ("staging", {"database": str(staging_database)})]
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    body = "\n".join(f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items())
                     for name, values in tables)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + body, encoding="utf-8")
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string
