"""Shared fixtures: a fresh database per test, a fixed clock, tiny fakes for the models."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from insight.core.clock import fixed_clock
from insight.core.db import open_db

FIXTURES = Path(__file__).parent / "fixtures"
NOW = "2026-11-24T12:00:00+00:00"


@pytest.fixture
def clock():
    return fixed_clock(NOW)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "insight.core.db"


@pytest.fixture
def db(db_path: Path, clock) -> sqlite_utils.Database:
    return open_db(db_path, clock)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def nlp_sm():
    """The real small English pipeline (tests using it are marked slow)."""
    from insight.analysis.nlp import cached_pipeline

    return cached_pipeline().nlp
