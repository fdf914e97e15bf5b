"""A non-editable install (a wheel, `pip install .`) carries the Persian catalog: installed into a
fresh virtual environment, away from the repository, the bot still speaks Persian."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "handlers", "locales", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
CATALOG_IN_WHEEL = "bot/locales/fa/LC_MESSAGES/messages.po"
DEMO_PAGE_IN_WHEEL = (
    "bot/demo/static/index.html",
    "bot/demo/static/app.js",
    "bot/demo/static/style.css",
    "bot/demo/static/fonts/Vazirmatn-Regular.woff2",
    "bot/demo/static/fonts/OFL.txt",
)


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_an_installed_wheel_speaks_persian(tmp_path: Path) -> None:
    # Build from a copy, so that the build leaves nothing in the working tree.
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path / "dist"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input")
    # With this environment's setuptools and nothing else: no download, no dependencies.
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, src, cwd=src)
    [wheel] = dist.glob("tazirat_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert CATALOG_IN_WHEEL in names
    for demo_file in DEMO_PAGE_IN_WHEEL:  # the demo's page is served from the package
        assert demo_file in names, demo_file

    # A fresh venv with the wheel installed in it; the dependencies are lent by this one's
    # site-packages (added after its own, so `bot` comes from the wheel, not from here).
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).strip()
    )
    (site / "zz_lent_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(*pip, "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)

    # Isolated mode, outside the repository: only the installed package can answer.
    out = _run(
        python,
        "-I",
        "-c",
        "import bot.i18n as i; print(i.LOCALES_DIR); print(i._('File a complaint'))",
        cwd=tmp_path,
    ).splitlines()
    assert Path(out[0]).is_relative_to(venv), out
    assert out[1] == "ثبت شکایت"
