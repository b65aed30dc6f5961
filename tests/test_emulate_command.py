"""`p2c emulate` serves a tenant from its own process and writes a profile other commands can use."""

import json


def test_emulate_writes_a_profile_that_syncs(served_tenant, cli, monkeypatch, tmp_path):
    served = served_tenant(tmp_path / "tenant")
    profile = tmp_path / "tenant.toml"
    monkeypatch.setenv("P2C_EMULATED_CLIENT_SECRET", served.secret)
    assert "ca_file" in profile.read_text() and served.secret not in profile.read_text()

    result = cli("run", "--profile", str(profile), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["targets"]["fno.CustomersV2"]["insert"] > 100

    assert served.stop() == 0
    assert "Stopped." in served.process.stdout.read()
