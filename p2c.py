"""p2c: Prospect to cash between Dynamics 365 Sales and Finance and Operations, as a staging sync.

The typer CLI. Each command loads the profile, opens the staging database and the clients
(this module is the only place that does either), calls one stage, and reports. Every
stage error ends as one line on stderr and a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
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
from extract.parallel import Parallelism
from extract.profile import EmulatedTenantSettings, Endpoints, Profile, load_profile, write_profile
from extract.progress import progress_for
from extract.registry import select_entities
from extract.run import extract
from extract.runs import new_run_id, record_stage, utcnow
from load.errors import LoadError, PushError
from load.plan import load_plan, make_plan, settle, targets_of
from load.push import not_written, push, target_counts
from load.replay import plan_as_of
from load.waves import MAX_WAVES, affected_models, affected_targets, total_targets, written_entities
from load.writers import DataverseWriter, FnoWriter
from transform.build import build, build_failure, record_builds, unbuildable
from transform.checks import check_models, record_checks
from transform.errors import BuildError, ModelError, TransformError
from transform.lineage import describe as describe_lineage, lineage_of
from transform.project import Project, load_project
from transform.report import build_lines, check_lines
from audit import exit_codes, summaries
from audit.errors import AuditError

app = typer.Typer(
    help="Sync Dynamics 365 Sales and Finance and Operations through a DuckDB staging database.\n\n"
         "A day with p2c: `p2c run` (extract, build, plan, push); `p2c status` (what the last runs did, what "
         "waits for a retry); `p2c runs show RUN` (one run in detail); `p2c trace ENTITY KEY` (one record's story, "
         "e.g. `p2c trace accounts ACC-01000-BVRCPS`). Every command takes --profile; reports take --json.",
    epilog=exit_codes.HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ProfileOption = Annotated[
    str, typer.Option("--profile", "-p", help="Profile name in profiles/ or path to a profile .toml file.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead of text.")]
STAGE_ERRORS = (ExtractError, TransformError, LoadError, AuditError)
_debug = False
_quiet = False


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors (and --json output).")] = False,
) -> None:
    global _debug, _quiet
    _debug, _quiet = debug, quiet


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
        endpoints = Endpoints.of_tenant(tenant)
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
        entities = select_entities(s.project.entities_to_extract(), select, s.project.model_needs())
        with progress_for(sys.stderr, quiet=_quiet) as progress:  # a bar only on a terminal, never with --quiet
            return [e.as_dict() for e in extract(s.con, s.clients, entities, run_id=run_id,
                                                 companies=s.profile.companies, full_refresh=full_refresh,
                                                 parallelism=Parallelism(s.profile.max_parallel), progress=progress)]

    summary = _stage(s, run_id, "extract", work)
    for e in summary:
        if e["full_reread_reason"] and e["full_reread_reason"] != "--full-refresh":
            _note(f"extract  {e['entity']}: read in full: {e['full_reread_reason']}")
        if e.get("warning"):
            _note(f"extract  {e['entity']}: {e['warning']}")
    return summary


def do_build(s: Session, run_id: int, select: Sequence[str] = (), *, hold_back: bool = False) -> list[dict]:
    """Build the models. A failed model raises, unless ``hold_back``: then `p2c run` goes on without it
    (plan skips it and what depends on it) and reports it when the run ends."""
    def work() -> list[dict]:
        results = build(s.con, s.project, select)
        record_builds(s.con, run_id, results)
        error = build_failure([r.as_dict() for r in results])
        if error is not None:
            raise error
        return [r.as_dict() for r in results]

    try:
        return _stage(s, run_id, "build", work)  # a failed model marks the stage failed in p2c_meta.runs
    except BuildError as exc:
        if hold_back and hasattr(exc, "results"):
            return exc.results
        raise


def do_plan(s: Session, run_id: int, only: Sequence[str] | None = None, wave: int | None = None) -> dict:
    def work() -> dict:
        targets = s.project.targets()
        plan = make_plan(
            s.con, targets, dict(s.project.entities), run_id=run_id, created_at=utcnow(),
            blocked=unbuildable(s.con, [m.name for m in targets]), only=only,
        )
        return {"plan_id": plan.plan_id, "counts": plan.counts(), "skipped": list(plan.skipped),
                "operations": plan.operations, "breakdown": list(plan.breakdown),
                **({"wave": wave, "models": sorted(only or ())} if wave else {})}

    return _stage(s, run_id, "plan", work)


def do_push(s: Session, run_id: int, plan_id: str | None, progress: Callable[[str], None] | None = None, *,
            batch_size: int = 1000, parallel: int = 4, hold_back: bool = False) -> dict:
    """Push a stored plan. Records not written raise, unless ``hold_back``: then `p2c run` goes on and
    reports them when the run ends."""
    def work() -> dict:
        plan = load_plan(s.con, plan_id)
        targets = targets_of(s.project.targets())
        writers = {"fno": FnoWriter(s.clients["fno"], targets), "sales": DataverseWriter(s.clients["sales"], targets)}
        result = push(s.con, plan, writers, targets, dict(s.project.entities), run_id=run_id,
                      max_operations=batch_size, parallel=parallel,
                      progress=progress or (lambda line: _note(f"push     {line}", warning=False)))
        for conflict in result.conflicts:
            _note(f"push     conflict {conflict}")
        summary = {**result.as_dict(), "targets": target_counts({"counts": plan.counts()}, result.as_dict())}
        if result.failures:
            error = not_written(result.failures)
            error.summary = summary
            raise error
        return summary

    try:
        return _stage(s, run_id, "push", work)  # records not written mark the stage failed in p2c_meta.runs
    except PushError as exc:
        if hold_back and hasattr(exc, "summary"):
            return exc.summary
        raise


def run_all(s: Session, *, full_refresh: bool = False) -> dict:
    run_id = new_run_id(s.con)
    extracted = do_extract(s, run_id, full_refresh=full_refresh)
    built = do_build(s, run_id, hold_back=True)
    planned = do_plan(s, run_id)
    pushed = do_push(s, run_id, planned["plan_id"], hold_back=True)
    conflicts, failures = list(pushed["conflicts"]), list(pushed["failures"])
    waves = [{"wave": 1, "plan_id": planned["plan_id"], "operations": planned["operations"],
              "targets": target_counts(planned, pushed)}]
    while len(waves) < MAX_WAVES:  # what was just written may let more models converge in this run (load/waves.py)
        written = written_entities(pushed)
        models = affected_targets(s.project.models, written)
        if not models:
            break
        rebuilt = do_build(s, run_id, sorted(affected_models(s.project.models, written)), hold_back=True)
        built = list({r["model"]: r for r in built + rebuilt}.values())  # a model's latest build in this run counts
        again = do_plan(s, run_id, only=models, wave=len(waves) + 1)
        if not any(c.get("insert") or c.get("update") for c in again["counts"].values()):
            settle(s.con, again["plan_id"], run_id)  # nothing to send: a later `p2c push` must not pick it up
            break  # nothing more to write (conflicts held back were reported by the earlier wave)
        pushed = do_push(s, run_id, again["plan_id"], hold_back=True)
        conflicts += pushed["conflicts"]
        failures += pushed["failures"]
        waves.append({"wave": len(waves) + 1, "plan_id": again["plan_id"], "operations": again["operations"],
                      "targets": target_counts(again, pushed)})
    return {"run_id": run_id, "extract": extracted, "build": built, "plan": planned, "waves": waves,
            "targets": total_targets(waves),
            "conflicts": conflicts, "failures": failures}


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
        _print(as_json, summary, lambda: [summaries.extract_line(e) for e in summary])


SelectOption = Annotated[Optional[list[str]], typer.Option(
    "--select", "-s", help="A model, flow:<flow>, +model (and its upstream), model+ (and its downstream); repeatable.")]


@app.command("build")
def build_command(profile: ProfileOption = "local", select: SelectOption = None, as_json: JsonOption = False) -> None:
    """Render the models and materialise them in dependency order, running their checks."""
    with _boundary(), session(profile, connect=False) as s:
        try:
            summary = do_build(s, new_run_id(s.con), select or ())
        except BuildError as exc:
            _print(as_json, getattr(exc, "results", []), lambda: build_lines(getattr(exc, "results", [])))
            raise
        _print(as_json, summary, lambda: build_lines(summary))


@app.command("compile")
def compile_command(model: Annotated[str, typer.Argument(help="Model name.")], profile: ProfileOption = "local") -> None:
    """Print a model's rendered SQL."""
    with _boundary(), session(profile, connect=False) as s:
        if model in s.project.errors:
            raise s.project.errors[model]
        if model not in s.project.models:
            raise ModelError(f"no model named {model!r} (models: {', '.join(sorted(s.project.models))})")
        typer.echo(s.project.models[model].sql.strip())


