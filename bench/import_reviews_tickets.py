"""Import speed for support tickets and saved review pages, through the same calls the CLI makes.

Generates N Zendesk tickets (one JSON export with sideloaded users, comments with quoted replies,
signatures, HTML bodies and internal notes) and M saved product pages in a mix of review markups
(JSON-LD, JSON-LD + microdata, Amazon, Judge.me, Yotpo, Okendo, Trustpilot, pages without reviews),
then imports them into a fresh temporary database with parse_* + store_parsed and redaction on (the
default), and prints documents/s, units/s and the parse vs store split. Medians of --repeats runs.

    .venv/bin/python bench/import_reviews_tickets.py                # 20,000 tickets, 2,000 pages
    .venv/bin/python bench/import_reviews_tickets.py --tickets 2000 --pages 200 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.model import ImportOptions, ParsedFile
from ingest.reviews import parse_reviews
from ingest.store import store_parsed
from ingest.tickets import parse_tickets
from insight.analysis.nlp import cached_pipeline
from insight.core.db import open_db
from insight.core.redact import Redactor

COMPLAINTS = [
    "the pump on my serum stopped working after a week",
    "my order took twelve days to arrive and tracking never updated",
    "the balm lid arrived cracked",
    "I was charged twice for my subscription",
    "the moisturiser pills under my foundation",
    "the refill pouch leaked all over the box",
    "I got red bumps after two days of the niacinamide serum",
    "my discount code did not work at checkout",
]
PRAISE = [
    "Love how gentle the cleanser is on my rosacea.",
    "The refill pouch idea is great, less plastic.",
    "Absorbs fast and no greasy feel at all.",
    "Best SPF I have used, no white cast.",
    "Support sorted my replacement in a day.",
]
NAMES = ["Jo B.", "Sam K.", "Priya", "Alex R.", "Maria L.", "Chris T.", "Dana W.", "Lee M."]
PRODUCTS = ["Daily Gel Cleanser", "Oat Milk Cleansing Balm", "10% Niacinamide Serum", "Mineral SPF 30",
            "Hydrating Gel Moisturiser"]


# --- generators ----------------------------------------------------------------------------------------------


def make_zendesk(path: Path, count: int, rng: random.Random) -> None:
    users = [{"id": 7000 + i, "email": f"agent{i}@fernleafskin.com", "role": "agent"} for i in range(5)]
    tickets = []
    for n in range(count):
        requester = 100000 + n % (count // 2 + 1)
        if n < count // 2 + 1:
            users.append({"id": requester, "email": f"customer{requester}@example.com", "role": "end-user",
                          "external_id": str(6600000 + requester)})
        agent = 7000 + n % 5
        complaint = rng.choice(COMPLAINTS)
        day = 1 + n % 28
        comments = [
            {"author_id": requester, "public": True, "created_at": f"2026-10-{day:02d}T09:00:00Z",
             "body": f"Hi, {complaint}. Order #{1000 + n}.\nCan you help? Call me on 07700 900{n % 1000:03d}.\n\n"
                     f"Thanks,\nCustomer {n}\n\nSent from my iPhone"},
            {"author_id": agent, "public": True, "created_at": f"2026-10-{day:02d}T11:00:00Z",
             "body": "Hi there,\n\nSo sorry about that, we're on it.\n\nBest,\nSam\nFernleaf Support"},
            {"author_id": agent, "public": False, "created_at": f"2026-10-{day:02d}T11:01:00Z",
             "body": "Internal: flag to ops."},
            {"author_id": requester, "public": True, "created_at": f"2026-10-{day:02d}T15:00:00Z",
             "html_body": f"<div>Thanks, that worked. {rng.choice(PRAISE)}</div>"
                          f"<div class=\"gmail_quote\">On Mon, 5 Oct 2026 Fernleaf wrote:<blockquote>"
                          f"So sorry about that</blockquote></div>"},
        ]
        tickets.append({
            "id": 200000 + n, "subject": complaint.capitalize(), "status": rng.choice(["open", "solved", "closed"]),
            "priority": "normal", "requester_id": requester, "tags": ["bench", rng.choice(["shipping", "damaged"])],
            "via": {"channel": "email"}, "created_at": f"2026-10-{day:02d}T09:00:00Z", "comments": comments,
        })
    path.write_text(json.dumps({"tickets": tickets, "users": users}))


def _review(rng: random.Random, i: int) -> dict[str, object]:
    body = rng.choice(PRAISE) if rng.random() < 0.6 else f"Not great: {rng.choice(COMPLAINTS)}."
    return {"author": rng.choice(NAMES), "body": f"{body} (review {i})", "rating": rng.randint(1, 5),
            "date": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}", "title": f"Review {i}"}


def _page_jsonld(product: str, reviews: list[dict[str, object]], microdata: bool) -> str:
    ld = {"@context": "https://schema.org", "@type": "Product", "name": product, "review": [
        {"@type": "Review", "name": r["title"], "reviewBody": r["body"], "datePublished": r["date"],
         "author": {"@type": "Person", "name": r["author"]},
         "reviewRating": {"@type": "Rating", "ratingValue": r["rating"], "bestRating": 5}} for r in reviews]}
    micro = "".join(
        f'<div itemprop="review" itemscope itemtype="https://schema.org/Review"><h3 itemprop="name">{r["title"]}</h3>'
        f'<span itemprop="author">{r["author"]}</span><meta itemprop="datePublished" content="{r["date"]}">'
        f'<div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">'
        f'<meta itemprop="ratingValue" content="{r["rating"]}"></div><p itemprop="reviewBody">{r["body"]}</p></div>'
        for r in reviews
    ) if microdata else ""
    return (f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head><body>'
            f'<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">{product}</h1>{micro}</div>'
            f"</body></html>")


def _page_judgeme(product: str, reviews: list[dict[str, object]]) -> str:
    blocks = "".join(
        f'<div class="jdgm-rev" data-verified-buyer="true" data-review-id="{abs(hash(r["body"]))}">'
        f'<span class="jdgm-rev__rating" data-score="{r["rating"]}"></span>'
        f'<span class="jdgm-rev__timestamp" data-content="{r["date"]} 10:00:00 UTC"></span>'
        f'<span class="jdgm-rev__author">{r["author"]}</span><b class="jdgm-rev__title">{r["title"]}</b>'
        f'<div class="jdgm-rev__body"><p>{r["body"]}</p></div></div>' for r in reviews)
    return f'<html><body><div class="jdgm-widget" data-product-title="{product}">{blocks}</div></body></html>'


def _page_amazon(product: str, reviews: list[dict[str, object]]) -> str:
    blocks = "".join(
        f'<div data-hook="review"><span class="a-profile-name">{r["author"]}</span>'
        f'<a data-hook="review-title"><i data-hook="review-star-rating"><span class="a-icon-alt">{r["rating"]}.0 out of '
        f'5 stars</span></i><span>{r["title"]}</span></a><span data-hook="review-date">Reviewed in the United States '
        f'on {r["date"]}</span><span data-hook="avp-badge">Verified Purchase</span>'
        f'<span data-hook="review-body"><span>{r["body"]}</span></span></div>' for r in reviews)
    return f'<html><body><span id="productTitle">{product}</span>{blocks}</body></html>'


def _page_yotpo(product: str, reviews: list[dict[str, object]]) -> str:
    blocks = "".join(
        f'<div class="yotpo-review"><span class="yotpo-user-name">{r["author"]}</span>'
        f'<div class="yotpo-review-stars"><span class="sr-only">{r["rating"]}.0 star rating</span></div>'
        f'<span class="yotpo-review-date">{r["date"]}</span><div class="content-title">{r["title"]}</div>'
        f'<div class="content-review">{r["body"]}</div></div>' for r in reviews)
    return f'<html><body><div class="yotpo-main-widget" data-name="{product}">{blocks}</div></body></html>'


def _page_trustpilot(product: str, reviews: list[dict[str, object]]) -> str:
    data = {"props": {"pageProps": {"businessUnit": {"displayName": product}, "reviews": [
        {"id": str(i), "text": r["body"], "title": r["title"], "rating": r["rating"],
         "dates": {"publishedDate": f"{r['date']}T10:00:00.000Z"}, "consumer": {"displayName": r["author"]},
         "labels": {"verification": {"isVerified": True}}} for i, r in enumerate(reviews)]}}}
    return f'<html><body><h1>{product}</h1><script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}' \
           f"</script></body></html>"


def make_pages(folder: Path, count: int, rng: random.Random) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pool = [_review(rng, i) for i in range(count * 4)]
    shapes: list[Callable[[str, list[dict[str, object]]], str]] = [
        lambda p, r: _page_jsonld(p, r, False), lambda p, r: _page_jsonld(p, r, True), _page_judgeme,
        _page_amazon, _page_yotpo, _page_trustpilot,
    ]
    for n in range(count):
        pair = n // 2  # every review is on two pages, as re-saved or paginated pages overlap
        product = PRODUCTS[pair % len(PRODUCTS)]
        if n % 50 == 49:
            html = f"<html><body><h1>{product}</h1><p>No reviews yet.</p></body></html>"
        else:
            start = (pair * 8) % (len(pool) - 8)
            html = shapes[pair % len(shapes)](product, pool[start : start + 8])
        (folder / f"page_{n:05d}.html").write_text(html)


# --- measuring -----------------------------------------------------------------------------------------------


@dataclass
class Run:
    parse_s: float = 0.0
    store_s: float = 0.0
    documents: int = 0
    units: int = 0
    duplicates: int = 0

    @property
    def total_s(self) -> float:
        return self.parse_s + self.store_s


def import_files(files: list[Path], parse: Callable[[Path], ParsedFile], redactor: Redactor, db_path: Path) -> Run:
    """What `insight import KIND FILES` does per file: parse, then store in one transaction."""
    db = open_db(db_path)
    run = Run()
    for path in files:
        started = time.perf_counter()
        parsed = parse(path)
        run.parse_s += time.perf_counter() - started
        started = time.perf_counter()
        summary = store_parsed(db, parsed, ImportOptions(), redactor)
        run.store_s += time.perf_counter() - started
        run.documents += summary.imported + summary.updated
        run.duplicates += summary.duplicates
        run.units += summary.units
    db.conn.close()
    return run


def report(label: str, runs: list[Run], items: str, count: int, unit: str) -> None:
    total = statistics.median(r.total_s for r in runs)
    parse_s = statistics.median(r.parse_s for r in runs)
    store_s = statistics.median(r.store_s for r in runs)
    docs, units = runs[0].documents, runs[0].units
    print(f"{label}: {items}; {docs} documents, {units} units stored, {runs[0].duplicates} duplicates skipped")
    print(f"  median of {len(runs)}: total {total:.1f}s = parse {parse_s:.1f}s + store/redact {store_s:.1f}s")
    print(f"  {count / total:,.0f} {unit}/s, {docs / total:,.0f} documents/s, {units / total:,.0f} units/s "
          f"(runs: {', '.join(f'{r.total_s:.1f}s' for r in runs)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=20_000)
    ap.add_argument("--pages", type=int, default=2_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-ner", action="store_true", help="Redact with patterns only (no spaCy NER for names).")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    pipeline = None if args.no_ner else cached_pipeline(None)
    redactor = Redactor(nlp=pipeline.nlp if pipeline else None)
    print(f"redaction: {'patterns + ' + pipeline.name + ' NER' if pipeline and redactor.redacts_names else 'patterns only'}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tickets_path = root / "tickets_zendesk.json"
        make_zendesk(tickets_path, args.tickets, rng)
        make_pages(root / "pages", args.pages, rng)
        pages = sorted((root / "pages").glob("*.html"))
        size_mb = tickets_path.stat().st_size / 1e6
        ticket_runs = [
            import_files([tickets_path], lambda p: parse_tickets(p, fmt=None, mapping={}), redactor,
                         root / f"tickets_{i}.db")
            for i in range(args.repeats)
        ]
        report("tickets (Zendesk JSON)", ticket_runs, f"{args.tickets:,} tickets in one {size_mb:.0f} MB file",
               args.tickets, "tickets")
        page_runs = [
            import_files(pages, lambda p: parse_reviews(p, fmt=None), redactor, root / f"pages_{i}.db")
            for i in range(args.repeats)
        ]
        report("review pages (HTML)", page_runs, f"{args.pages:,} saved pages, one transaction each",
               args.pages, "pages")


if __name__ == "__main__":
    main()
