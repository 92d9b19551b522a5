"""Survey import speed: a generated 50,000-response Typeform CSV through parse -> redact -> store.

Prints rows/s with a breakdown (medians over --runs for parse and store; redaction with the spaCy NER
pipeline is timed once over all answers, as it dominates) and, with --ner-sample N, how spaCy batch
sizes and n_process change NER throughput on N answers.

    .venv/bin/python bench/import_surveys.py [--rows 50000] [--runs 3] [--ner-sample 3000]
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.model import ImportOptions  # noqa: E402
from ingest.store import store_parsed  # noqa: E402
from ingest.surveys import parse_survey  # noqa: E402
from insight.analysis.nlp import load_pipeline  # noqa: E402
from insight.core.db import open_db  # noqa: E402
from insight.core.redact import Redactor  # noqa: E402

HEADER = ["#", "How did you hear about us?", "What made you buy today?", "What almost stopped you from buying?",
          "How likely are you to recommend us to a friend?", "Anything else you'd like to tell us?", "email",
          "order_id", "utm_source", "Start Date (UTC)", "Submit Date (UTC)", "Network ID", "Tags"]
CHANNELS = ["Instagram", "TikTok", "Friend or family", "Google search", "Podcast", "Dermatologist", "YouTube"]
PHRASES = [
    "the price felt high for such a small bottle", "shipping to my country took almost two weeks",
    "my skin is sensitive and I was worried about a reaction", "the reviews on TikTok convinced me",
    "I could not find out whether it was fragrance free", "the discount code did not work at checkout",
    "a friend swore by the moisturiser", "I wanted something with a short ingredient list",
    "the subscription seemed hard to cancel", "Maria from support was lovely when I emailed",
    "the pump on the serum leaked in my bag", "I love the refill pods and the glass jars",
    "call me on 07700 900123 if you need more detail", "delivery estimate was not shown before paying",
]


PRODUCTS = ["dew serum", "cloud moisturiser", "gel cleanser", "SPF 50", "clay mask", "cleansing balm", "eye gel",
            "barrier cream", "vitamin C serum", "routine set", "discovery kit", "refill pods"]
# Details make answers mostly distinct, as real ones are (redaction caches repeated texts).
DETAILS = ["", " after {n} weeks", " with the {product}", " when I ordered the {product}", " ({n} days in)",
           " even at ${n}", " compared with my old {product}", " on order number {n}"]


def sentence(rng: random.Random, words: int) -> str:
    parts: list[str] = []
    while sum(len(p.split()) for p in parts) < words:
        detail = rng.choice(DETAILS).format(n=rng.randint(2, 90), product=rng.choice(PRODUCTS))
        parts.append(rng.choice(PHRASES) + detail)
    text = ", and ".join(parts)
    return text[0].upper() + text[1:] + "."


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Deterministic Typeform-shaped export: 3 open questions (some blank), a choice, NPS, hidden fields."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, 0, 0, 0)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            began = start + timedelta(seconds=i * 50 + rng.randint(0, 40))
            writer.writerow([
                f"{rng.getrandbits(128):032x}",
                rng.choice(CHANNELS),
                sentence(rng, rng.randint(5, 30)) if rng.random() > 0.05 else "",
                sentence(rng, rng.randint(5, 40)) if rng.random() > 0.1 else "",
                str(rng.choices(range(11), weights=[1, 1, 1, 2, 2, 4, 6, 10, 18, 25, 30])[0]),
                sentence(rng, rng.randint(3, 25)) if rng.random() > 0.55 else rng.choice(["", "No", "n/a"]),
                f"customer{rng.randint(1, rows // 2)}@example.com",
                str(1000 + i),
                rng.choice(["instagram", "tiktok", "google", ""]),
                began.strftime("%Y-%m-%d %H:%M:%S"),
                (began + timedelta(seconds=rng.randint(30, 400))).strftime("%Y-%m-%d %H:%M:%S"),
                f"{rng.getrandbits(40):010x}",
                rng.choice(["", "", "", "vip", "follow-up"]),
            ])


def timed(func):  # noqa: ANN001, ANN201
    began = time.perf_counter()
    result = func()
    return time.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ner-sample", type=int, default=3000, help="answers for the NER tuning table (0: skip)")
    parser.add_argument("--spacy-model", default=None)
    parser.add_argument("--skip-ner", action="store_true", help="time parse and store only (NER takes minutes)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        csv_path = tmpdir / "typeform_50k.csv"
        gen_s, _ = timed(lambda: generate(csv_path, args.rows))
        print(f"generated {args.rows:,} responses ({csv_path.stat().st_size / 1e6:.1f} MB) in {gen_s:.1f}s")

        def parse():  # noqa: ANN202
            return parse_survey(csv_path, fmt=None, mapping={}, open_text=set(), choice=set())

        parse_times, parsed = [], None
        for _ in range(args.runs):
            seconds, parsed = timed(parse)
            parse_times.append(seconds)
        assert parsed is not None
        texts = [u.text for d in parsed.documents for u in d.units]
        words = sum(len(t.split()) for t in texts)
        print(f"parsed: {len(parsed.documents):,} documents, {len(texts):,} answer units ({len(set(texts)):,} distinct, "
              f"{words:,} words), "
              f"{len(parsed.rejected)} rejected; columns: {parsed.details['note']}")

        store_times = []
        for run in range(args.runs):
            db = open_db(tmpdir / f"plain{run}.db")
            seconds, _ = timed(lambda db=db: store_parsed(db, parsed, ImportOptions(redact=False), Redactor(enabled=False)))
            store_times.append(seconds)
            db.conn.close()
        db = open_db(tmpdir / "plain0.db")
        dup_s, dup = timed(lambda: store_parsed(db, parsed, ImportOptions(redact=False), Redactor(enabled=False)))
        db.conn.close()

        regex_s, _ = timed(lambda: Redactor(nlp=None).redact_many(texts))
        full_s, names, summary, loaded = None, 0, None, None
        if not args.skip_ner:
            loaded = load_pipeline(args.spacy_model)
            print(f"{loaded.message} (NER: {loaded.has_ner}); pipes: {loaded.nlp.pipe_names}")
            full_db = open_db(tmpdir / "full.db")
            full_s, summary = timed(lambda: store_parsed(full_db, parsed, ImportOptions(), Redactor(nlp=loaded.nlp)))
            names = full_db.execute("SELECT count(*) FROM units WHERE text LIKE '%[NAME]%'").fetchone()[0]
            full_db.conn.close()

        parse_m, store_m = statistics.median(parse_times), statistics.median(store_times)
        rows = args.rows
        print()
        print(f"{'step':<42}{'seconds':>10}{'rows/s':>12}")
        steps = [
            (f"parse (median of {args.runs})", parse_m),
            (f"store, no redaction (median of {args.runs})", store_m),
            ("re-import: all duplicates", dup_s),
            ("redact: regex only (emails/phones/cards)", regex_s),
            ("TOTAL with --no-redact", parse_m + store_m),
        ]
        if full_s is not None:
            steps += [("store with default redaction (NER)", full_s), ("TOTAL default path: parse + store", parse_m + full_s)]
        for label, seconds in steps:
            print(f"{label:<42}{seconds:>10.2f}{rows / seconds:>12,.0f}")
        print(f"duplicates on re-import: {dup.duplicates:,}")
        if full_s is not None and summary is not None:
            print(f"NER share of the default path: {(full_s - store_m) / (parse_m + full_s):.0%}; "
                  f"{summary.units:,} units stored, {names:,} with [NAME]")

        if args.ner_sample and loaded is not None and loaded.has_ner:
            sample = [Redactor(nlp=None).redact_many([t])[0] for t in texts[: args.ner_sample]]
            keep = [p for p in loaded.nlp.pipe_names if p in ("tok2vec", "ner")]
            disable = [p for p in loaded.nlp.pipe_names if p not in keep]
            print(f"\nNER tuning on {len(sample):,} answers (components kept: {keep}):")
            print(f"{'batch_size':>10}{'n_process':>10}{'answers/s':>12}")
            for batch_size, n_process in [(64, 1), (256, 1), (1000, 1), (256, 2)]:
                seconds, _ = timed(lambda b=batch_size, n=n_process: list(
                    loaded.nlp.pipe(sample, batch_size=b, n_process=n, disable=disable)))
                print(f"{batch_size:>10}{n_process:>10}{len(sample) / seconds:>12,.0f}")


if __name__ == "__main__":
    main()
