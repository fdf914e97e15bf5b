"""Build hook: the translation catalog ships inside the `bot` package.

The catalog lives in `locales/` at the repository root, where `scripts/i18n-update` and the
translators work on it; setuptools packages only files inside a package, so a wheel (and a
plain `pip install .`) gets a copy at `bot/locales/`, which `bot.i18n` reads when it is there.
An editable install reads the repository's `locales/` directly. Everything else is declared in
pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOG = Path(__file__).resolve().parent / "locales"


class BuildPyWithCatalog(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for po in sorted(CATALOG.glob("*/LC_MESSAGES/*.po")):
            target = Path(self.build_lib) / "bot" / "locales" / po.relative_to(CATALOG)
            self.mkpath(str(target.parent))
            self.copy_file(str(po), str(target))


setup(cmdclass={"build_py": BuildPyWithCatalog})
