"""The layers the code is laid out in (README "How the code is laid out"), checked by import-linter's own
contracts in pyproject.toml, so `make test` (and so CI) fails when a module imports across them."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold(monkeypatch):
    monkeypatch.chdir(ROOT)  # the contracts are read from ./pyproject.toml
    monkeypatch.syspath_prepend(str(ROOT))
    assert lint_imports(config_filename="pyproject.toml", no_cache=True) == 0
