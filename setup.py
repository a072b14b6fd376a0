"""Build steps that setup.cfg cannot express: the translation catalogues are compiled while the
package is built, so every wheel and every installation carries the `.mo` files (they are not
kept in git). Everything else about the package is in setup.cfg."""
from __future__ import annotations

from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build

TRANSLATIONS = Path(__file__).resolve().parent / "assembly" / "translations"


class CompileCatalogues(Command):
    """Compile assembly/translations/*/LC_MESSAGES/messages.po into messages.mo (what
    `make translations` does), refusing a catalogue that does not compile."""

    description = "compile the translation catalogues (.po to .mo)"
    user_options: list = []

    def initialize_options(self) -> None:
        pass

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        catalogues = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
        if not catalogues:
            raise SystemExit("no translation catalogues found under assembly/translations")
        for po_path in catalogues:
            with po_path.open("rb") as handle:
                catalogue = read_po(handle, locale=po_path.parent.parent.name)
            with po_path.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalogue)


class BuildWithCatalogues(build):
    # First, so that build_py finds the .mo files and copies them as package data.
    sub_commands = [("compile_catalogues", None), *build.sub_commands]


setup(cmdclass={"compile_catalogues": CompileCatalogues, "build": BuildWithCatalogues})
