"""Shared fixtures: a fresh database per test, a fixed clock, tiny fakes for the models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import HealthCheck, settings

from insight.core.clock import fixed_clock
from insight.core.db import open_db

# Property tests (tests/test_props_*.py): `dev` keeps each file to a few seconds; `ci` is the same size with a
# fixed seed (derandomize), so a red CI run fails again on any machine; `thorough` is for hunting bugs locally:
#     HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_props_amounts.py
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))  # deterministic unless asked: HYPOTHESIS_PROFILE=dev explores

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
