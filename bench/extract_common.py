"""What the extract benchmarks share: an emulated tenant served from its own process, clients for
it, and the extractor's peak memory.

The tenant runs in a child process (``python bench/extract_common.py serve ...``) so that its
caches and its CPU time are not counted as the extractor's: the benchmark process holds only
p2c's side. The child prints one JSON line (URLs, CA file, client id and secret) and serves
until its stdin closes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract.auth import MsalAuth, build_msal_app  # noqa: E402
from extract.http import ServiceClient, make_client  # noqa: E402
from extract.registry import load_project_registry  # noqa: E402

BENCH_DIR = Path("/tmp/p2c-bench")
ENTITIES = load_project_registry(ROOT / "models")


@dataclass
class Served:
    """A tenant served by a child process."""

    process: subprocess.Popen
    authority: str
    client_id: str
    secret: str
    sales: str
    fno: str
    ca: str

    def clients(self) -> dict[str, ServiceClient]:
        app = build_msal_app(self.authority, self.client_id, self.secret, Path(self.ca))
        return {s: make_client(url, MsalAuth(app, url), ca_file=Path(self.ca)) for s, url in (("sales", self.sales), ("fno", self.fno))}

    def token(self, resource: str) -> str:
        return MsalAuth(build_msal_app(self.authority, self.client_id, self.secret, Path(self.ca)), resource).token()

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def serve(state_dir: Path, *, scale: int, seed: int = 42, latency_ms: float = 0.0, dop_hint: int = 4,
          fno_page_size: int = 10_000) -> Served:
    """Start (seeding on first use, which takes a while at large scales) a tenant in a child process."""
    process = subprocess.Popen(
        [sys.executable, __file__, "serve", str(state_dir), str(scale), str(seed), str(latency_ms), str(dop_hint),
         str(fno_page_size)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"the emulated tenant in {state_dir} did not start")
    return Served(process, **json.loads(line))


def peak_rss_mb() -> float:
    """This process's peak resident set so far (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> None:
    """Start VmHWM again from the current RSS (Linux: write 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def seconds(start: float) -> float:
    return time.perf_counter() - start


def _serve(state_dir: str, scale: str, seed: str, latency_ms: str, dop_hint: str, fno_page_size: str) -> None:
    from emulate.settings import EmulatorSettings
    from emulate.tenant import EmulatedTenant

    settings = EmulatorSettings(latency_ms=float(latency_ms), dop_hint=int(dop_hint))
    with EmulatedTenant.start(Path(state_dir), seed=int(seed), scale=int(scale), settings=settings,
                              fno_page_size=int(fno_page_size)) as tenant:
        print(json.dumps({"authority": tenant.authority_url, "client_id": tenant.client_id, "secret": tenant.client_secret,
                          "sales": tenant.sales_url, "fno": tenant.fno_url, "ca": str(Path(tenant.ca_file).resolve())}),
              flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["serve"])
    parser.add_argument("args", nargs=6)
    options = parser.parse_args()
    _serve(*options.args)
