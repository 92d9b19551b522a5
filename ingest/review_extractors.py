"""Finding reviews in a saved HTML page: one extractor per markup shape, all of them tried on every page.

Pages carry the same review in several shapes at once (JSON-LD for search engines, microdata or a
widget's own markup for people), so every extractor runs and the results are merged per page. Nothing
on the page is executed or fetched: scripts are only read as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from bs4 import BeautifulSoup

from ingest.email_clean import element_text
from ingest.review_fields import FoundReview, norm_key
from ingest.review_structured import from_json_ld, from_microdata, from_next_data
from ingest.review_widgets import WIDGETS, Extractor, from_amazon, widget_extractor


@dataclass
class PageReviews:
    reviews: list[FoundReview]
    found_by: dict[str, int]  # extractor -> reviews it found (before merging)
    product: str | None
    warnings: list[str]


LOOKED_FOR = (
    "JSON-LD Review (also in Product and @graph), microdata itemprop=review, Amazon data-hook=review, "
    "Judge.me .jdgm-rev, Yotpo .yotpo-review, Okendo .oke-w-review, Loox .loox-review, "
    "Trustpilot __NEXT_DATA__"
)


def parse_html(text: str, *, lenient: bool = False) -> BeautifulSoup:
    """lxml (fast, recovers from most breakage); html.parser as the second try for what lxml swallows."""
    return BeautifulSoup(text, "html.parser" if lenient else "lxml")


def extract_reviews(soup: BeautifulSoup) -> PageReviews:
    warnings: list[str] = []
    found: list[FoundReview] = []
    found_by: dict[str, int] = {}
    for name, extractor in EXTRACTORS:
        reviews = [r for r in extractor(soup, warnings) if r.text]
        if reviews:
            found_by[name] = len(reviews)
            found.extend(reviews)
    merged = merge_page_reviews(found)
    product = page_product(soup, merged)
    for review in merged:
        review.product = review.product or product
    return PageReviews(merged, found_by, product, warnings)


EXTRACTORS: list[tuple[str, Extractor]] = [
    ("json-ld", from_json_ld),
    ("microdata", from_microdata),
    ("trustpilot", from_next_data),
    ("amazon", from_amazon),
    *[(shape.name, widget_extractor(shape)) for shape in WIDGETS],
]


# --- merging -----------------------------------------------------------------------------------------------


def merge_page_reviews(found: list[FoundReview]) -> list[FoundReview]:
    """The same review seen by two extractors on one page becomes one, each field from whoever had it."""
    merged: list[FoundReview] = []
    by_text: dict[str, list[FoundReview]] = {}
    for review in found:
        candidates = by_text.setdefault(norm_key(review.text), [])
        match = next((c for c in candidates if _compatible(c, review)), None)
        if match is None:
            review.extractors = [review.extractor]
            candidates.append(review)
            merged.append(review)
            continue
        for f in fields(FoundReview):
            if f.name in ("extractor", "extractors"):
                continue
            if getattr(match, f.name) in (None, "") and getattr(review, f.name) not in (None, ""):
                setattr(match, f.name, getattr(review, f.name))
        if review.extractor not in match.extractors:
            match.extractors.append(review.extractor)
    return merged


def _compatible(a: FoundReview, b: FoundReview) -> bool:
    same_author = not a.author or not b.author or norm_key(a.author) == norm_key(b.author)
    same_day = not a.date or not b.date or a.date[:10] == b.date[:10]
    return same_author and same_day


def page_product(soup: BeautifulSoup, reviews: list[FoundReview]) -> str | None:
    """The product (or business) the page is about, for reviews that do not name it themselves."""
    named = [r.product for r in reviews if r.product]
    if named:
        return max(set(named), key=named.count)
    for selector in ("#productTitle", '[data-hook="product-link"]', "[data-product-title]",
                     ".yotpo-main-widget[data-name]", "h1"):
        element = soup.select_one(selector)
        if element is not None:
            value = element.get("data-product-title") or element.get("data-name") or element_text(element)
            if value:
                return str(value)
    meta = soup.select_one('meta[property="og:title"]')
    if meta is not None and meta.get("content"):
        return str(meta["content"]).strip()
    return None
