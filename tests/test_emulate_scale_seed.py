"""`p2c emulate --scale N --seed S` serves a tenant generated from that seed at that scale, over HTTPS."""

import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from emulate.tenant import EmulatedTenant

ACCOUNTS_PER_SCALE = 200


def _serve(state_dir: Path, *options: str) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start `p2c emulate` and read the URLs, CA file, client id and secret it prints."""
    process = subprocess.Popen([sys.executable, "-m", "p2c", "emulate", "--state-dir", str(state_dir),
                                "--profile-out", str(state_dir.parent / f"{state_dir.name}.toml"), *options],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    lines, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline and not (lines and lines[-1].startswith("Serving")):
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
    output = "".join(lines)
    assert lines and lines[-1].startswith("Serving"), output + process.stderr.read()
    found = {name: re.search(pattern, output).group(1) for name, pattern in {
        "authority": r"Token authority: (\S+)", "sales": r"Sales \(Dataverse\): (\S+)", "ca": r"CA certificate: (\S+)",
        "client": r"Client id: (\S+)", "secret": r"export P2C_EMULATED_CLIENT_SECRET='([^']+)'"}.items()}
    return process, found


def _account_numbers(served: dict[str, str]) -> list[str]:
    with httpx.Client(verify=ssl.create_default_context(cafile=served["ca"]), timeout=30) as http:
        origin = served["sales"].split("/api/")[0]
        token = http.post(f"{served['authority']}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": served["client"], "client_secret": served["secret"],
            "scope": f"{origin}/.default"}).json()["access_token"]
        url, numbers = f"{served['sales']}accounts?$select=accountnumber&$orderby=accountnumber", []
        while url:
            page = http.get(url, headers={"Authorization": f"Bearer {token}", "Prefer": "odata.maxpagesize=5000"}).json()
            numbers += [row["accountnumber"] for row in page["value"]]
            url = page.get("@odata.nextLink")
    return numbers


def test_scale_and_seed_shape_the_served_tenant(tmp_path):
    process, served = _serve(tmp_path / "tenant", "--scale", "2", "--seed", "11")
    try:
        numbers = _account_numbers(served)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert len(numbers) == 2 * ACCOUNTS_PER_SCALE
    with EmulatedTenant.start(tmp_path / "same-seed", seed=11, scale=2) as same, \
            EmulatedTenant.start(tmp_path / "other-seed", seed=12, scale=2) as other:
        assert numbers == sorted(row["accountnumber"] for row in same.sales.rows("accounts"))
        assert numbers != sorted(row["accountnumber"] for row in other.sales.rows("accounts"))
