"""The demo as a newcomer meets it: the README's run command with no token, in a fresh copy of
the repository (venv included), prints the page's address and serves it; and the demo listens
on the loopback address only."""

from __future__ import annotations

import ipaddress
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.demo_process import ROOT, clean_env, demo, running

ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.sqlite  # the demo keeps SQLite: `-k sqlite` selects these


def _listening(pid: int) -> list[tuple[str, int]]:
    """Addresses the process and its children listen on (TCP and UDP)."""
    parent = psutil.Process(pid)
    found = []
    for proc in [parent, *parent.children(recursive=True)]:
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN or (conn.type == socket.SOCK_DGRAM and conn.laddr):
                found.append((conn.laddr.ip, conn.laddr.port))
    return found


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        return str(r.read().decode())


def test_the_demo_listens_on_loopback_only_and_stops_on_sigterm(tmp_path: Path) -> None:
    with demo(tmp_path, stop=signal.SIGTERM) as proc:
        assert 'lang="fa"' in _get(proc.url)
        listening = _listening(proc.proc.pid)
        ports = {port for _ip, port in listening}
        assert proc.port in ports  # the page; the local Bot API is the other one
        assert len(ports) >= 2, listening
        outside = [(ip, port) for ip, port in listening if not ipaddress.ip_address(ip).is_loopback]
        assert outside == [], listening


def _fresh_copy(target: Path) -> Path:
    """The repository's tracked files (as a clone has them, with this work tree's contents):
    no .venv, no data, no .env."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            dest = target / name.decode()
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    return target


def test_run_with_no_token_in_a_fresh_clone_serves_the_demo(tmp_path: Path) -> None:
    clone = _fresh_copy(tmp_path / "clone")
    assert not (clone / ".venv").exists() and not (clone / ".env").exists()
    began = time.monotonic()
    with running(["./scripts/run"], cwd=clone, env=clean_env(), timeout=900) as proc:
        page = _get(proc.url)
        took = time.monotonic() - began
        assert 'dir="rtl"' in page and "/static/app.js" in page
        assert _get(proc.url + "static/app.js")
        assert (clone / "data" / "demo" / "demo.sqlite3").exists()  # ./data/demo/
    ARTIFACTS.mkdir(exist_ok=True)
    note = f"./scripts/run in a fresh clone (venv included) to the page answering: {took:.1f} s\n"
    (ARTIFACTS / "run-timing.txt").write_text(note)
    print(note)
