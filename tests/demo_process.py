"""The demo as a process, the way a person starts it: `python -m bot demo ...` (or the README's
`./scripts/run`), which prints one line with the page's address once it serves."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVING = re.compile(r"^serving on (http://127\.0\.0\.1:(\d+)/)$")


@dataclass
class DemoProcess:
    proc: subprocess.Popen[str]
    url: str = ""
    lines: list[str] = field(default_factory=list)  # stdout, as printed
    errors: list[str] = field(default_factory=list)  # stderr, as printed

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def output(self) -> str:
        return (
            "stdout:\n" + "\n".join(self.lines) + "\nstderr (end):\n" + "\n".join(self.errors[-40:])
        )


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without a token or a database of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(extra)
    return env


def _pump(stream: object, sink: list[str], lines: queue.Queue[str | None] | None) -> None:
    for line in stream:  # type: ignore[attr-defined]
        line = line.rstrip("\n")
        sink.append(line)
        if lines is not None:
            lines.put(line)
    if lines is not None:
        lines.put(None)


@contextmanager
def running(
    command: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float = 90.0,
    stop: signal.Signals = signal.SIGINT,
) -> Iterator[DemoProcess]:
    """Start `command`, wait for its «serving on» line, yield; then stop it (Ctrl-C, or `stop`)
    and check that it stopped cleanly (exit code 0) within a bound."""
    proc = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a failed test ends all of it
    )
    demo = DemoProcess(proc)
    lines: queue.Queue[str | None] = queue.Queue()
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, demo.lines, lines), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, demo.errors, None), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    try:
        while not demo.url:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no «serving on» line in {timeout}s\n{demo.output()}"
                ) from None
            if line is None:
                raise AssertionError(f"the demo ended before serving\n{demo.output()}")
            found = SERVING.match(line)
            if found:
                demo.url = found.group(1)
        yield demo
        proc.send_signal(stop)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the demo did not stop on {stop.name}\n{demo.output()}") from None
        for pump in pumps:
            pump.join(timeout=10)  # everything it printed is read
        assert proc.returncode == 0, demo.output()
        printed = [line for line in demo.lines if line.strip()]
        assert printed == [f"serving on {demo.url}"], demo.output()  # exactly one line
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def demo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "demo", *args]


@contextmanager
def demo(tmp_path: Path, *args: str, stop: signal.Signals = signal.SIGINT) -> Iterator[DemoProcess]:
    """`python -m bot demo --fresh --port 0` with its data under `tmp_path`."""
    data = tmp_path / "demo-data"
    command = demo_command("--fresh", "--port", "0", "--data-dir", str(data), *args)
    env = clean_env(PYTHONPATH=str(ROOT))
    with running(command, cwd=tmp_path, env=env, stop=stop) as proc:
        yield proc
