"""Reviews in structured data: schema.org JSON-LD (also nested in Product and @graph), microdata, and the
__NEXT_DATA__ JSON Trustpilot pages embed. Scripts are only read as JSON, never run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from bs4 import BeautifulSoup, Tag

from ingest.email_clean import element_text, fragment_text
from ingest.limits import MAX_FILE_BYTES
from ingest.reading import JsonTooDeep, load_json_limited
from ingest.review_fields import FoundReview, normalise_rating, review_date


def _load_json(raw: str, what: str, warnings: list[str]) -> Any:
    raw = raw.strip()
    raw = re.sub(r"^\s*(//\s*)?<!\[CDATA\[|(//\s*)?\]\]>\s*$", "", raw).strip()
    if not raw:
        return None
    if len(raw) > MAX_FILE_BYTES // 4:
        warnings.append(f"{what} has {len(raw):,} characters; skipped")
        return None
    try:
        return load_json_limited(raw, strict=False)
    except JsonTooDeep as exc:
        warnings.append(f"{what}: {exc}; skipped")
        return None
    except json.JSONDecodeError:
        pass
    try:  # trailing commas are the common hand-written mistake
        return load_json_limited(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
    except JsonTooDeep as exc:
        warnings.append(f"{what}: {exc}; skipped")
        return None
    except json.JSONDecodeError as exc:
        warnings.append(f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}); skipped")
        return None


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values}


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName")
    if value is None or isinstance(value, (dict, list)):
        return None
    text = fragment_text(str(value))
    return text or None


def from_json_ld(soup: BeautifulSoup, warnings: list[str]) -> list[FoundReview]:
    out: list[FoundReview] = []
    for index, script in enumerate(soup.find_all("script", attrs={"type": re.compile(r"ld\+json", re.I)}), 1):
        data = _load_json(script.get_text(), f"JSON-LD block {index}", warnings)
        if data is None:
            continue
        names = dict(_ids_to_names(data))
        skipped: list[str] = []
        out.extend(_walk_ld(data, None, names, skipped))
        if skipped:
            warnings.append(f"JSON-LD block {index}: {len(skipped)} review(s) with a field of the wrong type skipped "
                            f"({skipped[0]})")
    return out


def _ids_to_names(node: Any) -> Iterator[tuple[str, str]]:
    """@id -> name for every node, so a Review whose itemReviewed is just {"@id": ...} can name its product."""
    if isinstance(node, list):
        for item in node:
            yield from _ids_to_names(item)
    elif isinstance(node, dict):
        if isinstance(node.get("@id"), str) and isinstance(node.get("name"), str):
            yield node["@id"], node["name"]
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from _ids_to_names(value)


_LD_SUBJECTS = {"product", "productgroup", "organization", "localbusiness", "store", "onlinestore", "brand",
                "softwareapplication", "mobileapplication", "book", "service"}


def _walk_ld(node: Any, product: str | None, names: dict[str, str], skipped: list[str]) -> Iterator[FoundReview]:
    if isinstance(node, list):
        for item in node:
            yield from _walk_ld(item, product, names, skipped)
        return
    if not isinstance(node, dict):
        return
    types = _types(node)
    if types & _LD_SUBJECTS and _name(node.get("name")):
        product = _name(node.get("name"))
    if any(t.endswith("review") for t in types):
        try:
            review = _ld_review(node, product, names)
        except (TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            skipped.append(f"{type(exc).__name__}: {str(exc)[:80]}")  # the page's other reviews are still read
            review = None
        if review is not None:
            yield review
        return
    for key, value in node.items():
        if key != "itemReviewed" and isinstance(value, (dict, list)):
            yield from _walk_ld(value, product, names, skipped)


def _ld_review(node: dict[str, Any], product: str | None, names: dict[str, str]) -> FoundReview | None:
    body = _name(node.get("reviewBody") or node.get("description") or node.get("text")) or ""
    title = _name(node.get("name") or node.get("headline"))
    if not body and not title:
        return None
    reviewed = node.get("itemReviewed")
    if isinstance(reviewed, dict) and not reviewed.get("name") and reviewed.get("@id") in names:
        reviewed = names[reviewed["@id"]]
    rating = node.get("reviewRating")
    score = None
    if isinstance(rating, dict):
        score = normalise_rating(rating.get("ratingValue"), rating.get("bestRating"), rating.get("worstRating"))
    elif rating is not None:
        score = normalise_rating(rating)
    author = node.get("author")
    return FoundReview(
        body=body,
        extractor="json-ld",
        title=title if title != body else None,
        rating=score,
        author=_name(author),
        date=review_date(node.get("datePublished") or node.get("dateCreated")),
        product=_name(reviewed) or product,
        email=author.get("email") if isinstance(author, dict) and isinstance(author.get("email"), str) else None,
        review_id=str(node["@id"]) if isinstance(node.get("@id"), str) else None,
    )


def from_next_data(soup: BeautifulSoup, warnings: list[str]) -> list[FoundReview]:
    """Trustpilot pages embed their reviews in Next.js' __NEXT_DATA__ JSON (props.pageProps.reviews)."""
    script = soup.find("script", id="__NEXT_DATA__")
    if script is None:
        return []
    data = _load_json(script.get_text(), "__NEXT_DATA__", warnings)
    page = (data or {}).get("props", {}).get("pageProps", {}) if isinstance(data, dict) else {}
    reviews = page.get("reviews") if isinstance(page, dict) else None
    if not isinstance(reviews, list):
        return []
    business = page.get("businessUnit") or {}
    product = _name(business.get("displayName") or business.get("name")) if isinstance(business, dict) else None
    out = []
    for item in reviews:
        if not isinstance(item, dict):
            continue
        dates = item.get("dates") or {}
        consumer = item.get("consumer") or {}
        labels = item.get("labels") or {}
        verification = labels.get("verification") or {} if isinstance(labels, dict) else {}
        out.append(FoundReview(
            body=fragment_text(str(item.get("text") or "")),
            extractor="trustpilot",
            title=_name(item.get("title")),
            rating=normalise_rating(item.get("rating")),
            author=_name(consumer.get("displayName")) if isinstance(consumer, dict) else None,
            date=review_date(dates.get("publishedDate") if isinstance(dates, dict) else None),
            verified=bool(verification.get("isVerified")) if isinstance(verification, dict) else None,
            product=product,
            review_id=str(item["id"]) if item.get("id") is not None else None,
        ))
    return out


