"""deploy/: the settings the files name are the bot's, and the files say what docs/deploy.md
promises (the port per instance, the data directory writable, failover in nginx)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.config import Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SETTING = re.compile(r"^#?\s?([A-Z][A-Z0-9_]+)=(.*)$")


def _env_lines() -> list[tuple[str, str, bool]]:
    """(name, value, active) for each `KEY=value` and `# KEY=value` line of env.example."""
    found = []
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        match = SETTING.match(line)
        if match:
            found.append((match[1], match[2].strip('"'), not line.startswith("#")))
    return found


def test_env_example_names_only_real_settings_and_loads() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    named = {name for name, _value, _active in _env_lines()}
    assert named - fields == set()
    assert {"DATABASE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET", "PACING_REDIS_URL"} <= named
    active = {name: value for name, value, on in _env_lines() if on}
    assert "WEBHOOK_PORT" not in active  # it would override the template's instance
    settings = load_settings(**{k.lower(): v for k, v in active.items()}, _env_file=None)
    assert settings.sqlite_path == Path("/var/lib/tazirat-bot/tazirat.sqlite3")


def _unit(name: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entries.setdefault(key, []).append(value)
    return entries


@pytest.mark.parametrize("name", ["tazirat-bot.service", "tazirat-bot@.service"])
def test_units_run_the_bot_and_stop_it_gracefully(name: str) -> None:
    unit = _unit(name)
    assert unit["ExecStart"] == ["/opt/tazirat-bot/.venv/bin/python -m bot"]
    assert unit["EnvironmentFile"][0] == "/etc/tazirat-bot/env"
    assert (unit["KillSignal"], unit["Restart"]) == (["SIGTERM"], ["on-failure"])
    assert unit["ProtectSystem"] == ["strict"] and unit["NoNewPrivileges"] == ["yes"]
    for key in re.findall(r"^Environment=([A-Z_]+)=", (DEPLOY / name).read_text(), re.M):
        assert key.lower() in Settings.model_fields


def test_the_sqlite_unit_may_write_where_the_database_is() -> None:
    assert _unit("tazirat-bot.service")["ReadWritePaths"] == ["/var/lib/tazirat-bot"]


def test_the_template_sets_the_webhook_port_from_its_instance() -> None:
    unit = _unit("tazirat-bot@.service")
    assert unit["Environment"] == ["WEBHOOK_PORT=%i"]
    assert unit["EnvironmentFile"] == ["/etc/tazirat-bot/env", "-/etc/tazirat-bot/%i.env"]


def test_nginx_fails_over_and_keeps_health_private() -> None:
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    ports = re.findall(r"server 127\.0\.0\.1:(\d+)", conf)
    assert ports == ["8441", "8442", "8443", "8444"]
    assert re.search(r"proxy_next_upstream error timeout http_502 http_503", conf)
    assert "X-Telegram-Bot-Api-Secret-Token" in conf
    assert "healthz" not in re.sub(r"#.*", "", conf)  # no location serves it
    assert re.search(r"location / \{\s*return 404;", conf)


def test_nginx_accepts_the_file(tmp_path: Path) -> None:
    """`nginx -t` on the file as shipped, with a throwaway certificate (skipped without nginx
    or openssl on this machine)."""
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if not nginx or not openssl:
        pytest.skip("nginx or openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [openssl, *request, "-keyout", key, "-out", cert, "-subj", "/CN=bot.example.ir"],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/letsencrypt/live/bot.example.ir/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/bot.example.ir/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/tazirat-bot.access.log", str(tmp_path / "access.log"))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "main.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "main.conf")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
