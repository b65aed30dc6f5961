"""`p2c emulate --latency-ms MS --throttle real` serves a tenant with those settings, from its own process."""

import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent.parent


def test_emulate_serves_with_latency_and_real_throttling(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "p2c", "emulate", "--state-dir", str(tmp_path / "tenant"),
         "--profile-out", str(tmp_path / "served.toml"), "--latency-ms", "50", "--throttle", "real"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lines and lines[-1].startswith("Serving")):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        output = "".join(lines)
        assert lines and lines[-1].startswith("Serving"), output + process.stderr.read()
        assert "Latency: 50 ms per request; service protection: real" in output

        found = {key: re.search(rf"^{label}: (\S+)", output, re.MULTILINE).group(1) for key, label in
                 (("authority", "Token authority"), ("sales", re.escape("Sales (Dataverse)")), ("ca", "CA certificate"),
                  ("client_id", "Client id"))}
        secret = re.search(r"export P2C_EMULATED_CLIENT_SECRET='([^']+)'", output).group(1)
        origin = found["sales"].split("/api/")[0]
        with httpx.Client(verify=ssl.create_default_context(cafile=found["ca"]), timeout=10) as client:
            token = client.post(f"{found['authority']}/oauth2/v2.0/token", data={
                "grant_type": "client_credentials", "client_id": found["client_id"], "client_secret": secret,
                "scope": f"{origin}/.default"}).json()["access_token"]
            started = time.monotonic()
            response = client.get(f"{found['sales']}accounts", params={"$top": "1"}, headers={"Authorization": f"Bearer {token}"})
            elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert elapsed >= 0.05
        assert response.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "5999"

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_emulate_refuses_an_unknown_throttle_mode(cli):
    result = cli("emulate", "--throttle", "sometimes")
    assert result.exit_code == 2
    assert "'sometimes' is not one of 'real', 'off'" in result.output