# --- microdata ---------------------------------------------------------------------------------------------


def _scope_props(scope: Tag) -> dict[str, list[Tag]]:
    """itemprop elements that belong to this itemscope (not to a scope nested inside it)."""
    props: dict[str, list[Tag]] = {}
    for element in scope.find_all(itemprop=True):
        if element.find_parent(attrs={"itemscope": True}) is not scope:
            continue
        for name in str(element.get("itemprop", "")).split():
            props.setdefault(name, []).append(element)
    return props


def _prop_value(element: Tag) -> str | None:
    if element.has_attr("itemscope"):
        inner = _scope_props(element)
        for name in ("name", "ratingValue"):
            if name in inner:
                return _prop_value(inner[name][0])
        return element_text(element) or None
    for attr in ("content", "datetime", "value"):
        if element.has_attr(attr):
            return str(element[attr]).strip()
    if element.name == "link":
        return str(element.get("href", "")).strip() or None
    if element.name == "meta":
        return None
    return element_text(element) or None


def _first(props: dict[str, list[Tag]], *names: str) -> str | None:
    for name in names:
        for element in props.get(name, []):
            value = _prop_value(element)
            if value:
                return value
    return None


def from_microdata(soup: BeautifulSoup, warnings: list[str]) -> list[FoundReview]:
    out = []
    for scope in soup.find_all(itemscope=True):
        itemtype = str(scope.get("itemtype", ""))
        itemprop = str(scope.get("itemprop", "")).split()
        is_review = itemtype.rstrip("/").lower().endswith("review") or "review" in itemprop or "reviews" in itemprop
        if not is_review or itemtype.lower().endswith("aggregaterating"):
            continue
        props = _scope_props(scope)
        body = _first(props, "reviewBody", "description", "text") or ""
        title = _first(props, "name", "headline")
        score = None
        for rating in props.get("reviewRating", []):
            inner = _scope_props(rating) if rating.has_attr("itemscope") else {}
            score = normalise_rating(_first(inner, "ratingValue") or _prop_value(rating),
                                     _first(inner, "bestRating"), _first(inner, "worstRating"))
        if score is None and "ratingValue" in props:
            score = normalise_rating(_first(props, "ratingValue"), _first(props, "bestRating"))
        product = _first(props, "itemReviewed")
        parent = scope.find_parent(attrs={"itemscope": True})
        while product is None and parent is not None:
            if str(parent.get("itemtype", "")).lower().rstrip("/").endswith("product"):
                product = _first(_scope_props(parent), "name")
            parent = parent.find_parent(attrs={"itemscope": True})
        out.append(FoundReview(
            body=body, extractor="microdata", title=title, rating=score,
            author=_first(props, "author", "creator"),
            date=review_date(_first(props, "datePublished", "dateCreated")),
            product=product,
        ))
    return out
