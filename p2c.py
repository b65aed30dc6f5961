"""p2c: Prospect to cash between Dynamics 365 Sales and Finance and Operations, as a staging sync.

The typer CLI. Each command loads the profile, opens the staging database and the clients
(this module is the only place that does either), calls one stage, and reports. Every
stage error ends as one line on stderr and a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import duckdb
import httpx
import typer

from extract.auth import MsalAuth, build_msal_app
from extract.errors import ExtractError
from extract.http import make_client
from extract.profile import EmulatedTenantSettings, Endpoints, Profile, load_profile, write_profile
from extract.registry import select_entities
from extract.run import extract
from extract.runs import new_run_id, record_stage, utcnow
from load.errors import LoadError, PushError
from load.plan import Plan, load_plan, make_plan, save_plan
from load.push import push
from load.writers import FnoWriter
from transform.build import build, record_builds, unbuildable
from transform.errors import BuildError, TransformError
from transform.project import Project, load_project

app = typer.Typer(
    help="Sync Dynamics 365 Sales and Finance and Operations through a DuckDB staging database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ProfileOption = Annotated[
    str, typer.Option("--profile", "-p", help="Profile name in profiles/ or path to a profile .toml file.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead of text.")]
STAGE_ERRORS = (ExtractError, TransformError, LoadError)
_debug = False


@app.callback()
def _options(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False) -> None:
    global _debug
    _debug = debug


# --- wiring: the only place that opens the staging database and builds clients -------------


@dataclass
class Session:
    profile: Profile
    con: duckdb.DuckDBPyConnection
    project: Project
    clients: dict[str, httpx.Client]


@contextmanager
def session(profile_name: str, *, connect: bool = True, tenant: Any = None) -> Iterator[Session]:
    """Profile, staging database, models and (unless ``connect`` is false) both service clients.

    An emulated profile starts its tenant here unless the caller passes a running ``tenant``.
    """
    profile = load_profile(profile_name)
    project = load_project(profile.models_dir, {"fno_company": profile.default_company})
    profile.staging_database.parent.mkdir(parents=True, exist_ok=True)
    con = _open_database(profile.staging_database)
    started_tenant = None
    clients: dict[str, httpx.Client] = {}
    try:
        if connect:
            if profile.emulated is not None and tenant is None:
                started_tenant = tenant = _start_tenant(profile)
            clients = _clients(profile, tenant)
        yield Session(profile, con, project, clients)
    finally:
        for client in clients.values():
            client.close()
        if started_tenant is not None:
            started_tenant.stop()
        con.close()


def _open_database(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise ExtractError(f"staging database {path}: {str(exc).splitlines()[0]}") from exc


def _start_tenant(profile: Profile) -> Any:
    from emulate.tenant import EmulatedTenant

    settings = profile.emulated
    return EmulatedTenant.start(settings.state_dir, seed=settings.seed, scale=settings.scale)


def _clients(profile: Profile, tenant: Any) -> dict[str, httpx.Client]:
    if tenant is not None:
        endpoints = _tenant_endpoints(tenant)
        secret = tenant.client_secret
    else:
        endpoints = profile.endpoints
        secret = endpoints.client_secret(profile.name)
    msal_app = build_msal_app(endpoints.authority, endpoints.client_id, secret, endpoints.ca_file)
    return {
        system: make_client(url, MsalAuth(msal_app, url), ca_file=endpoints.ca_file)
        for system, url in (("sales", endpoints.sales_url), ("fno", endpoints.fno_url))
    }


# --- stages ---------------------------------------------------------------------------------


def _stage(s: Session, run_id: int, stage: str, work: Callable[[], Any]) -> Any:
    """Run one stage, recording it in p2c_meta.runs whether it succeeds or fails."""
    started = utcnow()
    try:
        summary = work()
    except STAGE_ERRORS as exc:
        record_stage(s.con, run_id=run_id, stage=stage, profile=s.profile.name, started_at=started, status="failed", error=str(exc))
        raise
    record_stage(s.con, run_id=run_id, stage=stage, profile=s.profile.name, started_at=started, status="ok", summary=summary)
    return summary


def do_extract(s: Session, run_id: int, *, full_refresh: bool = False, select: Sequence[str] = ()) -> list[dict]:
    def work() -> list[dict]:
        entities = select_entities(s.project.entities_to_extract(), select, _model_needs(s.project))
        return [e.as_dict() for e in extract(s.con, s.clients, entities, run_id=run_id,
                                             companies=s.profile.companies, full_refresh=full_refresh)]

    summary = _stage(s, run_id, "extract", work)
    for e in summary:
        if e["full_reread_reason"] and e["full_reread_reason"] != "--full-refresh":
            typer.secho(f"extract  {e['entity']}: read in full: {e['full_reread_reason']}", err=True, fg=typer.colors.YELLOW)
    return summary


def _model_needs(project: Project) -> dict[str, set[tuple[str, str]]]:
    """Per model: the entities it reads through source(), its refs' and its target (for --select)."""
    def needs(name: str, seen: set[str]) -> set[tuple[str, str]]:
        model = project.models[name]
        target = model.config.get("target")
        found = set(model.sources) | ({(target.get("system"), target.get("entity"))} if isinstance(target, dict) else set())
        for parent in model.refs - seen:
            if parent in project.models:
                found |= needs(parent, seen | {parent})
        return found

    return {name: needs(name, {name}) for name in project.models}