@app.command("check")
def check_command(profile: ProfileOption = "local", select: SelectOption = None, as_json: JsonOption = False) -> None:
    """Run the models' checks on their built tables; a failing check blocks that model's push."""
    with _boundary(), session(profile, connect=False) as s:
        run_id = new_run_id(s.con)
        results = check_models(s.con, s.project, select or ())
        record_checks(s.con, run_id, results)
        summary = [r.as_dict() for r in results]
        _print(as_json, summary, lambda: check_lines(summary))
        failed = [r for r in results if r.status != "pass"]
        if failed:
            raise BuildError(f"{len(failed)} check(s) failed; first: {failed[0].message}")


@app.command("lineage")
def lineage_command(
    column: Annotated[str, typer.Argument(help="ENTITY.FIELD (e.g. CustomersV2.CustomerGroupId) or MODEL.COLUMN.")],
    profile: ProfileOption = "local",
    as_json: JsonOption = False,
) -> None:
    """Show the raw source columns, seed columns and literals that feed a column."""
    with _boundary(), session(profile, connect=False) as s:
        found = lineage_of(s.project, column)
        _print(as_json, [f.as_dict() for f in found], lambda: describe_lineage(found))


@app.command("plan")
def plan_command(
    profile: ProfileOption = "local",
    show: Annotated[bool, typer.Option("--show", help="List every operation's fields, old → new.")] = False,
    as_of: Annotated[Optional[int], typer.Option("--as-of", metavar="RUN", help=(
        "Re-plan with today's models from the raw state at the end of run RUN (the history tables), "
        "in memory: nothing is stored or sent, and the plan cannot be pushed."))] = None,
    as_json: JsonOption = False,
) -> None:
    """Diff the flow models against the extracted targets and store the plan."""
    with _boundary(), session(profile, connect=False) as s:
        if as_of is not None:
            summary, plan = plan_as_of(s.con, s.project, as_of, show)
        else:
            summary = do_plan(s, new_run_id(s.con))
            plan = load_plan(s.con, summary["plan_id"]) if show else None
        summary["targets"] = target_counts(summary, None)
        if plan is not None and as_json:
            summary["items"] = [summaries.item_json(item) for item in plan.items]
        _print(as_json, summary, lambda: summaries.plan_lines(summary) + (summaries.change_lines(plan) if plan else []))


