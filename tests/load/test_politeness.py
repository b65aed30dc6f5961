"""Throttling: a 429's Retry-After is waited out and the batch sent again."""

from __future__ import annotations

import threading
from pathlib import Path

import p2c
from emulate.settings import FaultRule
from extract.auth import MsalAuth, build_msal_app
from extract.http import make_client
from extract.retry import RetryPolicy
from extract.runs import new_run_id
from load.plan import load_plan, targets_of
from load.push import push
from load.writers import DataverseWriter, FnoWriter
from tests.load.test_push import ok, plan


def test_a_throttled_batch_waits_retry_after_and_lands(cli, project, tenant):
    project.seed("customers", [{"account": f"T-{n}", "name": f"Name {n}", "city": "Oslo"} for n in range(3)])
    for command in ("extract", "build"):
        ok(cli, command, "--profile", str(project.profile))
    planned = plan(cli, project)
    tenant.configure(faults=(FaultRule(kind="busy", service="fno", method="POST", path="$batch", nth=2),))
    slept: list[float] = []
    app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
    policy = RetryPolicy(sleep=slept.append)
    clients = {system: make_client(url, MsalAuth(app, url), ca_file=Path(tenant.ca_file), retry=policy)
               for system, url in (("sales", tenant.sales_url), ("fno", tenant.fno_url))}
    with p2c.session(str(project.profile), connect=False) as s:
        targets = targets_of(s.project.targets())
        writers = {"fno": FnoWriter(clients["fno"], targets), "sales": DataverseWriter(clients["sales"], targets)}
        result = push(s.con, load_plan(s.con, planned["plan_id"]), writers, targets, dict(s.project.entities),
                      run_id=new_run_id(s.con))
    assert result.counts == {"fno.CustomersV2": {"insert": 3}} and not result.failures
    assert slept == [5.0]  # F&O's resource-based 429 asks for 5 s
    assert clients["fno"].stats.throttled == 1
    assert {c["CustomerAccount"] for c in tenant.fno.rows("CustomersV2") if c["CustomerAccount"].startswith("T-")} == {
        "T-0", "T-1", "T-2"}
    for client in clients.values():
        client.close()


class CountingWriter(DataverseWriter):
    """The real Dataverse writer, noting how many of its batches are in flight at once."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.lock, self.in_flight, self.most = threading.Lock(), 0, 0

    def write_and_read(self, documents, what):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            return super().write_and_read(documents, what)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_parallel_batches_are_capped_at_the_services_dop_hint(cli, project, tenant):
    app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
    clients = {system: make_client(url, MsalAuth(app, url), ca_file=Path(tenant.ca_file))
               for system, url in (("sales", tenant.sales_url), ("fno", tenant.fno_url))}
    most = {}
    try:
        for hint, name in ((2, "Account"), (3, "Renamed")):  # 24 creates, then 24 updates
            project.seed("sales_accounts", [{"accountnumber": f"SA-{n:02}", "name": f"{name} {n}", "telephone1": ""}
                                            for n in range(24)])
            for command in ("extract", "build"):
                ok(cli, command, "--profile", str(project.profile))
            planned = plan(cli, project)
            tenant.configure(dop_hint=hint, latency_ms=40)  # each batch lasts long enough for the others to pile up
            with p2c.session(str(project.profile), connect=False) as s:
                targets = targets_of(s.project.targets())
                writers = {"fno": FnoWriter(clients["fno"], targets), "sales": CountingWriter(clients["sales"], targets)}
                result = push(s.con, load_plan(s.con, planned["plan_id"]), writers, targets, dict(s.project.entities),
                              run_id=new_run_id(s.con), max_operations=2, parallel=8)
            tenant.configure(latency_ms=0)
            assert not result.failures and result.batches == 12
            most[hint] = writers["sales"].most
    finally:
        for client in clients.values():
            client.close()
    assert {a["name"] for a in tenant.sales.rows("accounts") if (a["accountnumber"] or "").startswith("SA-")} == {
        f"Renamed {n}" for n in range(24)}
    assert most == {2: 2, 3: 3}  # --parallel allowed 8, the service recommended fewer: never more in flight, nor fewer