def do_build(s: Session, run_id: int) -> list[dict]:
    def work() -> list[dict]:
        results = build(s.con, s.project)
        record_builds(s.con, run_id, results)
        failed = [r for r in results if r.status in ("error", "check_failed")]
        if failed:
            raise BuildError(failed[0].message + (f" (and {len(failed) - 1} more failed models)" if len(failed) > 1 else ""))
        return [r.as_dict() for r in results]

    return _stage(s, run_id, "build", work)


def do_plan(s: Session, run_id: int) -> dict:
    def work() -> dict:
        targets = s.project.targets()
        plan = make_plan(
            s.con, targets, dict(s.project.entities), run_id=run_id, created_at=utcnow(),
            blocked=unbuildable(s.con, [m.name for m in targets]),
        )
        save_plan(s.con, plan)
        return {"plan_id": plan.plan_id, "counts": plan.counts(), "skipped": list(plan.skipped),
                "operations": len(plan.items)}

    return _stage(s, run_id, "plan", work)


def do_push(s: Session, run_id: int, plan_id: str | None) -> dict:
    def work() -> dict:
        plan = load_plan(s.con, plan_id)
        result = push(s.con, plan, {"fno": FnoWriter(s.clients["fno"])}, run_id=run_id)
        if result.failures:
            raise PushError(f"{len(result.failures)} operation(s) failed, first: {result.failures[0]}")
        return {**result.as_dict(), "targets": target_counts({"counts": plan.counts()}, result.as_dict())}

    return _stage(s, run_id, "push", work)


def run_all(s: Session, *, full_refresh: bool = False) -> dict:
    run_id = new_run_id(s.con)
    extracted = do_extract(s, run_id, full_refresh=full_refresh)
    built = do_build(s, run_id)
    planned = do_plan(s, run_id)
    pushed = do_push(s, run_id, planned["plan_id"])
    return {"run_id": run_id, "extract": extracted, "build": built, "plan": planned,
            "targets": target_counts(planned, pushed)}


def target_counts(planned: dict, pushed: dict | None) -> dict[str, dict[str, int]]:
    """Per target entity: planned inserts/updates/conflicts, and failures when pushed."""
    counts = {}
    for entity, actions in planned["counts"].items():
        failed = (pushed or {}).get("counts", {}).get(entity, {}).get("failed", 0)
        counts[entity] = {"insert": actions.get("insert", 0), "update": actions.get("update", 0),
                          "conflict": actions.get("conflict", 0), "failed": failed}
    return counts


# --- commands -------------------------------------------------------------------------------


FullRefreshOption = Annotated[bool, typer.Option(
    "--full-refresh", help="Read every entity in full, ignoring stored delta tokens, and start new ones.")]


