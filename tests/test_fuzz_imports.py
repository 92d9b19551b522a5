"""The importers' own fuzz test at a budget CI affords: mutated sample exports through the real CLI.

Every variant must be accepted, or refused with one line naming the file (no traceback); print one JSON
object with --json; leave the database unchanged when refused; and add nothing on a second import.
bench/fuzz_imports.py runs the same checks with a larger budget and any --seed.
"""

import time

from fuzz_mutations import ALWAYS, check_variant, variants


def test_mutated_sample_exports_are_accepted_or_refused_cleanly(tmp_path):
    chosen = variants(60, seed=14, each_seed=False)
    assert {v.mutation for v in chosen} >= set(ALWAYS)
    started = time.perf_counter()
    problems = []
    statuses: dict[str, set[str]] = {}
    for i, variant in enumerate(chosen):
        outcome = check_variant(variant, tmp_path / f"{variant.kind}.db", tmp_path / f"v{i}", limit=30,
                                human=i % 4 == 0)
        statuses.setdefault(variant.kind, set()).add(outcome.status)
        if outcome.problems:
            problems.append(f"{variant.label} {variant.name!r}: {'; '.join(outcome.problems)}")
    assert problems == []
    # The mutations reach every importer both ways: a fuzz run that only ever refuses checks little.
    assert all({"accepted", "refused"} <= found for found in statuses.values()), statuses
    assert set(statuses) == {"survey", "interview", "review", "ticket", "orders"}
    assert time.perf_counter() - started < 120  # a hang shows up as a failure, not a stuck CI job
