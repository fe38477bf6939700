"""Running `soetl` as a user does, in a child process, and finding the processes it starts (Linux /proc)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.conftest import NOTICE_PDF


def soetl_run(catalog: Path, data: Path) -> list[str]:
    return [sys.executable, "-c", "from flows.cli import app; app()", "run", "--catalog", str(catalog),
            "--data-dir", str(data)]  # fmt: skip


def notice_catalog(folder: Path) -> Path:
    catalog = folder / "catalog.toml"
    catalog.write_text(f'[[source]]\nid = "notice"\nurl = "{NOTICE_PDF}"\n', encoding="utf-8")
    return catalog


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Its own Prefect home, no configured server (so Prefect's temporary one), a patient start-up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return env | {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "true",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # a busy CI machine
        "COLUMNS": "400",
    }


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def api_servers(pid: int) -> set[int]:
    """The uvicorn processes (Prefect's API server) among ``pid``'s children."""
    return {c for c in children(pid) if b"uvicorn" in _cmdline(c)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie waiting to be reaped."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
