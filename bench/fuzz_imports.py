"""Fuzz the importers with mutated sample exports and print what happened to each kind of mutation.

    python bench/fuzz_imports.py --variants 500 --seed 1 [--limit 30] [--human] [--show 20]

Every variant (see tests/fuzz_mutations.py) must be accepted, or refused with one line naming the file, print
one JSON object with --json, leave the database unchanged when refused, and import nothing on a second run.
Prints counts per mutation and kind, then each problem found (tracebacks with the line they came from).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fuzz_mutations import KINDS, check_variant, variants  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds before an import counts as a hang")
    parser.add_argument("--human", action="store_true", help="also import each variant without --json")
    parser.add_argument("--show", type=int, default=40, help="problems to print")
    parser.add_argument("--errors", action="store_true", help="print one refusal message per mutation and kind")
    args = parser.parse_args()
    chosen = variants(args.variants, args.seed)
    started = time.perf_counter()
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, variant in enumerate(chosen):
            db = root / f"{variant.kind}.db"
            outcome = check_variant(variant, db, root / f"files{i}", limit=args.limit, human=args.human)
            outcomes.append(outcome)
            if outcome.problems:
                print(f"[{i}] {variant.label}: {outcome.problems[0]}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    by_status = collections.Counter(o.status for o in outcomes)
    print(f"seed {args.seed}: {len(outcomes)} variants in {elapsed:.0f} s: {by_status['accepted']} accepted, "
          f"{by_status['refused']} refused, {by_status['failed']} failed checks; "
          f"{sum(o.traceback for o in outcomes)} tracebacks, {sum(o.hang for o in outcomes)} hangs "
          f"(> {args.limit:g} s), slowest {max(o.seconds for o in outcomes):.1f} s")
    table = collections.defaultdict(collections.Counter)
    for o in outcomes:
        table[o.variant.mutation][o.status] += 1
    print(f"\n{'mutation':28} {'accepted':>8} {'refused':>8} {'failed':>7}")
    for mutation in sorted(table):
        row = table[mutation]
        print(f"{mutation:28} {row['accepted']:8} {row['refused']:8} {row['failed']:7}")
    kinds = {k: collections.Counter(o.status for o in outcomes if o.variant.kind == k) for k in KINDS}
    print("\n" + "; ".join(f"{k}: {c['accepted']} accepted / {c['refused']} refused / {c['failed']} failed"
                           for k, c in kinds.items()))
    print("\nslowest: " + "; ".join(f"{o.variant.label} {o.seconds:.1f} s"
                                    for o in sorted(outcomes, key=lambda o: -o.seconds)[:5]))
    if args.errors:
        print("\nrefusals (one per mutation and kind):")
        seen = set()
        for o in outcomes:
            key = (o.variant.mutation, o.variant.kind)
            if o.status == "refused" and key not in seen:
                seen.add(key)
                print(f"- {o.variant.label}: {o.error[:240]!r}")
    problems = [o for o in outcomes if o.problems]
    if problems:
        print(f"\n{len(problems)} variants with problems:")
        for o in problems[: args.show]:
            print(f"- {o.variant.label} ({o.variant.name!r}): " + "; ".join(o.problems))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
