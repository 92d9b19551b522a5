"""Reviews in the markup of marketplaces and review apps: Amazon, Judge.me, Yotpo, Okendo, Loox.

Each app is a `WidgetShape` of CSS selectors; adding an app is adding one shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag

from ingest.email_clean import element_text
from ingest.review_fields import (
    FoundReview,
    flag,
    normalise_rating,
    rating_from_text,
    review_date,
    short_field,
)

Extractor = Callable[[BeautifulSoup, list[str]], list[FoundReview]]

def _text_of(root: Tag, selectors: str) -> str | None:
    element = root.select_one(selectors)
    if element is None:
        return None
    return element_text(element) or None


def _attr_of(root: Tag, selectors: str, *attrs: str) -> str | None:
    for element in [root, *root.select(selectors)]:
        for attr in attrs:
            if element.has_attr(attr) and str(element[attr]).strip():
                return str(element[attr]).strip()
    return None



def from_amazon(soup: BeautifulSoup, warnings: list[str]) -> list[FoundReview]:
    out = []
    for block in soup.select('[data-hook="review"]'):
        title_el = block.select_one('[data-hook="review-title"]')
        title = None
        if title_el is not None:  # the title link also holds the star icon's "4.0 out of 5 stars"
            strings = [s for s in title_el.find_all(string=True) if not s.find_parent(class_="a-icon-alt")]
            title = " ".join(" ".join(strings).split()) or None
        stars = _text_of(block, '[data-hook="review-star-rating"], [data-hook="cmps-review-star-rating"], .a-icon-alt')
        date_text = _text_of(block, '[data-hook="review-date"]') or ""
        date_text = re.sub(r"^.*?\bon\s+", "", date_text)
        body_el = block.select_one('[data-hook="review-body"]')
        body = element_text(body_el) if body_el is not None else ""
        body = re.sub(r"\s*Read more\s*$", "", body)
        out.append(FoundReview(
            body=body, extractor="amazon", title=title, rating=rating_from_text(stars),
            author=short_field(_text_of(block, ".a-profile-name")), date=review_date(date_text),
            verified=True if block.select_one('[data-hook="avp-badge"], [data-hook="avp-badge-linkless"]') else None,
            review_id=str(block["id"]) if block.has_attr("id") else None,
        ))
    return out


@dataclass(frozen=True)
class WidgetShape:
    """CSS selectors for one review app's widget markup."""

    name: str
    block: str
    body: str
    title: str
    author: str
    date: str
    rating_attr: str  # selector for an element carrying the score in data-score / data-rating / aria-label
    rating_text: str  # selector for screen-reader text like "4.0 star rating"
    verified: str
    product: str = ""
    filled_star: str = ""


WIDGETS = (
    WidgetShape("judgeme", ".jdgm-rev", ".jdgm-rev__body", ".jdgm-rev__title", ".jdgm-rev__author",
                ".jdgm-rev__timestamp", ".jdgm-rev__rating", ".jdgm-rev__rating .sr-only",
                ".jdgm-rev__buyer-badge", ".jdgm-rev__prod-link"),
    WidgetShape("yotpo", ".yotpo-review:not(.yotpo-template):not(.yotpo-hidden)",
                ".content-review, .yotpo-review-content, .yotpo-read-more-text",
                ".content-title, .yotpo-review-title", ".yotpo-user-name, .yotpo-reviewer-name",
                ".yotpo-review-date, .yotpo-date", ".yotpo-review-stars, .yotpo-star-rating",
                ".yotpo-review-stars .sr-only, .yotpo-star-rating .sr-only",
                ".yotpo-verified-buyer, .yotpo-user-title", "", ".yotpo-icon-star"),
    WidgetShape("okendo", ".oke-w-review, .oke-reviews-list-item", ".oke-reviewContent-body",
                ".oke-reviewContent-title", ".oke-w-reviewer-name", ".oke-reviewContent-date",
                ".oke-stars, [data-oke-rating]", ".oke-sr-only, .oke-a11yText", ".oke-w-reviewer-verified",
                ".oke-reviewContent-productName"),
    WidgetShape("loox", ".loox-review, .grid-item-wrap[data-id]", ".loox-review-content, .main-text",
                ".loox-review-title, .title", ".loox-review-author, .block.title, .author",
                ".loox-review-date, .time", ".loox-rating, .stars", ".loox-rating .sr-only, .stars .sr-only",
                ".loox-verified, .verified"),
)


def widget_extractor(shape: WidgetShape) -> Extractor:
    def extract(soup: BeautifulSoup, warnings: list[str]) -> list[FoundReview]:
        out = []
        widget_product = _attr_of(soup, "[data-product-title]", "data-product-title") if shape.product else None
        blocks = soup.select(shape.block)
        block_ids = {id(b) for b in blocks}

        def own(block: Tag, selector: str) -> list[Tag]:
            """Matches inside this review and not inside another review nested in it (broken HTML nests them)."""
            if not selector:
                return []
            return [el for el in block.select(selector)
                    if next((p for p in el.parents if id(p) in block_ids), None) is block]

        def text(block: Tag, selector: str) -> str | None:
            found = own(block, selector)
            return (element_text(found[0]) or None) if found else None

        def attr(block: Tag, selector: str, *names: str) -> str | None:
            for element in [block, *own(block, selector)]:
                for name in names:
                    if element.has_attr(name) and str(element[name]).strip():
                        return str(element[name]).strip()
            return None

        for block in blocks:
            score = normalise_rating(attr(block, shape.rating_attr, "data-score", "data-rating"))
            if score is None:
                score = rating_from_text(attr(block, shape.rating_attr, "aria-label", "title")
                                         or text(block, shape.rating_text))
            if score is None and shape.filled_star:
                count = len(own(block, shape.filled_star))
                score = float(count) if 1 <= count <= 5 else None
            verified = flag(str(block["data-verified-buyer"])) if block.has_attr("data-verified-buyer") else None
            if verified is None and own(block, shape.verified):
                verified = "verified" in (text(block, shape.verified) or "verified").lower()
            out.append(FoundReview(
                body=text(block, shape.body) or "",
                extractor=shape.name,
                title=text(block, shape.title),
                rating=score,
                author=short_field(text(block, shape.author)),
                date=review_date(attr(block, shape.date, "data-content", "datetime", "content")
                                 or text(block, shape.date)),
                verified=verified,
                product=text(block, shape.product) or attr(block, "", "data-product-title") or widget_product,
                review_id=attr(block, "", "data-review-id", "data-oke-review-id", "data-id"),
            ))
        return out

    return extract
