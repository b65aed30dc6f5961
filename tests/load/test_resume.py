"""A push killed mid-way (a real process, SIGKILL) is resumed by the next push: no duplicates, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from extract.profile import PROJECT_DIR
from tests.load.test_push import ok
from transform.ids import deterministic_id


def test_a_killed_push_resumes_without_duplicates_and_converges(cli, project, tenant):
    project.seed("customers", [{"account": f"T-{n:03}", "name": f"Customer {n}", "city": "Oslo"} for n in range(60)])
    project.seed("sales_accounts", [{"accountnumber": f"SA-{n:03}", "name": f"Account {n}", "telephone1": "1"} for n in range(60)])
    for command in ("extract", "build", "plan"):
        ok(cli, command, "--profile", str(project.profile))
    tenant.configure(latency_ms=150)  # each batch answers in well over 150 ms: the kill lands mid-push
    process = subprocess.Popen(
        [sys.executable, "-m", "p2c", "push", "--profile", str(project.profile), "--batch-size", "10", "--parallel", "1"],
        cwd=PROJECT_DIR, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        if "batch 4 sent" in line:  # three batches answered and journaled, the fourth in flight
            process.send_signal(signal.SIGKILL)
            break
        assert line, "".join(seen)
    assert process.wait(timeout=30) == -signal.SIGKILL
    process.stderr.close()
    tenant.configure(latency_ms=0)
    states = dict(project.query("select state, count(*) from p2c_meta.push_batches group by all"))
    assert states["sending"] == 1 and states["answered"] >= 3  # one batch in flight when killed (--parallel 1)
    [(landed,)] = project.query("select count(*) from p2c_meta.push_log where status = 'ok'")
    assert landed == 10 * states["answered"]

    resumed = json.loads(ok(cli, "push", "--profile", str(project.profile), "--json").stdout)
    assert sum(c["insert"] for c in resumed["counts"].values()) == 120 - landed  # the in-flight batch is reconciled
    assert project.query("select count(*) from p2c_meta.push_batches where state = 'reconciled'") == [(1,)]
    assert project.query("select count(*) from p2c_meta.push_log where status <> 'ok'") == [(0,)]
    assert project.query("select count(*), count(distinct seq) from p2c_meta.push_log") == [(120, 120)]

    # converged: a fresh extract and plan find nothing to do, and every record exists once, as desired
    again = json.loads(ok(cli, "run", "--profile", str(project.profile), "--json").stdout)
    assert again["plan"]["operations"] == 0
    customers = [c for c in tenant.fno.rows("CustomersV2") if c["CustomerAccount"].startswith("T-")]
    assert sorted((c["CustomerAccount"], c["OrganizationName"]) for c in customers) == [
        (f"T-{n:03}", f"Customer {n}") for n in range(60)]
    accounts = [a for a in tenant.sales.rows("accounts") if (a["accountnumber"] or "").startswith("SA-")]
    assert sorted((a["accountnumber"], a["accountid"], a["name"]) for a in accounts) == [
        (f"SA-{n:03}", deterministic_id("accounts", f"SA-{n:03}"), f"Account {n}") for n in range(60)]
