"""`p2c emulate` serves a tenant from its own process and writes a profile other commands can use."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture
def served(tmp_path):
    profile = tmp_path / "served.toml"
    process = subprocess.Popen(
        [sys.executable, "-m", "p2c", "emulate", "--state-dir", str(tmp_path / "tenant"), "--profile-out", str(profile)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent,
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Serving"):
            break
    assert lines and lines[-1].startswith("Serving"), "".join(lines) + process.stderr.read()
    yield profile, "".join(lines), process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_emulate_writes_a_profile_that_syncs(served, cli, monkeypatch):
    profile, output, process = served
    secret = re.search(r"export P2C_EMULATED_CLIENT_SECRET='([^']+)'", output).group(1)
    monkeypatch.setenv("P2C_EMULATED_CLIENT_SECRET", secret)
    assert "ca_file" in profile.read_text() and secret not in profile.read_text()

    result = cli("run", "--profile", str(profile), "--json")
    assert result.exit_code == 0, result.output
    inserted = json.loads(result.stdout)["targets"]["fno.CustomersV2"]["insert"]
    assert inserted > 100

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert "Stopped." in process.stdout.read()