@app.command("extract")
def extract_command(
    profile: ProfileOption = "local",
    full_refresh: FullRefreshOption = False,
    select: Annotated[Optional[list[str]], typer.Option(
        "--select", "-s", help="Extract only this entity (sales.accounts) or what this model needs; repeatable.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Read every entity the models need from Sales and F&O into raw_* tables (changes only, where tracked)."""
    with _boundary(), session(profile) as s:
        summary = do_extract(s, new_run_id(s.con), full_refresh=full_refresh, select=select or ())
        _print(as_json, summary, lambda: [_extract_line(e) for e in summary])


@app.command("build")
def build_command(profile: ProfileOption = "local", as_json: JsonOption = False) -> None:
    """Render the models and materialise them in dependency order."""
    with _boundary(), session(profile, connect=False) as s:
        summary = do_build(s, new_run_id(s.con))
        _print(as_json, summary, lambda: [f"build    {r['model']:<34} {r['status']:<6} {r['rows']:>7} rows" for r in summary])


@app.command("plan")
def plan_command(
    profile: ProfileOption = "local",
    show: Annotated[bool, typer.Option("--show", help="List every operation's fields, old → new.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Diff the flow models against the extracted targets and store the plan."""
    with _boundary(), session(profile, connect=False) as s:
        summary = do_plan(s, new_run_id(s.con))
        summary["targets"] = target_counts(summary, None)
        details = _change_lines(load_plan(s.con, summary["plan_id"])) if show else []
        _print(as_json, summary, lambda: _plan_lines(summary) + details)


@app.command("push")
def push_command(
    profile: ProfileOption = "local",
    plan_id: Annotated[Optional[str], typer.Option("--plan", help="Plan id to push (default: the newest unpushed plan).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Apply a stored plan to the targets."""
    with _boundary(), session(profile) as s:
        summary = do_push(s, new_run_id(s.con), plan_id)
        _print(as_json, summary, lambda: _push_lines(summary))


@app.command("run")
def run_command(profile: ProfileOption = "local", full_refresh: FullRefreshOption = False, as_json: JsonOption = False) -> None:
    """Extract, build, plan and push in one run."""
    with _boundary(), session(profile) as s:
        summary = run_all(s, full_refresh=full_refresh)
        _print(as_json, summary, lambda: _run_lines(summary))


@app.command("demo")
def demo_command(
    state_dir: Annotated[Path, typer.Option(help="Where the demo keeps its tenant and staging database (wiped first).")] = Path(".p2c/demo"),
    scale: Annotated[int, typer.Option(help="Demo data scale (1 = a few hundred records).")] = 1,
    seed: Annotated[int, typer.Option(help="Demo data seed.")] = 42,
    edits: Annotated[int, typer.Option(help="How many Sales accounts a user edits between runs.")] = 5,
) -> None:
    """Sync a fresh emulated tenant end to end: run, edit some Sales accounts, run, run again."""
    from emulate.scenarios import edit_accounts
    from emulate.tenant import EmulatedTenant

    with _boundary():
        shutil.rmtree(state_dir, ignore_errors=True)
        state_dir.mkdir(parents=True)
        profile_path = write_profile(
            state_dir / "demo.toml", staging_database=state_dir / "staging.duckdb", comment="Written by `p2c demo`.",
            emulated=EmulatedTenantSettings(state_dir / "tenant", seed, scale),
        )
        with EmulatedTenant.start(state_dir / "tenant", seed=seed, scale=scale) as tenant:
            with session(str(profile_path), tenant=tenant) as s:
                typer.echo(f"Emulated tenant: Sales {tenant.sales_url}, F&O {tenant.fno_url} (seed {seed}, scale {scale})")
                typer.echo("\nRun 1: first sync of every active Sales account")
                _echo_lines(_run_lines(run_all(s)))
                changed = edit_accounts(tenant, edits, seed)
                typer.echo(f"\nA Sales user edits {len(changed)} accounts: {', '.join(changed)}")
                typer.echo("\nRun 2: only the edited accounts' changed fields are sent")
                second = run_all(s)
                _echo_lines(_run_lines(second))
                _echo_lines(_change_lines(load_plan(s.con, second["plan"]["plan_id"])))
                typer.echo("\nRun 3: nothing changed, nothing is sent")
                _echo_lines(_run_lines(run_all(s)))
                typer.echo(f"\nStaging database: {s.profile.staging_database}")


@app.command("emulate")
def emulate_command(
    state_dir: Annotated[Path, typer.Option(help="Tenant state folder (created and seeded when absent).")] = Path(".p2c/emulate"),
    scale: Annotated[int, typer.Option(help="Demo data scale for a new tenant.")] = 1,
    seed: Annotated[int, typer.Option(help="Demo data seed for a new tenant.")] = 42,
    profile_out: Annotated[Optional[Path], typer.Option(help="Write a ready-to-use profile for this tenant here.")] = None,
    latency_ms: Annotated[float, typer.Option(min=0, help="Server time added to every Sales and F&O request.")] = 0,
    throttle: Annotated[str, typer.Option(help="Service protection limits per user: 'real' (6,000 requests, "
                                                "1,200 s of execution time per 300 s, 52 concurrent) or 'off'.")] = "off",
) -> None:
    """Serve the emulated Sales and F&O tenant (and its token authority) until stopped."""
    from emulate.settings import EmulatorSettings
    from emulate.tenant import EmulatedTenant

    if throttle not in ("real", "off"):
        raise typer.BadParameter(f"{throttle!r} is not one of 'real', 'off'.", param_hint="'--throttle'")
    settings = EmulatorSettings(latency_ms=latency_ms, throttle=throttle)
    with _boundary(), EmulatedTenant.start(state_dir, seed=seed, scale=scale, settings=settings) as tenant:
        typer.echo(f"Token authority: {tenant.authority_url}")
        typer.echo(f"Sales (Dataverse): {tenant.sales_url}/api/data/v9.2/")
        typer.echo(f"F&O: {tenant.fno_url}/data/")
        typer.echo(f"CA certificate: {tenant.ca_file}")
        typer.echo(f"Client id: {tenant.client_id}")
        typer.echo(f"Latency: {latency_ms:g} ms per request; service protection: {throttle}")
        if profile_out is not None:
            write_profile(
                profile_out, staging_database=profile_out.with_suffix(".duckdb"), companies=(tenant.default_company,),
                endpoints=_tenant_endpoints(tenant, SERVED_SECRET_ENV),
                comment="Written by `p2c emulate`: the emulated tenant it serves.",
            )
            typer.echo(f"Profile: {profile_out} (reads the client secret from {SERVED_SECRET_ENV})")
            typer.echo(f"  export {SERVED_SECRET_ENV}='{tenant.client_secret}'   # the emulated app's secret")
        typer.echo("Serving; press Ctrl+C to stop.")
        try:
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("Stopped.")


SERVED_SECRET_ENV = "P2C_EMULATED_CLIENT_SECRET"


def _tenant_endpoints(tenant: Any, secret_env: str = "") -> Endpoints:
    return Endpoints(tenant.authority_url, tenant.client_id, secret_env, tenant.sales_url, tenant.fno_url,
                     Path(tenant.ca_file).resolve())


# --- output ---------------------------------------------------------------------------------


@contextmanager
def _boundary() -> Iterator[None]:
    """The one error boundary: a stage error becomes one line on stderr and exit code 1."""
    try:
        yield
    except (*STAGE_ERRORS, duckdb.Error, OSError) as exc:
        if _debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


def _print(as_json: bool, summary: Any, lines: Callable[[], list[str]]) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        _echo_lines(lines())


def _echo_lines(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def _extract_line(e: dict) -> str:
    retried = f"  {e['retries']} retried, {e['seconds_throttled']:.1f}s throttled" if e["retries"] else ""
    return (f"extract  {e['entity']:<34} {e['received']:>7} rows  {e['new']} new  {e['changed']} changed  "
            f"{e['deleted']} deleted  {e['requests']} requests ({e['read']}){retried}  {e['seconds']:.2f}s")


def _plan_lines(planned: dict) -> list[str]:
    lines = [f"plan     {planned['plan_id']}: {planned['operations']} operation(s)"]
    lines += [f"plan     {entity:<34} " + "  ".join(f"{n} {a}" for a, n in sorted(actions.items()))
              for entity, actions in planned["counts"].items()]
    lines += [f"plan     skipped {reason}" for reason in planned["skipped"]]
    return lines


def _change_lines(plan: Plan) -> list[str]:
    lines = []
    for item in plan.items:
        op = item.operation
        lines.append(f"  {op.action} {item.system}.{op.entity} {'/'.join(str(v) for _, v in op.key)}")
        lines += [f"      {c.field}: {c.old!r} → {c.new!r}" for c in op.changes if op.action == "update"]
    return lines


def _push_lines(pushed: dict) -> list[str]:
    if not pushed["counts"]:
        return [f"push     {pushed['plan_id']}: nothing to send"]
    return [f"push     {entity:<34} " + "  ".join(f"{n} {a}" for a, n in sorted(counts.items()))
            for entity, counts in pushed["counts"].items()]


def _run_lines(summary: dict) -> list[str]:
    lines = [f"run {summary['run_id']}"]
    lines += [_extract_line(e) for e in summary["extract"]]
    lines += [f"build    {r['model']:<34} {r['status']:<6} {r['rows']:>7} rows" for r in summary["build"]]
    lines += _plan_lines(summary["plan"])
    if not summary["targets"]:
        lines.append("push     nothing to send: targets already match")
    for entity, c in summary["targets"].items():
        lines.append(f"push     {entity:<34} {c['insert']} insert  {c['update']} update  "
                     f"{c['conflict']} conflict  {c['failed']} failed")
    return lines


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