@app.command("push")
def push_command(
    profile: ProfileOption = "local",
    plan_id: Annotated[Optional[str], typer.Option("--plan", help="Plan id to push (default: the newest unpushed plan).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Operations per $batch request (1,000 is the Dataverse limit).")] = 1000,
    parallel: Annotated[int, typer.Option(min=1, max=16, help="Batches in flight at once (at most the service's x-ms-dop-hint).")] = 4,
    as_json: JsonOption = False,
) -> None:
    """Apply a stored plan to the targets (an interrupted push of the same plan resumes where it stopped)."""
    with _boundary(), session(profile) as s:
        run_id = new_run_id(s.con)
        summary = do_push(s, run_id, plan_id, batch_size=batch_size, parallel=parallel)
        _print(as_json, summary, lambda: summaries.push_lines(summary))
        _end_of_run({"run_id": run_id, "build": [], "conflicts": summary["conflicts"]})


@app.command("run")
def run_command(profile: ProfileOption = "local", full_refresh: FullRefreshOption = False, as_json: JsonOption = False) -> None:
    """Extract, build, plan and push in one run."""
    with _boundary(), session(profile) as s:
        summary = run_all(s, full_refresh=full_refresh)
        _print(as_json, summary, lambda: summaries.run_lines(summary))
        _end_of_run(summary)


def _end_of_run(summary: dict) -> None:
    """After the summary is out, exit by the worst of what the run held back (audit/exit_codes.py)."""
    error = exit_codes.run_error(summary)
    if error is not None:
        raise error


@app.command("demo")
def demo_command(
    state_dir: Annotated[Path, typer.Option(help="Where the demo keeps its tenant and staging database (wiped first).")] = Path(".p2c/demo"),
    scale: Annotated[int, typer.Option(help="Demo data scale (1 = a few hundred records).")] = 1,
    seed: Annotated[int, typer.Option(help="Demo data seed.")] = 42,
    days: Annotated[int, typer.Option(min=0, help="Business days of user work (both sides) before the second run.")] = 1,
) -> None:
    """Sync a fresh emulated tenant end to end: run, a business day of work on both sides, run, run again."""
    from emulate.scenarios import business_day
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
                typer.echo("\nRun 1: the first sync of all six flows")
                _echo_lines(summaries.demo_lines(run_all(s)))
                for day in range(days):
                    work = business_day(tenant, seed + day)
                    typer.echo("\nA business day in both systems: " + ", ".join(
                        f"{len(done)} {step.replace('_', ' ')}" for step, done in work.items() if isinstance(done, list) and done))
                typer.echo("\nRun 2: only what the day changed is sent, field by field")
                second = run_all(s)
                _echo_lines(summaries.demo_lines(second))
                updates = [line for wave in second["waves"] for line in summaries.change_lines(load_plan(s.con, wave["plan_id"]), "update")]
                _echo_lines(["Some of the updates, field by field:", *updates[:12]] if updates else [])
                typer.echo("\nRun 3: nothing changed, nothing is sent")
                _echo_lines(summaries.demo_lines(run_all(s)))
                typer.echo(f"\nStaging database: {s.profile.staging_database}")
                typer.echo(f"See what a run did: p2c runs show {second['run_id']} --profile {profile_path}")


@app.command("emulate")
def emulate_command(
    state_dir: Annotated[Path, typer.Option(help="Tenant state folder (created and seeded when absent).")] = Path(".p2c/emulate"),
    scale: Annotated[int, typer.Option(help="Demo data scale for a new tenant.")] = 1,
    seed: Annotated[int, typer.Option(help="Demo data seed for a new tenant.")] = 42,
    profile_out: Annotated[Optional[Path], typer.Option(help="Write a ready-to-use profile for this tenant here.")] = None,
    latency_ms: Annotated[float, typer.Option(min=0, help="Least server time every Sales and F&O request takes (its own work included).")] = 0,
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
        typer.echo("\n".join([*tenant.describe(), f"Latency: {latency_ms:g} ms per request; service protection: {throttle}"]))
        if profile_out is not None:
            write_profile(
                profile_out, staging_database=profile_out.with_suffix(".duckdb"), companies=(tenant.default_company,),
                endpoints=Endpoints.of_tenant(tenant, SERVED_SECRET_ENV),
                comment="Written by `p2c emulate`: the emulated tenant it serves.",
            )
            typer.echo(f"Profile: {profile_out} (reads the client secret from {SERVED_SECRET_ENV})")
            typer.echo(f"  export {SERVED_SECRET_ENV}='{tenant.client_secret}'   # the emulated app's secret")
        typer.echo("Serving; press Ctrl+C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("Stopped.")


SERVED_SECRET_ENV = "P2C_EMULATED_CLIENT_SECRET"


# --- audit: reading back what p2c did (audit/; docs/staging.md) ------------------------------


@app.command("status")
def status_command(
    profile: ProfileOption = "local",
    last: Annotated[int, typer.Option("--last", "-n", min=1, help="How many of the newest runs to show.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """The last runs and the records waiting for a retry.

    Per run: when, which profile, each stage's status, counts and time, and the error of a failed stage."""
    from audit.report import status_lines
    from audit.status import status

    with _boundary(), session(profile, connect=False) as s:
        found = status(s.con, last)
        _print(as_json, found, lambda: status_lines(found))


runs_app = typer.Typer(help="Look into past runs: `p2c runs show RUN`.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("show")
def runs_show_command(
    run: Annotated[int, typer.Argument(help="Run number, as `p2c status` lists them.")],
    profile: ProfileOption = "local",
    as_json: JsonOption = False,
) -> None:
    """Everything one run did, per stage, flow and entity.

    Its stages, the entities it extracted, the models it built, failed checks, its plan per flow, entity,
    company and action, every push outcome, the records not written and the conflicts."""
    from audit.report import run_lines
    from audit.runs import run_details

    with _boundary(), session(profile, connect=False) as s:
        found = run_details(s.con, run)
        _print(as_json, found, lambda: run_lines(found))


@app.command("trace")
def trace_command(
    entity: Annotated[str, typer.Argument(help="Entity set on either side: accounts, sales.accounts, CustomersV2.")],
    key: Annotated[str, typer.Argument(help="Its key, parts joined by '/': usmf/ACC-01000-BVRCPS for CustomersV2; "
                                            "for a source, its key or the value that becomes the target's key "
                                            "(ACC-01000-BVRCPS for accounts).")],
    profile: ProfileOption = "local",
    as_json: JsonOption = False,
) -> None:
    """One record's story, in time order, from either side of its flows.

    Its raw versions on both sides, the plan entries and each push with its outcome; then the model row
    behind the target values, each field with its lineage (source column, seed, literal)."""
    from audit.report import trace_lines
    from audit.trace import trace

    with _boundary(), session(profile, connect=False) as s:
        story = trace(s.con, s.project, entity, key).as_dict()
        _print(as_json, story, lambda: trace_lines(story))


@app.command("prune")
def prune_command(
    keep_runs: Annotated[Optional[int], typer.Option("--keep-runs", min=1, help="Keep what the N newest runs need.")] = None,
    keep_days: Annotated[Optional[float], typer.Option(
        "--keep-days", min=0, help="Keep what the runs of the last N days need (the newest run always stays).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
    profile: ProfileOption = "local",
    as_json: JsonOption = False,
) -> None:
    """Trim the history older than the runs kept (--keep-runs N or --keep-days N).

    Old raw versions, ledgers, plans and push outcomes go; `p2c trace` and `p2c runs show` still work for
    the runs kept. docs/staging.md (Retention) lists what always stays."""
    from audit.prune import prune
    from audit.report import prune_lines

    if (keep_runs is None) == (keep_days is None):
        raise typer.BadParameter("give exactly one of --keep-runs N or --keep-days N", param_hint="'--keep-runs'")
    with _boundary(), session(profile, connect=False) as s:
        result = prune(s.con, keep_runs, keep_days=keep_days, dry_run=dry_run)
        _print(as_json, result, lambda: prune_lines(result))


# --- output ---------------------------------------------------------------------------------


@contextmanager
def _boundary() -> Iterator[None]:
    """The one error boundary: a stage error becomes one line on stderr and an exit code telling its
    kind (audit/exit_codes.py: 1 error, 3 blocked, 4 records not written)."""
    try:
        yield
    except (*STAGE_ERRORS, duckdb.Error, OSError) as exc:
        if _debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(exit_codes.exit_code(exc)) from None


def _print(as_json: bool, summary: Any, lines: Callable[[], list[str]]) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        _echo_lines(lines())


def _note(line: str, *, warning: bool = True) -> None:
    """A progress line or warning on stderr (never on stdout, where --json goes); silent with --quiet."""
    if not _quiet:
        typer.secho(line, err=True, fg=typer.colors.YELLOW if warning else None)


def _echo_lines(lines: list[str]) -> None:
    """Summary lines on stdout, coloured by what they report on a terminal (plain when piped)."""
    if _quiet:
        return
    for line in lines:
        typer.secho(line, fg=summaries.colour(line))


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
