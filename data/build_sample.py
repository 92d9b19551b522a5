#!/usr/bin/env python3
"""Build the bundled sample data set (data/sample/) from the hand-written material in data/source/.

    python data/build_sample.py            # writes data/sample/
    python data/build_sample.py --out DIR  # writes somewhere else (e.g. to compare two runs)

Deterministic: every random choice comes from random.Random seeded with SEED (one stream per part),
nothing depends on the clock, dict/set iteration order or the machine, and the DOCX zip entries get
fixed timestamps. Running it twice gives byte-identical files. Needs the standard library and
python-docx (for the two .docx interviews).

The brand, customers and everything they say are fictional; emails use reserved example domains,
phone numbers the 555-01xx fiction range, IP addresses the documentation ranges.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import re
import sys
import tomllib
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from random import Random

HERE = Path(__file__).resolve().parent
SRC = HERE / "source"
SEED = 20261124
START = date(2024, 11, 21)  # first day of order history
END = date(2026, 11, 20)  # last day with data
TODAY = date(2026, 11, 24)  # "today" of the demo

SURVEY_OCT = (date(2026, 10, 1), date(2026, 10, 31))
SURVEY_NOV = (date(2026, 10, 28), date(2026, 11, 20))  # the November export overlaps the end of October
SUBSCRIPTION_LAUNCH = date(2025, 2, 1)
WAREHOUSE_MOVE = (date(2025, 8, 1), date(2025, 9, 10))  # late deliveries, slow support
LEAKY_PUMPS = [(date(2025, 3, 1), date(2025, 6, 15)), (date(2026, 2, 15), date(2026, 5, 10))]
SUPPORT_BACKLOG = [WAREHOUSE_MOVE, (date(2026, 3, 15), date(2026, 5, 15))]


def rng_for(part: str) -> Random:
    return Random(f"{SEED}:{part}")


# --------------------------------------------------------------------------------------------------
# Customer types. These are the behaviours the generator gives customers; an RFM run over the orders
# should find the matching segments. n = orders per customer, last = days before END of the last
# order, gap = days between orders.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerType:
    count: int
    n: tuple[int, int]
    last: tuple[int, int]
    gap: tuple[int, int]
    sub: float  # share of customers on the subscription
    group: str  # text group: champ | mid | new | lapsed | winback


CUSTOMER_TYPES: dict[str, CustomerType] = {
    "champion": CustomerType(100, (8, 22), (0, 28), (26, 48), 0.65, "champ"),
    "loyal": CustomerType(190, (4, 9), (0, 75), (45, 95), 0.30, "champ"),
    "potential": CustomerType(150, (2, 3), (0, 35), (25, 70), 0.10, "mid"),
    "new": CustomerType(250, (1, 1), (0, 30), (0, 0), 0.05, "new"),
    "promising": CustomerType(130, (1, 1), (31, 60), (0, 0), 0.0, "new"),
    "need_attention": CustomerType(100, (2, 4), (45, 100), (40, 100), 0.10, "mid"),
    "about_to_sleep": CustomerType(150, (1, 2), (60, 120), (30, 90), 0.0, "mid"),
    "at_risk": CustomerType(190, (2, 5), (100, 240), (40, 110), 0.20, "lapsed"),
    "cant_lose": CustomerType(40, (7, 14), (150, 400), (25, 45), 0.50, "lapsed"),
    "hibernating": CustomerType(230, (1, 2), (180, 480), (30, 150), 0.0, "lapsed"),
    "lost": CustomerType(430, (1, 1), (300, 729), (0, 0), 0.0, "lapsed"),
    "winback": CustomerType(60, (2, 3), (0, 50), (0, 0), 0.0, "winback"),
}
PERSONA_TYPE_ALIASES = {"lapsed": "hibernating"}

# Which customer types raise a ticket topic (topics.toml "who").
WHO = {
    "lapsed": ["hibernating", "lost"],
    "at_risk": ["at_risk", "about_to_sleep"],
    "cant_lose": ["cant_lose"],
    "champion": ["champion"],
    "loyal": ["loyal", "potential"],
    "new": ["new", "promising"],
    "winback": ["winback"],
    "any": list(CUSTOMER_TYPES),
}

# Survey theme weights per text group: which groups of answers a respondent draws from.
SURVEY_WEIGHTS = {
    "why_buy": {
        "champ": {"restock": 30, "results": 22, "subscription": 16, "scent": 10, "ingredients": 4, "packaging_eco": 5,
                  "gift": 4, "texture": 2, "price_sale": 3, "misc": 4, "foreign": 2},
        "mid": {"results": 12, "restock": 14, "ingredients": 10, "sensitive_skin": 8, "price_sale": 10, "texture": 6,
                "scent": 6, "gift": 6, "discovery_friend": 5, "first_try": 4, "packaging_eco": 3, "misc": 5, "foreign": 2},
        "new": {"discovery": 34, "ingredients": 10, "sensitive_skin": 10, "first_try": 12, "price_sale": 6, "gift": 8,
                "texture": 3, "misc": 5, "foreign": 2},
        "winback": {"price_sale": 45, "restock": 15, "results": 10, "gift": 5, "first_try": 5, "misc": 5},
        "lapsed": {"price_sale": 30, "restock": 20, "misc": 10},
    },
    "almost_stopped": {
        "champ": {"nothing": 45, "price": 12, "shipping_time": 8, "shipping_cost": 4, "packaging": 5, "scent": 3,
                  "subscription_fear": 1, "checkout": 3, "discount_code": 3, "misc": 6, "foreign": 2},
        "mid": {"nothing": 20, "price": 20, "shipping_cost": 8, "shipping_time": 6, "sensitive_skin": 10,
                "discount_code": 6, "trust": 4, "subscription_fear": 4, "scent": 4, "checkout": 4, "packaging": 3,
                "misc": 6, "foreign": 1},
        "new": {"price": 22, "trust": 16, "sensitive_skin": 16, "shipping_cost": 8, "nothing": 12, "discount_code": 8,
                "subscription_fear": 5, "scent": 4, "checkout": 4, "shipping_time": 2, "misc": 4, "foreign": 1},
        "winback": {"price": 35, "shipping_time": 20, "subscription_fear": 10, "nothing": 10, "shipping_cost": 8,
                    "packaging": 5, "sensitive_skin": 5, "discount_code": 5},
        "lapsed": {"price": 40, "shipping_time": 20, "nothing": 10},
    },
    "anything_else": {
        "champ": {"praise": 20, "results": 18, "scent": 12, "subscription_easy": 10, "packaging_eco": 6, "requests": 8,
                  "fragrance_free": 3, "texture": 3, "shipping": 3, "service": 4, "price": 2, "contact": 2, "misc": 8,
                  "foreign": 2},
        "mid": {"results": 8, "praise": 10, "requests": 10, "texture": 8, "fragrance_free": 6, "price": 8, "discount": 4,
                "shipping": 6, "packaging_leak": 4, "service": 5, "irritation": 5, "packaging_eco": 4, "contact": 2,
                "misc": 12, "foreign": 1},
        "new": {"praise": 8, "requests": 10, "fragrance_free": 8, "texture": 6, "discount": 6, "shipping": 6,
                "irritation": 4, "service": 4, "price": 6, "contact": 3, "misc": 20, "foreign": 2},
        "winback": {"price": 25, "shipping": 15, "subscription_cancel": 15, "service": 8, "packaging_leak": 8,
                    "irritation": 6, "misc": 10},
        "lapsed": {"price": 25, "shipping": 15, "subscription_cancel": 15, "misc": 10},
    },
}
ELSE_EMPTY = {"champ": 0.42, "mid": 0.55, "new": 0.6, "winback": 0.45, "lapsed": 0.5}
RESPONSE_RATE = {"champ": 0.63, "mid": 0.66, "new": 0.7, "winback": 0.75, "lapsed": 0.5}

HEARD_CHOICES = ["TikTok", "Instagram", "Friend or family", "Google search", "Dermatologist", "Podcast", "Other"]
HEARD_WEIGHTS = [30, 20, 22, 12, 7, 4, 5]
HEARD_OTHER = ["my sister", "Reddit", "YouTube", "saw it at a pop-up at the Mill City market", "Allure article",
               "my esthetician", "can't remember", "pinterest", "work friend", "facebook group for rosacea",
               "a newsletter I read", "gift from my aunt", "ad on hulu", "Google", "my daughter"]


# --------------------------------------------------------------------------------------------------
# Reading the source material
# --------------------------------------------------------------------------------------------------


def read_groups(path: Path) -> dict[str, list[str]]:
    """One entry a line; a line starting with two spaces continues the entry above on a new line."""
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("#"):
            continue
        m = re.match(r"^== (.+?) ==\s*$", raw)
        if m:
            current = groups.setdefault(m.group(1).strip(), [])
            continue
        if not raw.strip() or current is None:
            continue
        if raw.startswith("  ") and current:
            current[-1] += "\n" + raw.strip()
        else:
            current.append(raw.rstrip())
    return groups


def read_blocks(path: Path) -> dict[str, list[str]]:
    """Entries separated by blank lines, or by '---' lines where a section contains any."""
    sections: dict[str, list[str]] = {}
    name = None
    lines: list[str] = []

    def flush() -> None:
        if name is None:
            return
        text = "\n".join(lines).strip("\n")
        if any(ln.strip() == "---" for ln in lines):
            parts = re.split(r"\n\s*---\s*\n", "\n" + text + "\n")
        else:
            parts = re.split(r"\n\s*\n", text)
        sections.setdefault(name, []).extend(p.strip("\n") for p in parts if p.strip())

    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("# ") or raw == "#":
            continue
        m = re.match(r"^== (.+?) ==\s*$", raw)
        if m:
            flush()
            name, lines = m.group(1).strip(), []
            continue
        lines.append(raw.rstrip())
    flush()
    return sections


@dataclass
class Product:
    sku: str
    title: str
    variant: str
    price: float
    compare_at: float
    cad: float
    handle: str
    category: str
    ships: bool
    taxable: bool
    product_id: int = 0

    @property
    def line_name(self) -> str:
        return f"{self.title} - {self.variant}"


@dataclass
class Source:
    brand: dict
    people: dict
    personas: list[dict]
    products: dict[str, Product]
    why_buy: dict[str, list[str]]
    almost_stopped: dict[str, list[str]]
    anything_else: dict[str, list[str]]
    reviews: dict[str, list[dict]]  # handle -> reviews
    topics: dict[str, dict]
    ticket_text: dict[str, dict[str, list[str]]]
    interviews: list[tuple[dict, list[tuple[str, str]]]]


def load_source() -> Source:
    brand = tomllib.loads((SRC / "brand.toml").read_text(encoding="utf-8"))
    people = tomllib.loads((SRC / "people.toml").read_text(encoding="utf-8"))
    personas = tomllib.loads((SRC / "personas.toml").read_text(encoding="utf-8"))["persona"]
    products: dict[str, Product] = {}
    for i, row in enumerate(brand["products"]):
        p = Product(*row)
        p.product_id = 8_104_220_000_000 + i * 32_768 + 1_021
        products[p.sku] = p
    reviews: dict[str, list[dict]] = {}
    for path in sorted((SRC / "reviews").glob("*.txt")):
        items = []
        for theme, blocks in read_blocks(path).items():
            for block in blocks:
                head, _, body = block.partition("\n")
                rating, _, title = head.partition("|")
                items.append({"rating": int(rating.strip()), "title": title.strip(), "body": body.strip(),
                              "theme": theme, "handle": path.stem})
        reviews[path.stem] = items
    topics = tomllib.loads((SRC / "tickets" / "topics.toml").read_text(encoding="utf-8"))
    ticket_text = {t: read_blocks(SRC / "tickets" / f"{t}.txt") for t in topics}
    interviews = []
    for path in sorted((SRC / "interviews").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        head, _, body = text.partition("\n---\n")
        meta = tomllib.loads("\n".join(ln for ln in head.splitlines() if not ln.startswith("#")))
        turns = []
        for ln in body.splitlines():
            if not ln.strip():
                continue
            who, _, said = ln.partition(": ")
            turns.append((who.strip(), said.strip()))
        interviews.append((meta, turns))
    return Source(
        brand=brand, people=people, personas=personas, products=products,
        why_buy=read_groups(SRC / "survey" / "why_buy.txt"),
        almost_stopped=read_groups(SRC / "survey" / "almost_stopped.txt"),
        anything_else=read_groups(SRC / "survey" / "anything_else.txt"),
        reviews=reviews, topics=topics, ticket_text=ticket_text, interviews=interviews,
    )


# --------------------------------------------------------------------------------------------------
# Time helpers: the store is on US Central time.
# --------------------------------------------------------------------------------------------------


def _nth_sunday(year: int, month: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(6 - d.weekday()) % 7)
    return d + timedelta(days=7 * (n - 1))


def central_offset(local: datetime) -> int:
    start = datetime.combine(_nth_sunday(local.year, 3, 2), time(2))
    end = datetime.combine(_nth_sunday(local.year, 11, 1), time(2))
    return -5 if start <= local < end else -6


def shopify_time(local: datetime) -> str:
    off = central_offset(local)
    return local.strftime("%Y-%m-%d %H:%M:%S") + f" -{abs(off):02d}00"


def to_utc(local: datetime) -> datetime:
    return local - timedelta(hours=central_offset(local))


def iso_z(utc: datetime) -> str:
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def pick_time(rng: Random, day: date) -> datetime:
    hour = rng.choices(range(24), weights=[2, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 8, 10, 9, 8, 7, 7, 8, 10, 12, 13, 12, 9, 5])[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)))


def business_time(rng: Random, moment: datetime, hours: float) -> datetime:
    """A time about `hours` after `moment`, nudged into 8:00-19:00."""
    t = moment + timedelta(hours=hours, minutes=rng.randrange(60))
    if t.hour < 8:
        t = t.replace(hour=8 + rng.randrange(3), minute=rng.randrange(60))
    elif t.hour >= 19:
        t = (t + timedelta(days=1)).replace(hour=8 + rng.randrange(4), minute=rng.randrange(60))
    return t.replace(second=rng.randrange(60))


def in_periods(d: date, periods: list[tuple[date, date]]) -> bool:
    return any(a <= d <= b for a, b in periods)


def money(x: float) -> str:
    return f"{x:.2f}"


# --------------------------------------------------------------------------------------------------
# Customers and orders
# --------------------------------------------------------------------------------------------------


@dataclass
class Line:
    product: Product
    qty: int
    price: float
    compare_at: float
    discount: float = 0.0


@dataclass
class Order:
    customer: Customer
    created: datetime  # store-local
    lines: list[Line]
    sub: bool = False
    sub_first: bool = False
    code: str = ""
    late: bool = False
    express: bool = False
    cancelled: bool = False
    refund: str = ""  # "" | full | partial
    refund_amount: float = 0.0
    email_cell: str | None = None
    test: bool = False
    creator: bool = False
    pending: bool = False
    number: int = 0
    id: int = 0
    # money, filled by price_order
    gross: float = 0.0
    discount: float = 0.0
    subtotal: float = 0.0
    shipping: float = 0.0
    shipping_method: str = ""
    taxes: float = 0.0
    tax_name: str = ""
    total: float = 0.0
    payment_method: str = "Shopify Payments"
    note: str = ""
    note_attributes: str = ""
    risk: str = "Low"

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def day(self) -> date:
        return self.created.date()


@dataclass
class Customer:
    first: str
    last: str
    email: str
    type: str
    state: str
    city: str
    zip: str
    country: str
    street: str
    address2: str
    phone: str
    accepts_marketing: bool
    channel: str
    sensitive: bool
    favourites: list[str]
    currency: str = "USD"
    persona: dict | None = None
    orders: list[Order] = field(default_factory=list)

    @property
    def group(self) -> str:
        return CUSTOMER_TYPES[self.type].group

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def ascii_slug(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text.lower())


POPULARITY = {
    "FL-MST-CLD-050": 14, "FL-MST-CLF-050": 8, "FL-SER-NIA-030": 15, "FL-CLN-GEL-150": 14, "FL-SPF-050-050": 12,
    "FL-SER-VTC-030": 10, "FL-MST-RCH-050": 7, "FL-CLN-BLM-100": 6, "FL-SER-HYA-030": 5, "FL-EYE-CAF-015": 4,
    "FL-MSK-CLY-075": 4, "FL-ACC-BND-001": 1,
}
LAUNCHED = {"FL-SER-HYA-030": date(2025, 5, 6), "FL-RFL-MST-050": date(2025, 3, 4), "FL-RFL-CLN-150": date(2025, 3, 4),
            "FL-MST-CLF-050": date(2025, 2, 11), "FL-ACC-BND-001": date(2025, 9, 1)}
REFILL_OF = {"FL-MST-CLD-050": "FL-RFL-MST-050", "FL-CLN-GEL-150": "FL-RFL-CLN-150"}


class World:
    """Customers, their orders, and the indexes the other builders use."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.rng = rng_for("orders")
        self.customers: list[Customer] = []
        self.by_email: dict[str, Customer] = {}
        self.orders: list[Order] = []
        self.codes = src.brand["discount_codes"]
        self.states = {s[0]: s for s in src.brand["states"]}
        self.states.update({p[0]: p for p in src.brand["provinces"]})
        self._build()

    # -- customers --------------------------------------------------------------------------------
    def _name(self) -> tuple[str, str]:
        rng = self.rng
        pools = self.src.people["names"]
        cultures = ["anglo", "hispanic", "east_asian", "south_asian", "west_african", "european", "irish", "middle_eastern"]
        culture = rng.choices(cultures, weights=[35, 14, 10, 10, 8, 10, 5, 8])[0]
        first = rng.choice(pools[culture]["first"])
        last_culture = culture if rng.random() > 0.12 else rng.choice(cultures)
        return first, rng.choice(pools[last_culture]["last"])

    def _email(self, first: str, last: str) -> str:
        rng = self.rng
        f, li = ascii_slug(first), ascii_slug(last)
        domain = rng.choices(["example.com", "example.net", "example.org"], weights=[5, 3, 2])[0]
        pattern = rng.choices(range(8), weights=[30, 14, 12, 10, 8, 8, 10, 8])[0]
        local = [f"{f}.{li}", f"{f}{li}", f"{f[0]}.{li}", f"{f}{li[0]}{rng.randint(70, 99)}", f"{li}.{f}", f"{f}_{li}",
                 f"{f}{rng.randint(1, 999)}", f"{f[0]}{li}{rng.randint(1, 30)}"][pattern]
        email = f"{local}@{domain}"
        n = 2
        while email in self.by_email:
            email = f"{local}{n}@{domain}"
            n += 1
        return email

    def _address(self, country: str = "US", state: str | None = None, city: str | None = None):
        rng = self.rng
        if country == "US":
            state = state or rng.choices([s[0] for s in self.src.brand["states"]],
                                         weights=[12, 10, 12, 9, 8, 6, 7, 5, 6, 5, 5, 5, 4, 4, 4, 4, 3, 3])[0]
        else:
            state = state or rng.choice([p[0] for p in self.src.brand["provinces"]])
        places = self.src.people["places"][state]
        match = [p for p in places if p[0] == city]
        city_name, prefix = (match[0] if match else rng.choice(places))
        if country == "US":
            zipc = prefix + f"{rng.randrange(100):02d}"
        else:
            zipc = f"{prefix} {rng.randrange(10)}{rng.choice('ABCEGHJKLMNPRSTVXY')}{rng.randrange(10)}"
        street = f"{rng.randint(3, 9899)} {rng.choice(self.src.people['streets']['names'])}"
        unit = rng.choice(self.src.people["streets"]["units"]) if rng.random() < 0.28 else ""
        area = {"MN": "612", "NY": "718", "CA": "415", "TX": "512", "IL": "312", "WA": "206", "FL": "305", "GA": "404",
                "MA": "617", "CO": "303", "OR": "503", "PA": "215", "NC": "919", "AZ": "602", "MI": "313", "NJ": "201",
                "VA": "804", "OH": "614", "ON": "416", "BC": "604", "QC": "514"}[state]
        phone = ""
        if rng.random() < 0.55:
            digits = f"{area}55501{rng.randrange(100):02d}"
            phone = rng.choice([f"+1{digits}", f"({area}) 555-01{digits[-2:]}", f"{area}-555-01{digits[-2:]}"])
        return state, city_name, zipc, street, unit, phone

    def _new_customer(self, type_: str, first=None, last=None, email=None, state=None, city=None,
                      country="US", persona=None) -> Customer:
        rng = self.rng
        if first is None:
            first, last = self._name()
        email = email or self._email(first, last)
        st, cty, zipc, street, unit, phone = self._address(country, state, city)
        channel = rng.choices(HEARD_CHOICES, weights=HEARD_WEIGHTS)[0]
        sensitive = rng.random() < 0.3
        pool = list(POPULARITY)
        weights = [POPULARITY[s] * (2.5 if sensitive and s == "FL-MST-CLF-050" else 1)
                   * (0.2 if sensitive and s == "FL-MST-CLD-050" else 1) for s in pool]
        favourites: list[str] = []
        for _ in range(rng.randint(2, 4)):
            s = rng.choices(pool, weights=weights)[0]
            if s not in favourites:
                favourites.append(s)
        c = Customer(first=first, last=last, email=email, type=type_, state=st, city=cty, zip=zipc,
                     country=country, street=street, address2=unit, phone=phone,
                     accepts_marketing=rng.random() < 0.62, channel=channel, sensitive=sensitive,
                     favourites=favourites, currency="CAD" if country == "CA" else "USD", persona=persona)
        self.customers.append(c)
        self.by_email[email] = c
        return c

    # -- orders -----------------------------------------------------------------------------------
    def _basket(self, c: Customer, day: date, first: bool) -> list[str]:
        rng = self.rng
        available = lambda s: LAUNCHED.get(s, START) <= day  # noqa: E731
        if first and rng.random() < 0.22:
            return ["FL-KIT-DSC-004"]
        if first and rng.random() < 0.12:
            return ["FL-SET-RTN-003"]
        n = rng.choices([1, 2, 3, 4], weights=[40, 35, 18, 7])[0]
        skus: list[str] = []
        for s in rng.sample(c.favourites, k=min(n, len(c.favourites))):
            if not first and s in REFILL_OF and available(REFILL_OF[s]) and rng.random() < 0.3:
                s = REFILL_OF[s]
            if available(s):
                skus.append(s)
        if rng.random() < 0.12:
            extra = rng.choices(list(POPULARITY), weights=list(POPULARITY.values()))[0]
            if available(extra) and extra not in skus:
                skus.append(extra)
        if rng.random() < 0.012:
            skus.append("FL-GFT-CRD-050")
        return skus or ["FL-CLN-GEL-150"]

    def _lines(self, c: Customer, skus: list[str], sub: bool) -> list[Line]:
        rng = self.rng
        lines = []
        merged: dict[str, int] = {}
        for s in skus:
            merged[s] = merged.get(s, 0) + 1
        for s, qty in merged.items():
            p = self.src.products[s]
            if rng.random() < 0.07 and p.category not in ("set", "gift"):
                qty += 1
            base = p.cad if c.currency == "CAD" else p.price
            compare = 0.0 if c.currency == "CAD" else p.compare_at
            if sub and p.category != "gift":
                lines.append(Line(p, qty, round(base * 0.85, 2), base))
            else:
                lines.append(Line(p, qty, base, compare))
        return lines

    def _code(self, c: Customer, day: date, first: bool) -> str:
        rng = self.rng
        r = rng.random()
        bfcm = [cd for cd in self.codes if cd[0] == "BFCM25" and date.fromisoformat(cd[3]) <= day <= date.fromisoformat(cd[4])]
        if bfcm and r < 0.7:
            return "BFCM25"
        spring = [cd for cd in self.codes if cd[0] == "SPRING15" and date.fromisoformat(cd[3]) <= day <= date.fromisoformat(cd[4])]
        if spring and r < 0.5:
            return "SPRING15"
        if first:
            if c.channel == "TikTok" and day >= date(2025, 3, 1) and r < 0.35:
                return "TIKTOK15"
            if c.channel == "Friend or family" and r < 0.35:
                return "FRIENDS20"
            if r < 0.3:
                return "WELCOME10"
            if r < 0.34:
                return "FREESHIP"
            return ""
        if r < 0.03:
            return "GLOWUP5" if day >= date(2025, 6, 1) else ""
        if r < 0.045:
            return "FREESHIP"
        return ""

    def add_order(self, c: Customer, day: date, skus: list[str] | None = None, sub: bool = False,
                  code: str | None = None, first: bool | None = None) -> Order:
        rng = self.rng
        if first is None:
            first = not c.orders
        skus = skus or self._basket(c, day, first)
        created = pick_time(rng, day)
        o = Order(customer=c, created=created, lines=self._lines(c, skus, sub), sub=sub)
        o.code = "" if sub else (self._code(c, day, first) if code is None else code)
        if c.currency == "CAD" and o.code in ("FREESHIP",):
            o.code = ""
        o.express = rng.random() < 0.05
        if WAREHOUSE_MOVE[0] <= day <= WAREHOUSE_MOVE[1] and rng.random() < 0.65:
            o.late = True
        elif rng.random() < 0.025:
            o.late = True
        o.payment_method = rng.choices(["Shopify Payments", "PayPal Express Checkout"], weights=[84, 16])[0]
        o.risk = rng.choices(["Low", "Medium", "High"], weights=[970, 27, 3])[0]
        if rng.random() < 0.015:
            o.note = rng.choice(["Please leave with the doorman", "Gift! please don't include the receipt",
                                 "Happy birthday Mom!! love, J", "Leave at back door, dog bites (jk he's friendly)",
                                 "please no plastic fillers", "Can you include a sample of the vitamin C?",
                                 "Ring the bell twice", "This is for my daughter's 16th, could you add a note?"])
        if rng.random() < 0.02:
            o.note_attributes = rng.choice(["utm_source: tiktok\nutm_campaign: fall_glow",
                                            "utm_source: instagram\nutm_medium: paid_social",
                                            "gift_message: Merry Christmas, love you!",
                                            "utm_source: newsletter\nutm_campaign: comeback"])
        c.orders.append(o)
        self.orders.append(o)
        return o

    def _dates_for(self, t: CustomerType) -> list[date]:
        rng = self.rng
        n = rng.randint(*t.n)
        last = END - timedelta(days=rng.randint(*t.last))
        dates = [last]
        for _ in range(n - 1):
            d = dates[-1] - timedelta(days=rng.randint(*t.gap))
            if d < START:
                break
            dates.append(d)
        return sorted(dates)

    def _build(self) -> None:
        rng = self.rng
        # Personas first, so their emails are taken.
        for p in self.src.personas:
            t = PERSONA_TYPE_ALIASES.get(p["type"], p["type"])
            c = self._new_customer(t, p["first"], p["last"], p["email"], p["state"], p["city"], persona=p)
            if p["email"].startswith("oluwaseun") or p["email"].startswith("kayden"):
                c.channel = "TikTok"
            specs: list[tuple[date, str, str]] = [(date.fromisoformat(d), skus, flags) for d, skus, flags in p.get("orders", [])]
            for start, stop, every, skus, flags in p.get("repeat", []):
                d = date.fromisoformat(start)
                pool = skus.split(";")
                while d <= date.fromisoformat(stop):
                    k = rng.randint(2, min(4, len(pool)))
                    specs.append((d, ";".join(rng.sample(pool, k)), flags))
                    d += timedelta(days=every + rng.randint(-4, 4))
            for d, skus, flags in sorted(specs, key=lambda s: s[0]):
                fl = [f.strip() for f in flags.split(";") if f.strip()] if flags else []
                code = next((f[5:] for f in fl if f.startswith("code=")), "")
                o = self.add_order(c, d, skus.split(";"), sub="sub" in fl, code=code)
                o.late = "late" in fl
                o.express = "express" in fl
                o.cancelled = "cancelled" in fl
                if "refunded" in fl:
                    o.refund = "full"
                if "partial" in fl:
                    o.refund = "partial"
                for f in fl:
                    if f.startswith("email="):
                        o.email_cell = f[6:]
            for o in c.orders:
                if o.sub:
                    o.sub_first = True
                    break

        # Generated customers.
        for type_name, t in CUSTOMER_TYPES.items():
            for _ in range(t.count):
                country = "CA" if rng.random() < 0.003 else "US"
                c = self._new_customer(type_name, country=country)
                if type_name == "winback":
                    old = sorted(END - timedelta(days=rng.randint(250, 600)) for _ in range(rng.randint(1, 2)))
                    for d in old:
                        self.add_order(c, d)
                    back = END - timedelta(days=rng.randint(*t.last))
                    self.add_order(c, back, code="COMEBACK20" if back >= date(2026, 9, 15) else "WELCOME10")
                    continue
                dates = self._dates_for(t)
                # Black Friday pulls some lapsed customers' single orders into the sale week.
                if type_name in ("lost", "hibernating") and rng.random() < 0.1:
                    dates[0] = rng.choice([date(2024, 11, 29), date(2024, 11, 30), date(2024, 12, 2),
                                           date(2025, 11, 28), date(2025, 11, 29), date(2025, 12, 1)])
                    dates = sorted(d for d in dates if d <= END)
                on_sub = rng.random() < t.sub
                sub_basket = None
                for i, d in enumerate(dates):
                    sub = on_sub and i > 0 and d >= SUBSCRIPTION_LAUNCH
                    if sub and sub_basket is None:
                        sub_basket = self._basket(c, d, False)
                        o = self.add_order(c, d, sub_basket, sub=True)
                        o.sub_first = True
                    elif sub:
                        skus = list(sub_basket)
                        if rng.random() < 0.25:
                            skus.append(rng.choice(list(POPULARITY)))
                        self.add_order(c, d, skus, sub=True)
                    else:
                        self.add_order(c, d)

        # Influencer seeding: 100% discount draft orders (zero-value).
        creators = [("Dani", "Okafor", "glowwithdani@example.net"), ("Rosa", "Méndez", "skinbyrosa@example.com"),
                    ("Tess", "Lindqvist", "thetinkeringesthetician@example.org"),
                    ("Kofi", "Mensah", "kofi.does.skincare@example.net"),
                    ("Mila", "Horváth", "milawrites.beauty@example.com"), ("Ana", "Kovač", "dermdiaries.ana@example.org")]
        for i, (first, last, email) in enumerate(creators):
            c = self._new_customer("lost" if i < 3 else "promising", first, last, email)
            d = date(2025, 3, 3) + timedelta(days=97 * i)
            o = self.add_order(c, d, ["FL-SET-RTN-003", "FL-SPF-050-050", "FL-SER-VTC-030"], code="CREATOR100")
            o.creator = True
            o.payment_method = ""
            if i == 4:  # one creator liked it and came back as a paying customer
                self.add_order(c, END - timedelta(days=41), ["FL-MST-CLD-050", "FL-SER-NIA-030"], code="")

        # Test orders placed by the team.
        tester = self._new_customer("lost", "Test", "Test", "test@fernleafskin.com", "MN", "Minneapolis")
        for d in (date(2024, 11, 21), date(2024, 11, 21), date(2025, 2, 3), date(2026, 9, 30)):
            o = self.add_order(tester, d, ["FL-CLN-GEL-150"], code="")
            o.test = True
            o.payment_method = "bogus"
        noor = self._new_customer("lost", "Noor", "Test", "noor+test@fernleafskin.com", "MN", "Minneapolis")
        o = self.add_order(noor, date(2025, 1, 31), ["FL-SET-RTN-003"], sub=True, code="")
        o.test = True
        o.payment_method = "bogus"

        # Messiness: cancellations, refunds, pending payments, email variants.
        pool = [o for o in self.orders if not (o.test or o.creator or o.customer.persona)]
        for o in pool:
            r = rng.random()
            if r < 0.022:
                o.cancelled = True
                o.refund = "full" if rng.random() < 0.3 else ""
            elif r < 0.032:
                o.refund = "full"
            elif r < 0.05:
                o.refund = "partial"
        multi = [c for c in self.customers if len(c.orders) >= 3 and not c.persona]
        for c in rng.sample(multi, 30):
            o = rng.choice(c.orders[1:])
            style = rng.randrange(4)
            o.email_cell = [c.email.upper(), c.email.capitalize(), " " + c.email, c.email + " "][style]

        self.orders.sort(key=lambda o: (o.created, o.customer.email))
        recent = [o for o in self.orders if o.day >= END - timedelta(days=1) and not o.test and not o.cancelled]
        for o in recent[:: max(1, len(recent) // 3)][:3]:
            o.pending = True
            o.payment_method = "PayPal Express Checkout"
        oid = 5_812_345_678_901
        for i, o in enumerate(self.orders):
            o.number = 1001 + i
            oid += rng.randint(180_000, 9_400_000)
            o.id = oid
            self.price(o)

    # -- money ------------------------------------------------------------------------------------
    def price(self, o: Order) -> None:
        c = o.customer
        o.gross = round(sum(li.price * li.qty for li in o.lines), 2)
        code = next((cd for cd in self.codes if cd[0] == o.code), None)
        discount = 0.0
        if code and code[1] == "percent":
            discount = round(o.gross * code[2] / 100, 2)
        elif code and code[1] == "fixed":
            discount = min(float(code[2]), o.gross)
        # allocate the discount to lines in proportion
        left = discount
        for i, li in enumerate(o.lines):
            share = left if i == len(o.lines) - 1 else round(discount * li.price * li.qty / o.gross, 2) if o.gross else 0
            li.discount = round(share, 2)
            left = round(left - li.discount, 2)
        o.discount = discount
        o.subtotal = round(o.gross - discount, 2)
        methods = {m[0]: m for m in self.src.brand["shipping_methods"]}
        if c.currency == "CAD":
            o.shipping_method = "Canada Post Expedited"
            o.shipping = methods[o.shipping_method][2]
        elif o.express:
            o.shipping_method = "Express Shipping (2-3 business days)"
            o.shipping = methods[o.shipping_method][1]
        elif o.sub or o.subtotal >= 50 or o.creator:
            o.shipping_method = "Free Shipping"
            o.shipping = 0.0
        else:
            o.shipping_method = "Standard Shipping (5-8 business days)"
            o.shipping = methods[o.shipping_method][1]
        if o.code == "FREESHIP" and o.shipping:
            o.discount = round(o.discount + o.shipping, 2)
            o.shipping = 0.0
        if all(not li.product.ships for li in o.lines):
            o.shipping_method, o.shipping = "", 0.0
        st = self.states[c.state]
        taxable = sum(li.price * li.qty - li.discount for li in o.lines if li.product.taxable)
        o.taxes = round(taxable * st[3], 2)
        o.tax_name = st[2] if st[3] else ""
        o.total = round(o.subtotal + o.shipping + o.taxes, 2)
        if o.refund == "full":
            o.refund_amount = o.total
        elif o.refund == "partial" and not o.refund_amount:
            line = max(o.lines, key=lambda li: li.price)
            o.refund_amount = round(min(o.total, line.price - line.discount / line.qty) * (1 + st[3]), 2)
            if o.refund_amount >= o.total:
                o.refund_amount = round(o.total * 0.5, 2)

    def mark_refund(self, o: Order, kind: str, share: float | None = None) -> None:
        """Called by the ticket builder so that refunds promised in tickets show in the orders."""
        if o.cancelled or o.test or o.creator or o.total == 0:
            return
        if kind == "full":
            o.refund, o.refund_amount = "full", o.total
        elif o.refund != "full":
            o.refund = "partial"
            o.refund_amount = round(o.total * share, 2) if share else 0.0
            self.price(o)

    # -- queries ----------------------------------------------------------------------------------
    def real_orders(self, c: Customer) -> list[Order]:
        return [o for o in c.orders if not (o.test or o.cancelled or o.creator)]


# --------------------------------------------------------------------------------------------------
# Shopify orders CSV
# --------------------------------------------------------------------------------------------------

SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing Address2", "Billing Company", "Billing City",
    "Billing Zip", "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes", "Cancelled at",
    "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Employee",
    "Location", "Device ID", "Id", "Tags", "Risk Level", "Source", "Lineitem discount", "Tax 1 Name",
    "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value", "Tax 4 Name", "Tax 4 Value",
    "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number", "Duties", "Billing Province Name",
    "Shipping Province Name", "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
]


def token(rng: Random, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def write_categories(src: Source, path: Path) -> int:
    """The merchant's own SKU -> category sheet (sku,category): the Shopify export has no product type, and
    `insight segments affinity --categories` takes this file."""
    names = {"spf": "SPF", "eye": "Eye care", "kit": "Kit", "set": "Set", "gift": "Gift card"}
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["sku", "category"])
    for p in src.products.values():
        out.writerow([p.sku, names.get(p.category, p.category.capitalize())])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return len(src.products)


def write_orders(world: World, path: Path) -> int:
    rng = rng_for("orders-csv")
    rows = 0
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SHOPIFY_HEADER)
    for o in sorted(world.orders, key=lambda o: o.number, reverse=True):  # Shopify exports newest first
        c = o.customer
        st = world.states[c.state]
        ref = token(rng, 25)
        if o.cancelled:
            financial = "refunded" if o.refund == "full" else "voided"
        elif o.pending:
            financial = "pending"
        elif o.refund == "full":
            financial = "refunded"
        elif o.refund == "partial":
            financial = "partially_refunded"
        else:
            financial = "paid"
        paid_at = "" if financial in ("voided", "pending") else shopify_time(o.created + timedelta(seconds=rng.randint(2, 40)))
        shipped_by = o.created + timedelta(days=rng.randint(9, 16) if o.late else rng.randint(1, 3))
        shipped_by = shipped_by.replace(hour=rng.randint(8, 17), minute=rng.randrange(60), second=rng.randrange(60))
        fulfilled = not o.cancelled and not o.pending and shipped_by.date() <= END and o.day < END - timedelta(days=1)
        if all(not li.product.ships for li in o.lines):
            fulfilled = not o.cancelled
            shipped_by = o.created + timedelta(minutes=1)
        fulfillment = "fulfilled" if fulfilled else "unfulfilled"
        cancelled_at = shopify_time(o.created + timedelta(hours=rng.randint(1, 20))) if o.cancelled else ""
        tags = []
        if o.sub:
            tags = ["Subscription", "Subscription First Order" if o.sub_first else "Subscription Recurring Order"]
        if o.creator:
            tags = ["creator seeding"]
        if o.test:
            tags = ["test"]
        if c.type == "champion" and len(c.orders) > 10 and not o.sub:
            tags.append("VIP")
        source = "subscription_contract" if o.sub and not o.sub_first else ("shopify_draft_order" if o.creator else "web")
        billing_name = "Test Test" if c.email.startswith("test@") else (c.name if not c.email.startswith("noor+") else "Noor Test")
        if rng.random() < 0.04:
            billing_name = billing_name.upper() if rng.random() < 0.5 else billing_name.lower()
        ship_name = billing_name
        if o.note.startswith("Happy birthday Mom") or o.note.startswith("Gift"):
            ship_name = rng.choice(["Linda " + c.last, "Maggie " + c.last, "Sam Porter", "Grace Kim"])
        street = c.street + (", " + c.address2 if c.address2 else "")
        country = "US" if c.country == "US" else "CA"
        email = o.email_cell if o.email_cell is not None else c.email
        for i, li in enumerate(o.lines):
            line_status = "fulfilled" if fulfilled else ("restocked" if o.cancelled else "pending")
            row = dict.fromkeys(SHOPIFY_HEADER, "")
            row.update({
                "Name": o.name, "Created at": shopify_time(o.created),
                "Lineitem quantity": str(li.qty), "Lineitem name": li.product.line_name,
                "Lineitem price": money(li.price), "Lineitem compare at price": money(li.compare_at) if li.compare_at else "",
                "Lineitem sku": li.product.sku, "Lineitem requires shipping": str(li.product.ships).lower(),
                "Lineitem taxable": str(li.product.taxable).lower(), "Lineitem fulfillment status": line_status,
                "Vendor": "Fernleaf Skin", "Lineitem discount": money(li.discount),
            })
            if i == 0:
                row.update({
                    "Email": email, "Financial Status": financial, "Paid at": paid_at,
                    "Fulfillment Status": fulfillment, "Fulfilled at": shopify_time(shipped_by) if fulfilled else "",
                    "Accepts Marketing": "yes" if c.accepts_marketing else "no", "Currency": c.currency,
                    "Subtotal": money(o.subtotal), "Shipping": money(o.shipping), "Taxes": money(o.taxes),
                    "Total": money(o.total), "Discount Code": o.code, "Discount Amount": money(o.discount),
                    "Shipping Method": o.shipping_method,
                    "Billing Name": billing_name, "Billing Street": street, "Billing Address1": c.street,
                    "Billing Address2": c.address2, "Billing City": c.city, "Billing Zip": "'" + c.zip,
                    "Billing Province": c.state, "Billing Country": country, "Billing Phone": c.phone,
                    "Shipping Name": ship_name, "Shipping Street": street, "Shipping Address1": c.street,
                    "Shipping Address2": c.address2, "Shipping City": c.city, "Shipping Zip": "'" + c.zip,
                    "Shipping Province": c.state, "Shipping Country": country, "Shipping Phone": c.phone,
                    "Notes": o.note, "Note Attributes": o.note_attributes, "Cancelled at": cancelled_at,
                    "Payment Method": o.payment_method, "Payment Reference": ref if o.payment_method else "",
                    "Refunded Amount": money(o.refund_amount if (o.refund or o.cancelled and o.refund) else 0.0),
                    "Outstanding Balance": "0.00", "Id": str(o.id), "Tags": ", ".join(tags), "Risk Level": o.risk,
                    "Source": source, "Tax 1 Name": o.tax_name if o.taxes else "",
                    "Tax 1 Value": money(o.taxes) if o.taxes else "", "Phone": c.phone,
                    "Billing Province Name": st[1], "Shipping Province Name": st[1],
                    "Payment ID": ref if o.payment_method else "", "Payment References": ref if o.payment_method else "",
                })
            w.writerow([row[h] for h in SHOPIFY_HEADER])
            rows += 1
    path.write_text(buf.getvalue(), encoding="utf-8")
    return rows


# --------------------------------------------------------------------------------------------------
# Text helpers: decks that use every hand-written answer before repeating one, and light, human
# variation (case, punctuation, typos) when an answer has to be used again.
# --------------------------------------------------------------------------------------------------

TYPOS = [("the ", "teh "), ("really", "realy"), ("definitely", "definately"), ("because", "bc"), (" you ", " u "),
         ("moisturiser", "moisturizer"), ("moisturizer", "moisturiser"), ("though", "tho"), ("recommend", "reccomend"),
         ("received", "recieved"), ("with ", "w/ "), ("and ", "& "), ("skin", "skin"), ("I'm", "Im"),
         ("don't", "dont"), ("it's", "its"), ("sensitive", "sensative"), ("serum", "seurm")]


def vary(text: str, rng: Random, force: bool = False) -> str:
    if not force and rng.random() > 0.12:
        return text
    ops = rng.sample(range(6), k=rng.choice([1, 1, 2]))
    for op in ops:
        if op == 0:
            text = text.lower()
        elif op == 1:
            text = text.rstrip(".!")
        elif op == 2:
            options = [(a, b) for a, b in TYPOS if a in text]
            if options:
                a, b = rng.choice(options)
                text = text.replace(a, b, 1)
        elif op == 3:
            text = text.rstrip(".") + rng.choice(["!", "!!", " :)", "...", "!", " lol"])
        elif op == 4 and text:
            text = text[0].upper() + text[1:]
        elif op == 5 and len(text) > 20 and not text.lower().startswith(("honestly", "ngl", "tbh")):
            text = rng.choice(["honestly ", "Honestly, ", "ngl ", "tbh "]) + text[0].lower() + text[1:]
    return text


class Deck:
    """Draws entries from a list in shuffled order; entries seen before come back varied."""

    def __init__(self, items: list[str], rng: Random) -> None:
        self.items = list(items)
        self.rng = rng
        self.order: list[str] = []
        self.rounds = 0

    def draw(self) -> str:
        if not self.order:
            self.order = list(self.items)
            self.rng.shuffle(self.order)
            self.rounds += 1
        text = self.order.pop()
        return vary(text, self.rng, force=self.rounds > 1)


def weighted(rng: Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


# --------------------------------------------------------------------------------------------------
# Typeform survey CSVs
# --------------------------------------------------------------------------------------------------

TYPEFORM_HEADER = ["#", "How did you hear about us?", "What made you buy today?", "What almost stopped you from buying?",
                   "How likely are you to recommend us to a friend?", "Anything else you'd like to tell us?",
                   "email", "order_id", "Start Date (UTC)", "Submit Date (UTC)", "Network ID", "Tags"]
NEGATIVE_THEMES = {"price", "shipping_time", "shipping_cost", "packaging", "discount_code", "irritation", "shipping",
                   "packaging_leak", "subscription_cancel", "sensitive_skin", "trust", "checkout"}


@dataclass
class Response:
    token: str
    heard: str
    why: str
    stopped: str
    nps: int
    other: str
    email: str
    order_id: str
    start: datetime  # UTC
    submit: datetime  # UTC
    network: str
    tags: str
    order: Order
    themes: tuple[str, str, str]


def build_survey(world: World, src: Source) -> list[Response]:
    rng = rng_for("survey")
    decks = {q: {theme: Deck(items, rng) for theme, items in getattr(src, q).items()}
             for q in ("why_buy", "almost_stopped", "anything_else")}
    networks: dict[str, str] = {}
    responses: list[Response] = []
    used_tokens: set[str] = set()

    def new_token() -> str:
        while True:
            t = token(rng, 32, "abcdefghijklmnopqrstuvwxyz0123456789")
            if t not in used_tokens:
                used_tokens.add(t)
                return t

    def respond(o: Order, persona_answer: dict | None) -> Response:
        c = o.customer
        group = c.group
        start = to_utc(o.created) + timedelta(seconds=rng.randint(25, 600))
        if rng.random() < 0.18:  # some answered from the follow-up email days later
            start = to_utc(o.created) + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 10))
        submit = start + timedelta(seconds=rng.randint(35, 420))
        # the channel that brought the customer in
        heard = c.channel
        if heard == "Other":
            heard = rng.choice(HEARD_OTHER)
        if persona_answer:
            why, stopped, other = persona_answer["why"], persona_answer["stopped"], persona_answer["else"]
            nps, heard = persona_answer["nps"], persona_answer["heard"]
            themes = ("persona", "persona", "persona")
        else:
            t_why = weighted(rng, SURVEY_WEIGHTS["why_buy"][group])
            if o.sub and group in ("champ", "mid") and rng.random() < 0.45:
                t_why = "subscription"
            if t_why == "discovery":
                t_why = {"TikTok": "discovery_social", "Instagram": "discovery_social", "Friend or family": "discovery_friend",
                         "Dermatologist": "discovery_derm"}.get(c.channel, rng.choice(["first_try", "ingredients"]))
            t_stop = weighted(rng, SURVEY_WEIGHTS["almost_stopped"][group])
            t_else = weighted(rng, SURVEY_WEIGHTS["anything_else"][group])
            why = "" if rng.random() < 0.04 else decks["why_buy"][t_why].draw()
            stopped = "" if rng.random() < 0.07 else decks["almost_stopped"][t_stop].draw()
            other = "" if rng.random() < ELSE_EMPTY[group] else decks["anything_else"][t_else].draw()
            if o.code and t_why == "price_sale" and rng.random() < 0.3:
                why = f"{why} ({o.code})"
            themes = (t_why, t_stop, t_else if other else "")
            base = {"champ": [0, 0, 0, 1, 2, 4, 10, 30, 53], "mid": [0, 1, 1, 2, 4, 10, 20, 30, 32],
                    "new": [1, 1, 2, 3, 6, 12, 20, 28, 27], "winback": [3, 3, 6, 10, 16, 20, 20, 12, 10],
                    "lapsed": [5, 5, 10, 10, 20, 20, 15, 10, 5]}[group]
            nps = rng.choices(range(2, 11), weights=base)[0]
            bad = sum(1 for t in (t_stop, t_else) if t in NEGATIVE_THEMES)
            nps = max(0, nps - bad * rng.randint(0, 2))
        email_cell = o.email_cell.strip() if o.email_cell else c.email
        r = rng.random()
        if r < 0.07:
            email_cell = ""
        elif r < 0.1:
            email_cell = email_cell.capitalize()
        order_cell = str(o.number) if rng.random() < 0.7 else o.name
        if not email_cell or rng.random() > 0.95:
            order_cell = order_cell if email_cell == "" else ""
        if not networks.get(c.email):
            networks[c.email] = token(rng, 10, "0123456789abcdef")
        tags = ""
        if rng.random() < 0.04:
            tags = rng.choice(["follow-up", "vip", "interview-candidate", "follow-up, refund"])
        return Response(new_token(), heard, why, stopped, nps, other, email_cell, order_cell, start, submit,
                        networks[c.email], tags, o, themes)

    persona_orders: dict[tuple[str, date], dict] = {}
    for p in src.personas:
        for s in p.get("survey", []):
            persona_orders[(p["email"], date.fromisoformat(s["order"]))] = s
    lo, hi = SURVEY_OCT[0], SURVEY_NOV[1]
    for o in world.orders:
        c = o.customer
        if not (lo <= o.day <= hi) or o.test or o.cancelled or o.creator or c.email.endswith("fernleafskin.com"):
            continue
        key = (c.email, o.day)
        if key in persona_orders:
            responses.append(respond(o, persona_orders[key]))
        elif not c.persona and rng.random() < RESPONSE_RATE[c.group]:
            responses.append(respond(o, None))
    return responses


def write_typeform(responses: list[Response], window: tuple[date, date], path: Path, bom: bool) -> int:
    rows = [r for r in responses if window[0] <= r.submit.date() <= window[1]]
    rows.sort(key=lambda r: r.submit, reverse=True)  # Typeform lists newest first
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(TYPEFORM_HEADER)
    for r in rows:
        w.writerow([r.token, r.heard, r.why, r.stopped, str(r.nps), r.other, r.email, r.order_id,
                    r.start.strftime("%Y-%m-%d %H:%M:%S"), r.submit.strftime("%Y-%m-%d %H:%M:%S"), r.network, r.tags])
    path.write_text(("\ufeff" if bom else "") + buf.getvalue(), encoding="utf-8")
    return len(rows)


# --------------------------------------------------------------------------------------------------
# Reviews: saved HTML product pages and a Judge.me CSV export
# --------------------------------------------------------------------------------------------------

PAGES = [
    ("niacinamide-serum", "jsonld"),
    ("vitamin-c-brightening-serum", "jsonld_graph"),
    ("cloud-moisturiser", "judgeme"),
    ("daily-gel-cleanser", "judgeme"),
    ("sheer-daily-spf-50", "judgeme_unrendered"),
    ("oat-milk-cleansing-balm", "judgeme"),
    ("rich-barrier-cream", "microdata"),
    ("the-routine-set", "jsonld_microdata"),
    ("green-clay-mask", "yotpo"),
    ("about-us", "none"),
]
CSV_ONLY = ["caffeine-eye-gel", "hyaluronic-dew-serum", "discovery-kit", "refills"]
SAVED_ON = datetime(2026, 11, 21, 9, 12, 44)
SHOP_REPLIES = [
    "Hi {first}, we're so sorry to hear this. Please email help@fernleafskin.com so we can make it right. – Jordan, Fernleaf",
    "Thank you so much for the kind words, {first}! Reviews like this make our week. 🌿",
    "Hi {first}, thanks for the honest feedback. We changed our pump supplier in May and the new pumps should not leak — please reach out if yours does.",
    "Sorry about the delay, {first}. Our warehouse move in August caused late deliveries; it's all back to normal now.",
    "Hi {first}, sorry your skin didn't get along with it. We've sent you an email about a refund.",
    "Thanks {first}! We're working on a fragrance-free version — stay tuned.",
]


@dataclass
class Review:
    rating: int
    title: str
    body: str
    theme: str
    handle: str
    author: str
    when: datetime
    verified: bool
    review_id: int
    reply: str = ""
    reply_when: datetime | None = None
    email: str = ""
    customer: Customer | None = None
    pictures: str = ""


def display_name(rng: Random, first: str, last: str) -> str:
    style = rng.choices(range(8), weights=[58, 10, 14, 3, 5, 4, 3, 3])[0]
    return [f"{first} {last[0]}.", first, f"{first} {last}", f"{first[0]}. {last}", "Anonymous", first.lower()[:4],
            f"{first} {last[0]}", f"{first} {last}".upper()][style]


def review_time(rng: Random, theme: str, earliest: date) -> datetime:
    earliest = max(earliest, date(2024, 12, 5))
    if theme == "shipping_delay" and rng.random() < 0.7:
        lo, hi = WAREHOUSE_MOVE[0] + timedelta(days=6), WAREHOUSE_MOVE[1] + timedelta(days=20)
    elif theme in ("packaging_leak", "packaging") and rng.random() < 0.6:
        a, b = rng.choice(LEAKY_PUMPS)
        lo, hi = a + timedelta(days=5), b + timedelta(days=20)
    else:
        lo, hi = earliest, END
    lo = max(lo, earliest)
    day = lo + timedelta(days=rng.randrange(max(1, (hi - lo).days + 1)))
    return pick_time(rng, min(day, END))


def build_reviews(world: World, src: Source) -> tuple[dict[str, list[Review]], list[Review]]:
    rng = rng_for("reviews")
    names = src.people["names"]
    cultures = list(names)
    rid = 412_000_000

    def anon_name() -> str:
        cult = rng.choice(cultures)
        return display_name(rng, rng.choice(names[cult]["first"]), rng.choice(names[cult]["last"]))

    def launch(handle: str) -> date:
        skus = [p.sku for p in src.products.values() if p.handle == handle]
        return min((LAUNCHED.get(s, START) for s in skus), default=START)

    general = list(src.reviews["general"])
    rng.shuffle(general)
    pages: dict[str, list[Review]] = {}
    held: list[dict] = []
    for handle, kind in PAGES:
        if kind == "none":
            pages[handle] = []
            continue
        items = list(src.reviews[handle])
        rng.shuffle(items)
        held.append(items.pop())
        items += [general.pop() for _ in range(2)]
        out = []
        for it in items:
            rid += rng.randint(3, 9000)
            when = review_time(rng, it["theme"], launch(handle) + timedelta(days=12))
            rv = Review(it["rating"], it["title"], it["body"], it["theme"], handle, anon_name(), when,
                        rng.random() < 0.86, rid)
            if (rv.rating <= 3 and rng.random() < 0.45) or (rv.rating == 5 and rng.random() < 0.08):
                rv.reply = pick_reply(rng, rv)
                rv.reply_when = rv.when + timedelta(hours=rng.randint(5, 70))
            out.append(rv)
        out.sort(key=lambda r: r.when, reverse=True)
        pages[handle] = out

    # The Judge.me export: reviews from verified customers, with their emails.
    pool: list[dict] = held + general
    for h in CSV_ONLY:
        pool += src.reviews[h]
    rng.shuffle(pool)
    exported: list[Review] = []
    used: set[str] = set()
    for p in src.personas:
        c = world.by_email[p["email"]]
        for pr in p.get("review", []):
            rid += rng.randint(3, 9000)
            when = datetime.combine(date.fromisoformat(pr["date"]), time(rng.randint(7, 22), rng.randrange(60), rng.randrange(60)))
            rv = Review(pr["rating"], pr["title"], pr["body"], "persona", pr["product"], f"{c.first} {c.last}", when, True, rid,
                        email=c.email, customer=c)
            exported.append(rv)
            used.add(c.email)
    lapsed_types = {"at_risk", "cant_lose", "hibernating", "lost", "about_to_sleep"}
    happy_types = {"champion", "loyal", "potential"}
    for it in pool:
        handle = it["handle"]
        if handle == "refills":
            handle = "daily-gel-cleanser-refill" if "pouch" in it["body"].lower() else "cloud-moisturiser-refill"
        skus = {p.sku for p in src.products.values() if p.handle == handle}
        if handle == "general":
            skus = set()
        if it["rating"] <= 2:
            want = lapsed_types if rng.random() < 0.8 else set(CUSTOMER_TYPES)
        elif it["rating"] >= 4:
            want = happy_types if rng.random() < 0.7 else set(CUSTOMER_TYPES)
        else:
            want = set(CUSTOMER_TYPES)
        candidates = []
        for c in world.customers:
            if c.type not in want or c.persona or c.email in used or c.email.endswith("fernleafskin.com"):
                continue
            for o in world.real_orders(c):
                if o.day + timedelta(days=8) > END:
                    continue
                if skus and not any(li.product.sku in skus for li in o.lines):
                    continue
                if it["theme"] == "shipping_delay" and not o.late:
                    continue
                candidates.append((c, o))
        if not candidates:
            continue
        c, o = rng.choice(candidates)
        if not skus:
            handle = rng.choice([li.product.handle for li in o.lines if li.product.category != "gift"] or ["daily-gel-cleanser"])
        used.add(c.email)
        rid += rng.randint(3, 9000)
        day = min(END, o.day + timedelta(days=rng.randint(8, 40)))
        rv = Review(it["rating"], it["title"], it["body"], it["theme"], handle,
                    rng.choice([f"{c.first} {c.last}", f"{c.first} {c.last}", c.first, f"{c.first} {c.last[0]}."]),
                    pick_time(rng, day), True, rid, email=c.email, customer=c)
        exported.append(rv)
    for rv in exported:
        if (rv.rating <= 3 and rng.random() < 0.45) or (rv.rating == 5 and rng.random() < 0.06):
            rv.reply = pick_reply(rng, rv)
            rv.reply_when = rv.when + timedelta(hours=rng.randint(5, 70))
        if rng.random() < 0.1:
            rv.pictures = ",".join(f"https://judgeme.imgix.net/fernleaf-skin/{rv.review_id}_{i}.jpg"
                                   for i in range(rng.randint(1, 2)))
    exported.sort(key=lambda r: r.when)
    return pages, exported


def pick_reply(rng: Random, rv: Review) -> str:
    first = rv.author.split()[0].rstrip(".") if rv.author and rv.author != "Anonymous" else "there"
    if rv.rating >= 4:
        text = SHOP_REPLIES[1]
    elif rv.theme == "packaging_leak" or "pump" in rv.body.lower():
        text = SHOP_REPLIES[2]
    elif rv.theme == "shipping_delay":
        text = SHOP_REPLIES[3]
    elif rv.theme in ("irritation",):
        text = SHOP_REPLIES[4]
    elif "fragrance" in rv.body.lower() or "scent" in rv.body.lower():
        text = SHOP_REPLIES[5]
    else:
        text = SHOP_REPLIES[0]
    return text.replace("{first}", first.capitalize() if first.islower() else first)


JUDGEME_HEADER = ["title", "body", "rating", "review_date", "source", "curated", "reviewer_name", "reviewer_email",
                  "product_id", "product_handle", "reply", "reply_date", "picture_urls", "ip_address", "location"]


def write_judgeme_csv(reviews: list[Review], src: Source, path: Path) -> int:
    rng = rng_for("judgeme-csv")
    pid = {p.handle: p.product_id for p in src.products.values()}
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(JUDGEME_HEADER)
    for rv in reviews:
        email = rv.email
        if rng.random() < 0.05:
            email = email.upper()
        ip = rng.choice(["192.0.2.", "198.51.100.", "203.0.113."]) + str(rng.randint(1, 254))
        location = ""
        if rv.customer and rng.random() < 0.5:
            location = rng.choice([f"{rv.customer.city}, {rv.customer.state}, United States", "United States", "US"])
        w.writerow([rv.title, rv.body, str(rv.rating), rv.when.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    rng.choices(["email", "web"], weights=[7, 3])[0],
                    "not-yet" if rv.when.date() > END - timedelta(days=5) else "ok",
                    rv.author, email, str(pid.get(rv.handle, "")), rv.handle, rv.reply,
                    rv.reply_when.strftime("%Y-%m-%d %H:%M:%S UTC") if rv.reply_when else "", rv.pictures, ip, location])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return len(reviews)


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def paras(text: str) -> str:
    return "".join(f"<p>{esc(p)}</p>" for p in text.split("\n") if p.strip())


def ld_json(obj: object, cls: str = "") -> str:
    body = json.dumps(obj, ensure_ascii=False, indent=2).replace("</", "<\\/")
    extra = f' class="{cls}"' if cls else ""
    return f'<script type="application/ld+json"{extra}>\n{body}\n</script>'


def avg(reviews: list[Review]) -> float:
    return round(sum(r.rating for r in reviews) / len(reviews), 2) if reviews else 0.0


def ld_review(r: Review, string_author: bool = False, numeric: bool = False) -> dict:
    rating: object = r.rating if numeric else str(r.rating)
    return {
        "@type": "Review",
        "author": r.author if string_author else {"@type": "Person", "name": r.author},
        "datePublished": r.when.date().isoformat(),
        "name": r.title,
        "reviewBody": r.body,
        "reviewRating": {"@type": "Rating", "ratingValue": rating, "bestRating": "5", "worstRating": "1"},
    }


def ld_product(p: Product, copy: dict, reviews: list[Review], with_reviews: bool, rng: Random) -> dict:
    url = f"https://fernleafskin.com/products/{p.handle}"
    obj: dict = {
        "@context": "https://schema.org/",
        "@type": "Product",
        "@id": url + "#product",
        "name": p.title,
        "url": url,
        "image": [f"https://fernleafskin.com/cdn/shop/files/{p.handle}-1.jpg?v=1718000000&width=1920"],
        "description": copy["description"],
        "sku": p.sku,
        "brand": {"@type": "Brand", "name": "Fernleaf Skin"},
        "offers": {"@type": "Offer", "url": url, "priceCurrency": "USD", "price": money(p.price),
                   "availability": "https://schema.org/InStock", "itemCondition": "https://schema.org/NewCondition"},
    }
    if reviews:
        obj["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": f"{avg(reviews):.1f}",
                                  "reviewCount": str(len(reviews)), "bestRating": "5", "worstRating": "1"}
    if with_reviews:
        obj["review"] = [ld_review(r, string_author=rng.random() < 0.1, numeric=rng.random() < 0.3) for r in reviews]
    return obj


def page_shell(title: str, path: str, head_extra: str, main: str, page_type: str, resource_id: int,
               files: str, product_meta: str = "") -> str:
    url = f"https://fernleafskin.com{path}"
    nav = "".join(f'<li><a href="https://fernleafskin.com{h}" class="header__menu-item list-menu__item link link--text focus-inset">'
                  f'<span>{esc(t)}</span></a></li>\n'
                  for t, h in [("Shop all", "/collections/all"), ("Cleansers", "/collections/cleansers"),
                               ("Serums", "/collections/serums"), ("Moisturisers", "/collections/moisturisers"),
                               ("SPF", "/products/sheer-daily-spf-50"), ("Refills", "/collections/refills"),
                               ("Subscribe & save", "/pages/subscribe"), ("About", "/pages/about-us"), ("Journal", "/blogs/journal")])
    return f"""<!DOCTYPE html>
<!-- saved from url=({len(url):04d}){url} -->
<html class="js" lang="en" style="--header-height: 88px;"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
    <meta http-equiv="X-UA-Compatible" content="IE=edge">
    <meta name="viewport" content="width=device-width,initial-scale=1">
    <meta name="theme-color" content="#3f5b45">
    <link rel="canonical" href="{url}">
    <link rel="preconnect" href="https://cdn.shopify.com/" crossorigin="">
    <link rel="icon" type="image/png" href="./{files}/fernleaf-favicon_32x32.png">
    <title>{esc(title)}</title>
    <meta name="description" content="Simple, effective skincare with short ingredient lists. Cleansers, serums, moisturisers and SPF, refillable.">
    <meta property="og:site_name" content="Fernleaf Skin">
    <meta property="og:url" content="{url}">
    <meta property="og:title" content="{esc(title)}">
    <meta property="og:type" content="{'product' if page_type == 'product' else 'website'}">
    <meta name="twitter:card" content="summary_large_image">
    <script src="./{files}/constants.js" defer="defer"></script>
    <script src="./{files}/pubsub.js" defer="defer"></script>
    <script src="./{files}/global.js" defer="defer"></script>
    <script>window.performance && window.performance.mark && window.performance.mark('shopify.content_for_header.start');</script>
    <meta id="shopify-digital-wallet" name="shopify-digital-wallet" content="/61234567890/digital_wallets/dialog">
    <script id="shopify-features" type="application/json">{{"accessToken":"d6f1c2a0b9e84f4c8a3e3b1f2c7d9e10","betas":["rich-media-storefront-analytics"],"domain":"fernleafskin.com","predictiveSearch":true,"shopId":61234567890,"locale":"en"}}</script>
    <script>var Shopify = Shopify || {{}};
Shopify.shop = "fernleaf-skin.myshopify.com";
Shopify.locale = "en";
Shopify.currency = {{"active":"USD","rate":"1.0"}};
Shopify.country = "US";
Shopify.theme = {{"name":"Dawn (Fernleaf)","id":141234567890,"schema_name":"Dawn","schema_version":"13.0.1","theme_store_id":887,"role":"main"}};
Shopify.routes = Shopify.routes || {{}};
Shopify.routes.root = "/";</script>
    <script>window.ShopifyAnalytics = window.ShopifyAnalytics || {{}};
window.ShopifyAnalytics.meta = window.ShopifyAnalytics.meta || {{}};
window.ShopifyAnalytics.meta.currency = 'USD';
var meta = {{{product_meta}"page":{{"pageType":"{page_type}","resourceType":"{page_type}","resourceId":{resource_id}}}}};
for (var attr in meta) {{ window.ShopifyAnalytics.meta[attr] = meta[attr]; }}</script>
    <script>window.performance && window.performance.mark && window.performance.mark('shopify.content_for_header.end');</script>
    <link href="./{files}/base.css" rel="stylesheet" type="text/css" media="all">
    <link href="./{files}/component-card.css" rel="stylesheet" type="text/css" media="all">
    <style>
      :root {{ --font-body-family: "Assistant", sans-serif; --color-base-text: 30, 41, 33; --color-base-accent-1: 63, 91, 69; }}
      .jdgm-star {{ color: #3f5b45; }} .visually-hidden {{ position: absolute !important; overflow: hidden; width: 1px; height: 1px; }}
    </style>
{head_extra}
  </head>
  <body class="gradient">
    <a class="skip-to-content-link button visually-hidden" href="#MainContent">Skip to content</a>
    <div id="shopify-section-announcement-bar" class="shopify-section"><div class="announcement-bar" role="region" aria-label="Announcement">
      <p class="announcement-bar__message h5"><span>Free US shipping on orders over $50 &middot; Black Friday starts Nov 27</span></p>
    </div></div>
    <div id="shopify-section-header" class="shopify-section section-header"><sticky-header class="header-wrapper color-background-1 gradient">
      <header class="header header--middle-left header--mobile-center page-width header--has-menu">
        <a href="https://fernleafskin.com/" class="header__heading-link link link--text focus-inset"><span class="h2">Fernleaf Skin</span></a>
        <nav class="header__inline-menu"><ul class="list-menu list-menu--inline" role="list">
{nav}        </ul></nav>
        <div class="header__icons">
          <details-modal class="header__search"><summary class="header__icon header__icon--search" aria-haspopup="dialog" aria-label="Search"><span class="svg-wrapper">&#9906;</span></summary></details-modal>
          <a href="https://fernleafskin.com/account/login" class="header__icon header__icon--account link focus-inset"><span class="visually-hidden">Log in</span></a>
          <a href="https://fernleafskin.com/cart" class="header__icon header__icon--cart link focus-inset" id="cart-icon-bubble"><span class="visually-hidden">Cart</span><div class="cart-count-bubble"><span aria-hidden="true">2</span><span class="visually-hidden">2 items</span></div></a>
        </div>
      </header>
    </sticky-header></div>
    <main id="MainContent" class="content-for-layout focus-none" role="main" tabindex="-1">
{main}
    </main>
    <div id="shopify-section-footer" class="shopify-section"><footer class="footer color-background-1 gradient section-footer-padding">
      <div class="footer__content-top page-width">
        <div class="footer-block grid__item"><h2 class="footer-block__heading inline-richtext">Good skin, fewer steps</h2>
          <div class="footer-block__details-content rte"><p>Made in small batches in Minneapolis. Vegan, cruelty-free, refillable.</p></div></div>
        <div class="footer-block grid__item"><h2 class="footer-block__heading">Help</h2><ul class="footer-block__details-content list-unstyled">
          <li><a href="https://fernleafskin.com/pages/shipping" class="link link--text list-menu__item--link">Shipping</a></li>
          <li><a href="https://fernleafskin.com/pages/returns" class="link link--text list-menu__item--link">Returns &amp; refunds</a></li>
          <li><a href="https://fernleafskin.com/pages/faq" class="link link--text list-menu__item--link">FAQ</a></li>
          <li><a href="mailto:help@fernleafskin.com" class="link link--text list-menu__item--link">help@fernleafskin.com</a></li></ul></div>
        <div class="footer-block--newsletter"><h2 class="footer-block__heading">10% off your first order</h2>
          <form method="post" action="https://fernleafskin.com/contact#ContactFooter" id="ContactFooter" accept-charset="UTF-8" class="footer__newsletter newsletter-form"><input type="hidden" name="form_type" value="customer"><input type="hidden" name="utf8" value="&#10003;"><input type="hidden" name="contact[tags]" value="newsletter">
            <div class="newsletter-form__field-wrapper"><div class="field"><input id="NewsletterForm--footer" type="email" name="contact[email]" class="field__input" value="" aria-required="true" autocorrect="off" autocapitalize="off" autocomplete="email" placeholder="Email" required=""><label class="field__label" for="NewsletterForm--footer">Email</label>
            <button type="submit" class="newsletter-form__button field__button" name="commit" id="Subscribe" aria-label="Subscribe">&rarr;</button></div></div></form></div>
      </div>
      <div class="footer__content-bottom"><div class="footer__copyright caption"><small class="copyright__content">&copy; 2026, <a href="https://fernleafskin.com/" title="">Fernleaf Skin</a></small><small class="copyright__content"><a target="_blank" rel="nofollow" href="https://www.shopify.com/?utm_campaign=poweredby&amp;utm_medium=shopify&amp;utm_source=onlinestore">Powered by Shopify</a></small></div>
        <ul class="list list-payment" role="list"><li class="list-payment__item">Visa</li><li class="list-payment__item">Mastercard</li><li class="list-payment__item">American Express</li><li class="list-payment__item">PayPal</li><li class="list-payment__item">Shop Pay</li></ul></div>
    </footer></div>
    <script>
      window.shopUrl = 'https://fernleafskin.com';
      window.routes = {{ cart_add_url: '/cart/add', cart_change_url: '/cart/change', cart_update_url: '/cart/update', cart_url: '/cart', predictive_search_url: '/search/suggest' }};
      window.cartStrings = {{ error: `There was an error while updating your cart. Please try again.`, quantityError: `You can only add [quantity] of this item to your cart.` }};
    </script>
    <script src="./{files}/cart-drawer.js" defer="defer"></script>
    <div id="shopify-block-AQ2hpb29wNnh3b1Z3c__inbox" class="shopify-block shopify-app-block"><div id="ShopifyChat" data-shop-id="61234567890" data-color="#3f5b45" data-position="bottom_right" data-greeting-message="Hi! Questions about your skin or an order? We're here 9-5 CT." data-button-text="Chat with us"></div></div>


</body></html>
"""


def product_main(p: Product, copy: dict, badge: str, widget: str, related: list[Product], rng: Random,
                 attrs: str = "", inner_prefix: str = "") -> str:
    variants = "".join(f'<option value="{44_000_000_000 + i}"{" selected" if i == 0 else ""}>{esc(v)}</option>'
                       for i, v in enumerate([p.variant] + (["50ml / Fragrance-free"] if p.handle == "cloud-moisturiser" else [])))
    cards = "".join(f"""
          <li class="grid__item"><div class="card-wrapper product-card-wrapper"><div class="card card--standard">
            <div class="card__inner"><img src="./files/{r.handle}-1_360x.jpg" alt="{esc(r.title)}" width="360" height="360" loading="lazy"></div>
            <div class="card__content"><h3 class="card__heading h5"><a href="https://fernleafskin.com/products/{r.handle}" class="full-unstyled-link">{esc(r.title)}</a></h3>
              <div style="{'display:block;' if rng.random() < 0.8 else 'display:none;'}" class="jdgm-widget jdgm-preview-badge" data-id="{r.product_id}" data-template="product"><div class="jdgm-prev-badge" data-average-rating="{rng.choice(['4.52', '4.61', '4.38', '4.70', '4.44'])}" data-number-of-reviews="{rng.randint(18, 140)}" data-number-of-questions="0"><span class="jdgm-prev-badge__stars" data-score="{rng.choice(['4.52', '4.61', '4.38'])}" tabindex="0" aria-label="4.5 stars" role="button"></span><span class="jdgm-prev-badge__text">{rng.randint(18, 140)} reviews</span></div></div>
              <div class="price"><span class="price-item price-item--regular">${money(r.price)} USD</span></div></div></div></div></li>""" for r in related)
    return f"""      <section id="shopify-section-template--main-product" class="shopify-section section"><section class="page-width section-template--main-product-padding">
        <nav class="breadcrumbs" aria-label="breadcrumbs"><a href="https://fernleafskin.com/">Home</a> / <a href="https://fernleafskin.com/collections/all">Shop all</a> / <span>{esc(p.title)}</span></nav>
        <div class="product product--large product--left grid grid--1-col grid--2-col-tablet"{attrs}>{inner_prefix}
          <div class="grid__item product__media-wrapper"><media-gallery class="product__media-list">
            <img src="./files/{p.handle}-1_1100x.jpg" srcset="./files/{p.handle}-1_550x.jpg 550w, ./files/{p.handle}-1_1100x.jpg 1100w" alt="{esc(p.title)} {esc(p.variant)}" width="1100" height="1100">
            <img src="./files/{p.handle}-2_1100x.jpg" alt="{esc(p.title)} texture swatch" width="1100" height="1100" loading="lazy">
          </media-gallery></div>
          <div class="product__info-wrapper grid__item"><div id="ProductInfo-template--main-product" class="product__info-container">
            <p class="product__text inline-richtext caption-with-letter-spacing">Fernleaf Skin</p>
            <div class="product__title"><h1>{esc(p.title)}</h1></div>
            {badge}
            <p class="product__text inline-richtext">{esc(copy['tagline'])}</p>
            <div class="no-js-hidden" id="price-template--main-product" role="status"><div class="price price--large"><span class="price-item price-item--regular">${money(p.price)} USD</span></div></div>
            <form method="post" action="https://fernleafskin.com/cart/add" id="product-form-template--main-product" accept-charset="UTF-8" class="form" enctype="multipart/form-data" novalidate="novalidate" data-type="add-to-cart-form">
              <input type="hidden" name="form_type" value="product"><input type="hidden" name="utf8" value="&#10003;">
              <div class="product-form__input product-form__input--dropdown"><label class="form__label" for="Option-1">Size</label><div class="select"><select id="Option-1" class="select__select" name="id">{variants}</select></div></div>
              <fieldset class="selling-plans"><legend>Purchase options</legend>
                <label><input type="radio" name="purchase" value="onetime"> One-time purchase &mdash; ${money(p.price)}</label>
                <label><input type="radio" name="purchase" value="subscribe" checked=""> Subscribe &amp; save 15% &mdash; ${money(round(p.price * 0.85, 2))}</label></fieldset>
              <div class="product-form__buttons"><button id="ProductSubmitButton-template--main-product" type="submit" name="add" class="product-form__submit button button--full-width button--secondary"><span>Add to cart</span></button></div>
            </form>
            <div class="product__description rte quick-add-hidden"><p>{esc(copy['description'])}</p></div>
            <div class="product__accordion accordion quick-add-hidden"><details id="Details-how"><summary><h2 class="h4 accordion__title inline-richtext">How to use</h2></summary>
              <div class="accordion__content rte"><p>{esc(copy['how_to_use'])}</p></div></details></div>
            <div class="product__accordion accordion quick-add-hidden"><details id="Details-ingredients"><summary><h2 class="h4 accordion__title inline-richtext">Ingredients</h2></summary>
              <div class="accordion__content rte"><p>{esc(copy['ingredients'])}</p><p>Vegan. Cruelty-free (Leaping Bunny). Made in the USA.</p></div></details></div>
            <div class="product__accordion accordion quick-add-hidden"><details id="Details-shipping"><summary><h2 class="h4 accordion__title inline-richtext">Shipping &amp; returns</h2></summary>
              <div class="accordion__content rte"><p>Free US shipping over $50. Ships in 1-2 business days. Not for you? Return within 30 days, even if opened.</p></div></details></div>
          </div></div>
        </div>
      </section></section>
{widget}
      <section id="shopify-section-template--related" class="shopify-section section"><div class="related-products page-width">
        <h2 class="related-products__heading inline-richtext h2">You may also like</h2>
        <ul class="grid product-grid grid--4-col-desktop grid--2-col-tablet-down" role="list">{cards}
        </ul></div></section>"""


def stars(n: int, on: str, off: str) -> str:
    return "".join(f'<span class="{on}"></span>' for _ in range(n)) + "".join(f'<span class="{off}"></span>' for _ in range(5 - n))


def judgeme_widget(p: Product, reviews: list[Review], rendered: bool) -> str:
    hist = "".join(f'<div class="jdgm-histogram__row" data-rating="{k}" data-frequency="{sum(1 for r in reviews if r.rating == k)}" data-percentage="{round(100 * sum(1 for r in reviews if r.rating == k) / len(reviews))}"><div class="jdgm-histogram__star" role="button" aria-label="{round(100 * sum(1 for r in reviews if r.rating == k) / len(reviews))}% ({sum(1 for r in reviews if r.rating == k)}) reviews with {k} star rating" tabindex="0">{stars(k, "jdgm-star jdgm--on", "jdgm-star jdgm--off")}</div><div class="jdgm-histogram__frequency">({sum(1 for r in reviews if r.rating == k)})</div></div>' for k in (5, 4, 3, 2, 1))
    blocks = []
    for r in reviews:
        ts = r.when.strftime("%Y-%m-%d %H:%M:%S UTC")
        shown = r.when.strftime("%m/%d/%Y") if rendered else ""
        spinner = "" if rendered else " jdgm-spinner"
        reply = ""
        if r.reply:
            reply = f"""
              <div class="jdgm-rev__reply"><div class="jdgm-rev__replier-wrapper"><span class="jdgm-rev__replier" data-fixed-replier-name="Fernleaf Skin">Fernleaf Skin</span> replied:</div><div class="jdgm-rev__reply-content"><p>{esc(r.reply)}</p></div></div>"""
        initial = esc(r.author[:1].upper())
        blocks.append(f"""
            <div class="jdgm-rev jdgm-divider-top{' jdgm--done-setup' if rendered else ''}" data-verified-buyer="{str(r.verified).lower()}" data-review-id="{r.review_id}-{p.handle[:3]}a1" data-product-title="{esc(p.title)}" data-product-url="/products/{p.handle}" data-thumb-up-count="0" data-thumb-down-count="0">
              <div class="jdgm-rev__header"><div class="jdgm-rev__icon{' jdgm--loading' if not rendered else ''}">{initial}</div>
                <span class="jdgm-rev__rating" data-score="{r.rating}" tabindex="0" aria-label="{r.rating} star review" role="img">{stars(r.rating, "jdgm-star jdgm--on", "jdgm-star jdgm--off")}</span>
                <span class="jdgm-rev__timestamp{spinner}" data-content="{ts}">{shown}</span>
                <div class="jdgm-rev__br"></div>
                <span class="jdgm-rev__buyer-badge-wrapper">{'<span class="jdgm-rev__buyer-badge"></span>' if r.verified else ''}</span>
                <span class="jdgm-rev__author-wrapper"><span class="jdgm-rev__author">{esc(r.author)}</span></span>
              </div>
              <div class="jdgm-rev__content"><div class="jdgm-rev__custom-form"></div>
                <b class="jdgm-rev__title">{esc(r.title)}</b>
                <div class="jdgm-rev__body">{paras(r.body)}</div>
                <div class="jdgm-rev__pics"></div><div class="jdgm-rev__vids"></div>
              </div>
              <div class="jdgm-rev__actions"><div class="jdgm-rev__social"></div><div class="jdgm-rev__votes"><span class="jdgm-rev__votes-label">Was this review helpful?</span><span class="jdgm-rev_thumb-up" tabindex="0" aria-label="Thumb up" role="button"></span><span class="jdgm-rev__thumb-count">0</span><span class="jdgm-rev_thumb-down" tabindex="0" aria-label="Thumb down" role="button"></span><span class="jdgm-rev__thumb-count">0</span></div></div>{reply}
            </div>""")
    a = avg(reviews)
    return f"""      <div id="shopify-section-template--judgeme" class="shopify-section"><div class="page-width">
        <div style="clear:both"></div>
        <div id="judgeme_product_reviews" class="jdgm-widget jdgm-review-widget jdgm--done-setup-widget" data-product-title="{esc(p.title)}" data-id="{p.product_id}" data-auto-install="false">
          <div class="jdgm-rev-widg" data-updated-at="2026-11-20T22:41:07Z" data-average-rating="{a:.2f}" data-number-of-reviews="{len(reviews)}" data-number-of-questions="0">
            <style class="jdgm-css">.jdgm-rev-widg__title{{visibility:hidden}}.jdgm-rev-widg__summary-text{{visibility:hidden}}.jdgm-prev-badge__text{{visibility:hidden}}</style>
            <div class="jdgm-rev-widg__header"><h2 class="jdgm-rev-widg__title">Customer Reviews</h2>
              <div class="jdgm-rev-widg__summary"><div class="jdgm-rev-widg__summary-stars" aria-label="Average rating is {a:.2f} stars" role="img">{stars(round(a), "jdgm-star jdgm--on", "jdgm-star jdgm--off")}</div>
                <div class="jdgm-rev-widg__summary-text">Based on {len(reviews)} reviews</div></div>
              <div class="jdgm-histogram jdgm-temp-hidden">{hist}</div>
              <div class="jdgm-rev-widg__sort-wrapper"><select class="jdgm-sort-dropdown" aria-label="Sort dropdown"><option value="most-recent" selected>Most Recent</option><option value="highest-rating">Highest Rating</option><option value="lowest-rating">Lowest Rating</option><option value="with-pictures">Only Pictures</option><option value="most-helpful">Most Helpful</option></select></div>
              <div class="jdgm-write-rev-link">Write a review</div>
              <div class="jdgm-form-wrapper" style="display: none"><div class="jdgm-form"><div class="jdgm-form__title">Write a review</div>
                <div class="jdgm-form__fieldset"><label for="jdgm-review-title">Review Title</label><input id="jdgm-review-title" type="text" name="review_title" placeholder="Give your review a title"></div>
                <div class="jdgm-form__fieldset"><label for="jdgm-review-body">Review content</label><textarea id="jdgm-review-body" name="review_body" placeholder="Start writing here..."></textarea></div>
                <div class="jdgm-form__fieldset"><label>Rating</label><div class="jdgm-form__rating" data-score="0"></div></div></div></div>
            </div>
            <div class="jdgm-rev-widg__body"><div class="jdgm-rev-widg__reviews">{''.join(blocks)}
            </div><div class="jdgm-paginate" data-per-page="{len(reviews)}" data-url="https://judge.me/reviews/reviews_for_widget"><a class="jdgm-paginate__page jdgm-curt" data-page="1" tabindex="0">1</a><a class="jdgm-paginate__page" data-page="2" tabindex="0">2</a><a class="jdgm-paginate__next-page" data-page="2" tabindex="0" aria-label="Page 2"></a></div></div>
          </div>
        </div>
      </div></div>"""


def yotpo_widget(p: Product, reviews: list[Review]) -> str:
    blocks = []
    for r in reviews:
        blocks.append(f"""
          <div class="yotpo-review yotpo-regular-box{' yotpo-regular-box-filters-padding' if r is reviews[0] else ''}" data-review-id="{r.review_id}">
            <div class="yotpo-header{' yotpo-verified-buyer' if r.verified else ''}">
              <div class="yotpo-header-element"><div class="yotpo-icon-profile yotpo-header-element pull-left"><span class="yotpo-user-letter">{esc(r.author[:1].upper())}</span><span class="yotpo-icon yotpo-icon-circle-checkmark yotpo-action-hover" data-type="toggleFade" data-target="yotpo-tool-tip"></span></div></div>
              <div class="yotpo-header-element">
                <span class="y-label yotpo-user-name yotpo-font-bold pull-left" aria-level="3" role="heading">{esc(r.author)}</span>
                {'<div class="label-with-tooltip pull-left"><span class="y-label yotpo-user-title yotpo-action-hover" data-type="toggleFade" data-target="yotpo-tool-tip">Verified Buyer</span></div>' if r.verified else ''}
                <div class="yotpo-clr"></div>
                <div class="yotpo-review-stars">{stars(r.rating, "yotpo-icon yotpo-icon-star rating-star pull-left", "yotpo-icon yotpo-icon-empty-star rating-star pull-left")}<span class="sr-only">{r.rating}.0 star rating</span></div>
              </div>
              <div class="yotpo-header-element yotpo-header-actions"><span class="y-label yotpo-review-date">{r.when.strftime('%m/%d/%y')}</span></div>
            </div>
            <div class="yotpo-main">
              <div class="content-title yotpo-font-bold">{esc(r.title)}</div>
              <div class="yotpo-clr"></div>
              <div class="yotpo-review-wrapper"><div class="content-review" dir="auto">{esc(r.body).replace(chr(10), '<br>')}</div></div>
            </div>
            <div class="yotpo-footer"><div class="footer-actions"><span class="y-label">Was this review helpful?</span><span class="yotpo-icon yotpo-icon-thumbs-up"></span><span class="y-label yotpo-sum vote-sum" data-type="up">0</span><span class="yotpo-icon yotpo-icon-thumbs-down"></span><span class="y-label yotpo-sum vote-sum" data-type="down">0</span></div></div>
          </div>""")
    a = avg(reviews)
    return f"""      <div id="shopify-section-template--yotpo" class="shopify-section"><div class="page-width">
      <div class="yotpo yotpo-main-widget" data-product-id="{p.product_id}" data-price="{money(p.price)}" data-currency="USD" data-name="{esc(p.title)}" data-url="https://fernleafskin.com/products/{p.handle}" data-image-url="//fernleafskin.com/cdn/shop/files/{p.handle}-1.jpg" data-yotpo-element-id="1">
        <div class="yotpo-display-wrapper" style="visibility: visible;">
          <div class="yotpo-label yotpo-small-box"><span class="yotpo-logo-title">Reviews</span></div>
          <div class="yotpo-bottomline yotpo-bottomline-2-boxes yotpo-bottomline-empty-state">
            <div class="yotpo-bottomline-box-1 yotpo-stars-and-sum-reviews"><span class="yotpo-stars">{stars(round(a), "yotpo-icon yotpo-icon-star", "yotpo-icon yotpo-icon-empty-star")}<span class="sr-only">{a:.1f} star rating</span></span><span class="yotpo-sum-reviews"><span class="font-color-gray based-on">{len(reviews)} Reviews</span></span></div>
            <div class="yotpo-bottomline-box-2"><span class="yotpo-default-button write-review-button" role="button">Write A Review</span></div>
          </div>
          <div class="yotpo-nav-content"><div class="yotpo-reviews yotpo-active" data-host-widget="main_widget" data-page="1">{''.join(blocks)}
          </div>
          <div class="yotpo-pager" data-total="{len(reviews)}" data-per-page="{len(reviews)}"><a class="yotpo-page-element yotpo-active" href="javascript:void(0);">1</a></div></div>
        </div>
      </div>
      </div></div>"""


def microdata_reviews(reviews: list[Review], time_tag: bool) -> str:
    out = []
    for r in reviews:
        when = (f'<time itemprop="datePublished" datetime="{r.when.date().isoformat()}">{r.when.strftime("%B")} {r.when.day}, {r.when.year}</time>'
                if time_tag else
                f'<meta itemprop="datePublished" content="{r.when.date().isoformat()}"><span class="review__date">{r.when.strftime("%d %b %Y")}</span>')
        out.append(f"""
            <article class="review-card" itemprop="review" itemscope itemtype="https://schema.org/Review" id="review-{r.review_id}">
              <div class="review-card__rating" itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
                <meta itemprop="worstRating" content="1"><meta itemprop="bestRating" content="5">
                <span class="stars" aria-hidden="true">{'&#9733;' * r.rating}{'&#9734;' * (5 - r.rating)}</span><span class="visually-hidden"><span itemprop="ratingValue">{r.rating}</span> out of 5 stars</span>
              </div>
              <h3 class="review-card__title" itemprop="name">{esc(r.title)}</h3>
              <p class="review-card__meta"><span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">{esc(r.author)}</span></span>{' &middot; <span class="badge">Verified buyer</span>' if r.verified else ''} &middot; {when}</p>
              <div class="review-card__body" itemprop="reviewBody">{paras(r.body)}</div>
            </article>""")
    return "".join(out)


def write_review_pages(pages: dict[str, list[Review]], src: Source, outdir: Path) -> dict[str, tuple[int, str]]:
    rng = rng_for("review-pages")
    copy_all = tomllib.loads((SRC / "product_pages.toml").read_text(encoding="utf-8"))
    by_handle = {}
    for p in src.products.values():
        by_handle.setdefault(p.handle, p)
    summary = {}
    for handle, kind in PAGES:
        reviews = pages[handle]
        if kind == "none":
            html_text = about_page()
            name = "about-us.html"
            (outdir / name).write_text(html_text, encoding="utf-8")
            summary[name] = (0, "none (brand About page)")
            continue
        p = by_handle[handle]
        copy = copy_all[handle]
        files = f"{p.title} – Fernleaf Skin_files"
        related = [by_handle[h] for h in ("daily-gel-cleanser", "niacinamide-serum", "cloud-moisturiser", "sheer-daily-spf-50",
                                           "rich-barrier-cream") if h != handle][:4]
        meta = (f'"product":{{"id":{p.product_id},"gid":"gid://shopify/Product/{p.product_id}","vendor":"Fernleaf Skin",'
                f'"type":"{copy["type"]}","variants":[{{"id":{p.product_id * 7 % 10**14},"price":{int(p.price * 100)},'
                f'"name":"{p.title} - {p.variant}","public_title":"{p.variant}","sku":"{p.sku}"}}]}},')
        a = avg(reviews)
        badge = (f'<div class="jdgm-widget jdgm-preview-badge jdgm--done-setup" data-id="{p.product_id}" data-template="product">'
                 f'<div style="display:none" class="jdgm-prev-badge" data-average-rating="{a:.2f}" data-number-of-reviews="{len(reviews)}" data-number-of-questions="0">'
                 f'<span class="jdgm-prev-badge__stars" data-score="{a:.2f}" tabindex="0" aria-label="{a:.2f} stars" role="button">{stars(round(a), "jdgm-star jdgm--on", "jdgm-star jdgm--off")}</span>'
                 f'<span class="jdgm-prev-badge__text"> {len(reviews)} reviews</span></div></div>')
        org = ld_json({"@context": "https://schema.org", "@type": "Organization", "name": "Fernleaf Skin",
                       "url": "https://fernleafskin.com", "logo": "https://fernleafskin.com/cdn/shop/files/fernleaf-logo.png",
                       "sameAs": ["https://www.instagram.com/fernleafskin", "https://www.tiktok.com/@fernleafskin"]})
        crumbs = ld_json({"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Home", "item": "https://fernleafskin.com/"},
            {"@type": "ListItem", "position": 2, "name": p.title, "item": f"https://fernleafskin.com/products/{handle}"}]})
        head = "    " + org + "\n"
        widget = ""
        attrs = ""
        prefix = ""
        if kind == "jsonld":
            head += ld_json(ld_product(p, copy, reviews, True, rng)) + "\n" + crumbs
            widget = simple_review_list(reviews)
        elif kind == "jsonld_graph":
            graph = ld_product(p, copy, reviews, True, rng)
            graph.pop("@context")
            head += ld_json({"@context": "https://schema.org", "@graph": [
                {"@type": "WebSite", "@id": "https://fernleafskin.com/#website", "name": "Fernleaf Skin", "url": "https://fernleafskin.com/"},
                {"@type": "WebPage", "@id": f"https://fernleafskin.com/products/{handle}#webpage", "name": f"{p.title} – Fernleaf Skin"},
                graph,
                {"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Home", "item": "https://fernleafskin.com/"}]},
            ]})
            widget = simple_review_list(reviews)
        elif kind.startswith("judgeme"):
            # Judge.me puts only the rating summary in JSON-LD; the reviews are in the widget markup.
            head += ld_json(ld_product(p, copy, reviews, False, rng), cls="jdgm-script") + "\n" + crumbs
            widget = judgeme_widget(p, reviews, rendered=kind == "judgeme")
        elif kind == "yotpo":
            head += crumbs
            widget = yotpo_widget(p, reviews)
        elif kind == "microdata":
            attrs = ' itemscope itemtype="https://schema.org/Product"'
            prefix = (f'\n          <meta itemprop="name" content="{esc(p.title)}"><meta itemprop="sku" content="{p.sku}">'
                      f'<div itemprop="brand" itemscope itemtype="https://schema.org/Brand"><meta itemprop="name" content="Fernleaf Skin"></div>'
                      f'<div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating"><meta itemprop="ratingValue" content="{a:.1f}"><meta itemprop="reviewCount" content="{len(reviews)}"></div>'
                      f'<div itemprop="offers" itemscope itemtype="https://schema.org/Offer"><meta itemprop="price" content="{money(p.price)}"><meta itemprop="priceCurrency" content="USD"><link itemprop="availability" href="https://schema.org/InStock"></div>'
                      f'\n          <section class="product-reviews" id="reviews"><h2>Reviews ({len(reviews)})</h2>{microdata_reviews(reviews, time_tag=False)}\n          </section>')
            head += crumbs
        elif kind == "jsonld_microdata":
            head += ld_json(ld_product(p, copy, reviews, True, Random(0))) + "\n" + crumbs
            widget = (f'      <section class="shopify-section section product-reviews page-width" id="reviews" itemscope itemtype="https://schema.org/Product">'
                      f'<meta itemprop="name" content="{esc(p.title)}"><h2>What customers say</h2>'
                      f'{microdata_reviews(reviews, time_tag=True)}\n      </section>')
        main = product_main(p, copy, badge, widget, related, rng, attrs, prefix)
        html_text = page_shell(f"{p.title} – Fernleaf Skin", f"/products/{handle}", head, main, "product", p.product_id, files, meta)
        name = f"{handle}.html"
        (outdir / name).write_text(html_text, encoding="utf-8")
        summary[name] = (len(reviews), {"jsonld": "JSON-LD Product.review", "jsonld_graph": "JSON-LD @graph Product.review",
                                        "judgeme": "Judge.me widget (rendered)", "judgeme_unrendered": "Judge.me widget (timestamps not rendered)",
                                        "microdata": "schema.org microdata", "jsonld_microdata": "JSON-LD + microdata (same reviews)",
                                        "yotpo": "Yotpo widget"}[kind])
    return summary


def simple_review_list(reviews: list[Review]) -> str:
    """The visible list a theme renders from its own review app on JSON-LD pages (no microdata)."""
    items = "".join(f"""
          <li class="fl-review" data-rating="{r.rating}"><div class="fl-review__stars" aria-label="{r.rating} out of 5">{'&#9733;' * r.rating}{'&#9734;' * (5 - r.rating)}</div>
            <p class="fl-review__title"><strong>{esc(r.title)}</strong></p><div class="fl-review__body">{paras(r.body)}</div>
            <p class="fl-review__by">{esc(r.author)} &middot; {r.when.strftime('%b')} {r.when.day}, {r.when.year}</p></li>""" for r in reviews)
    return f"""      <section class="shopify-section section fl-reviews page-width" id="reviews"><h2>Reviews</h2>
        <ul class="fl-review-list">{items}
        </ul></section>"""


def about_page() -> str:
    main = """      <section class="shopify-section section page-width"><div class="main-page-title page-title h0">About us</div>
        <div class="rte">
          <h2>Good skin, fewer steps</h2>
          <p>Fernleaf started in 2022 at a kitchen table in Minneapolis. Noor Haddad had spent ten years as a pharmacy
          technician answering the same question from customers &mdash; &ldquo;what can I use that won't make my skin worse?&rdquo; &mdash;
          and had reactive skin herself. Her friend Elliot Brandt made soap for the Mill City farmers market.</p>
          <p>We make a short routine: one cleanser, a few serums that each do one thing well, a moisturiser you can refill, and a
          sunscreen people actually want to wear. Every ingredient list is short and printed in full, with percentages for the
          ingredients that matter.</p>
          <h3>What we believe</h3>
          <ul><li>Vegan and Leaping Bunny certified cruelty-free.</li><li>Fragrance-free options for everything we can.</li>
          <li>Refills before new bottles.</li><li>Real people answer your emails (help@fernleafskin.com, 9-5 CT).</li></ul>
          <h3>Where we are</h3><p>Our small team works from a studio in Northeast Minneapolis; orders ship from our warehouse in Eagan, MN.</p>
        </div></section>"""
    head = "    " + ld_json({"@context": "https://schema.org", "@type": "Organization", "name": "Fernleaf Skin",
                             "url": "https://fernleafskin.com", "foundingDate": "2022", "founder": [
                                 {"@type": "Person", "name": "Noor Haddad"}, {"@type": "Person", "name": "Elliot Brandt"}],
                             "address": {"@type": "PostalAddress", "addressLocality": "Minneapolis", "addressRegion": "MN",
                                         "addressCountry": "US"}})
    return page_shell("About us – Fernleaf Skin", "/pages/about-us", head, main, "page", 98_765_432_101,
                      "About us – Fernleaf Skin_files")


# --------------------------------------------------------------------------------------------------
# Zendesk tickets
# --------------------------------------------------------------------------------------------------

SIGNOFFS = ["\n\nThanks,\n{first}", "\n\n{first}", "\n\nThank you!\n{first} {last}", "\n\nCheers\n{first}",
            "\n\n--\n{initial}", "\n\nBest,\n{first} {last}\n{phone}", "\n\nThanks\n\n{first} {last}\n{email}",
            "\n\nRegards,\n{first}", "\n\nxx {first}", "\n\n-- \n{first} {last} | {city}"]
DEVICE_FOOTERS = ["\n\nSent from my iPhone", "\n\nSent from my iPhone", "\n\nSent from my Galaxy",
                  "\n\nGet Outlook for iOS", "\n\nSent from Yahoo Mail for iPhone", "\n\nSent from my iPad"]
AUTO_REPLIES = [
    "Thank you for your email. I am out of the office until {date} with limited access to email. For anything urgent please call the front desk on {phone}.\n\nThis is an automated reply.",
    "Hi! I'm currently on vacation and will respond when I'm back on {date}. Thanks for your patience!",
    "Automatic reply: I am away from my desk until {date}. Your message has not been forwarded.",
]
PRIVATE_NOTES = {
    "where_is_my_order": ["Opened carrier trace, ref {ref}.", "Warehouse says it left Eagan on {date}. Carrier backlog.",
                          "Reshipped as draft order, express. Old parcel marked lost."],
    "damaged_leaking": ["Pump batch {ref}, logged in the QA sheet.", "Sent replacement + sample of the balm.",
                        "3rd leaking pump report this week. Flagged to ops."],
    "reaction": ["Refunded in Shopify. Added to the reactions log ({ref}).", "Sent full INCI + batch number to customer."],
    "surprise_charge": ["Recharge showed subscription still active even though customer asked to cancel. Bug ticket {ref}.",
                        "Refunded in Shopify and cancelled the contract in Recharge."],
    "cancel_subscription": ["Cancelled in Recharge. Reason: {reason}.", "Customer could not find the cancel button — same portal bug as last week."],
    "refund_return": ["Return received at warehouse, refund issued.", "Label sent via Shippo."],
    "discount_code": ["Code was limited to one use per customer; customer had not used it. Refunded the difference.",
                      "Mobile checkout code field bug again ({ref})."],
}


@dataclass
class TicketBuild:
    topic: str
    customer: Customer | None
    order: Order | None
    created: datetime  # store-local
    subject: str
    messages: list[str]  # customer messages, in order
    status: str
    via: str
    agent: tuple[str, str]
    persona: bool = False
    extra_tags: list[str] = field(default_factory=list)


def build_tickets(world: World, src: Source) -> dict:
    rng = rng_for("tickets")
    agents = [tuple(a) for a in src.brand["support"]["agents"]]
    builds: list[TicketBuild] = []

    def status_for(created: datetime) -> str:
        age = (END - created.date()).days
        if age > 12:
            return rng.choices(["closed", "solved"], weights=[85, 15])[0]
        if age > 3:
            return rng.choices(["solved", "pending", "open"], weights=[50, 30, 20])[0]
        return rng.choices(["new", "open", "pending"], weights=[30, 40, 30])[0]

    # Persona tickets, written out in personas.toml.
    for p in src.personas:
        c = world.by_email[p["email"]]
        for t in p.get("ticket", []):
            day = date.fromisoformat(t["order"])
            o = min(c.orders, key=lambda o: (abs((o.day - day).days), o.day))  # repeat orders move a few days
            created = o.created + timedelta(days=t["days_after"])
            created = created.replace(hour=rng.randint(8, 22), minute=rng.randrange(60))
            agent = next((a for a in agents if any(a[0].split()[0] in m for m in t["messages"])), rng.choice(agents))
            topic = src.topics[t["topic"]]
            builds.append(TicketBuild(t["topic"], c, o, created, fill(rng.choice(topic["subjects"]), {"order": o.name}),
                                      list(t["messages"]), t["status"], t.get("via", "email"), agent, persona=True))

    # Generated tickets.
    used: set[tuple[str, str]] = set()
    for topic_name, topic in src.topics.items():
        if topic_name == "other":
            continue
        n = topic["count"] - sum(1 for b in builds if b.topic == topic_name)
        openers = Deck(src.ticket_text[topic_name]["opener"], rng)
        lo, hi = topic["days_after_order"]
        made = 0
        attempts = 0
        while made < n and attempts < n * 40:
            attempts += 1
            who = rng.choices(topic["who"], weights=[4, 3, 2, 1][: len(topic["who"])])[0]
            types = WHO[who]
            c = rng.choice([c for c in world.customers if c.type in types])
            if c.persona or c.email.endswith("fernleafskin.com") or (c.email, topic_name) in used:
                continue
            orders = world.real_orders(c)
            if topic_name in ("cancel_subscription", "surprise_charge", "subscription_change"):
                orders = [o for o in orders if o.sub]
            if topic_name in ("damaged_leaking", "reaction", "refund_return", "wrong_item"):
                orders = [o for o in orders if any(li.product.category in ("serum", "moisturiser", "cleanser", "spf", "mask", "eye", "set", "refill")
                                                   for li in o.lines)]
            if not orders:
                continue
            days = rng.randint(lo, hi)
            orders = [o for o in orders if o.day + timedelta(days=days) <= END]
            if not orders:
                continue
            if topic_name == "where_is_my_order":
                preferred = [o for o in orders if WAREHOUSE_MOVE[0] <= o.day <= WAREHOUSE_MOVE[1]]
                o = rng.choice(preferred) if preferred and rng.random() < 0.5 else (orders[-1] if c.group == "lapsed" else rng.choice(orders))
                o.late = True
            elif topic_name == "damaged_leaking":
                preferred = [o for o in orders if in_periods(o.day, LEAKY_PUMPS)]
                o = rng.choice(preferred) if preferred and rng.random() < 0.6 else rng.choice(orders)
            elif c.group == "lapsed" and rng.random() < 0.8:
                o = orders[-1]
            else:
                o = rng.choice(orders)
            if topic_name == "discount_code" and not o.code and rng.random() < 0.5:
                pass  # they could not get the code to work, so the order has none
            created = o.created + timedelta(days=days, hours=rng.randint(0, 10))
            if created.date() > END:
                continue
            created = created.replace(hour=rng.choices(range(24), weights=[1] * 7 + [4] * 12 + [3] * 5)[0], minute=rng.randrange(60))
            used.add((c.email, topic_name))
            opener = openers.draw()
            for _ in range(6):
                if opener_fits(opener, o):
                    break
                openers.order.insert(0, opener)  # put it back for another ticket
                opener = openers.draw()
            msgs = [opener]
            texts = src.ticket_text[topic_name]
            if rng.random() < 0.55 and texts.get("followup"):
                msgs.append(rng.choice(texts["followup"]))
                if rng.random() < 0.4 and texts.get("closer"):
                    msgs.append(rng.choice(texts["closer"]))
            via = rng.choices(["email", "web", "chat"], weights=[62, 26, 12])[0]
            builds.append(TicketBuild(topic_name, c, o, created, "", msgs, status_for(created), via, rng.choice(agents)))
            made += 1

    # Requesters who are not customers.
    other = src.topics["other"]
    for i, text in enumerate(src.ticket_text["other"]["opener"]):
        created = pick_time(rng, END - timedelta(days=rng.randint(3, 500)))
        builds.append(TicketBuild("other", None, None, created, other["subjects"][i], [text], status_for(created),
                                  "email" if i != 0 else "web", rng.choice(agents)))

    builds.sort(key=lambda b: (b.created, b.topic))
    return render_tickets(world, src, builds, rng)


def fill(text: str, ctx: dict[str, str]) -> str:
    for k, v in ctx.items():
        text = text.replace("{" + k + "}", v)
    return text


PRODUCT_WORDS = {"Niacinamide": ["niacinamide"], "Vitamin C": ["vitamin c", "vit c", "vitamin-c"],
                 "Moisturiser": ["moisturiser", "moisturizer", "cloud", "jar"], "Cleanser": ["cleanser", "face wash"],
                 "SPF": ["spf", "sunscreen"], "Balm": ["balm"], "Mask": ["mask"], "Eye": ["eye gel"],
                 "Barrier": ["barrier"], "Hyaluronic": ["hyaluronic"], "Refill": ["refill"], "Set": ["routine set"]}


def product_mentioned(title: str, text: str) -> bool:
    text = text.lower()
    return any(k in title and any(w in text for w in words) for k, words in PRODUCT_WORDS.items())


def opener_fits(text: str, o: Order) -> bool:
    """An opener that names a product only fits an order that has it."""
    titles = [li.product.title for li in o.lines]
    named = [k for k, words in PRODUCT_WORDS.items() if any(w in text.lower() for w in words)]
    return all(any(k in t for t in titles) for k in named)


def pick_macro(rng: Random, macros: list[str], said: str, used: list[str]) -> str:
    """The agent picks the saved reply that fits what the customer just said best (and not one sent already)."""
    words = set(re.findall(r"[a-z]{5,}", said.lower()))
    fresh = [m for m in macros if m not in used] or list(macros)
    scored = sorted(fresh, key=lambda m: -len(words & set(re.findall(r"[a-z]{5,}", m.lower()))))
    choice = rng.choice(scored[:2]) if len(scored) > 1 and rng.random() < 0.3 else scored[0]
    used.append(choice)
    return choice


def order_ref(rng: Random, o: Order) -> str:
    return rng.choices([o.name, str(o.number), f"#{o.number}", f"# {o.number}"], weights=[70, 20, 8, 2])[0]


def text_to_html(text: str) -> str:
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join(f'<p dir="auto">{"<br>".join(esc(ln) for ln in b.splitlines())}</p>' for b in blocks)


def quote_header(rng: Random, when_local: datetime, sender: str) -> str:
    style = rng.randrange(3)
    if style == 0:  # Gmail
        return f"On {when_local.strftime('%a')}, {when_local.strftime('%b')} {when_local.day}, {when_local.year} at {when_local.strftime('%I:%M %p').lstrip('0')} {sender} <help@fernleafskin.com> wrote:"
    if style == 1:  # Gmail (UK locale)
        return f"On {when_local.strftime('%a')}, {when_local.day} {when_local.strftime('%b %Y')} at {when_local.strftime('%H:%M')}, {sender} <help@fernleafskin.com> wrote:"
    return f"On {when_local.strftime('%b')} {when_local.day}, {when_local.year}, at {when_local.strftime('%I:%M %p').lstrip('0')}, {sender} <help@fernleafskin.com> wrote:"  # Apple Mail


def render_tickets(world: World, src: Source, builds: list[TicketBuild], rng: Random) -> dict:
    users: dict[str, dict] = {}
    uid = 381_204_000_000

    def user(name: str, email: str, role: str, created: datetime, phone: str = "") -> int:
        nonlocal uid
        key = email.lower()
        if key not in users:
            uid += rng.randint(1_000, 900_000)
            users[key] = {"id": uid, "url": f"https://fernleafskin.zendesk.com/api/v2/users/{uid}.json", "name": name,
                          "email": email, "role": role, "created_at": iso_z(to_utc(created)), "time_zone": "Central Time (US & Canada)",
                          "locale": "en-US", "phone": phone or None, "verified": role == "agent", "tags": []}
        return users[key]["id"]

    for name, email in src.brand["support"]["agents"]:
        user(name, email, "agent", datetime(2024, 11, 1, 9, 0, 0))
    tickets = []
    tid = 4000
    cid = 21_433_000_000_000
    def render_one(b: TicketBuild, tid: int) -> dict:
        c = b.customer
        topic = src.topics[b.topic]
        texts = src.ticket_text[b.topic]
        if c:
            first, last = c.first, c.last
            req_email = c.email if rng.random() > 0.06 else c.email.capitalize()
            phone = c.phone or f"{rng.choice(['612', '651', '952'])}-555-01{rng.randrange(100):02d}"
            requester = user(f"{first} {last}" if rng.random() > 0.1 else first, req_email, "end-user", b.created, c.phone)
        else:
            m = re.search(r"(?:Thanks, |Best, |Cheers, )(\w+)", b.messages[0])
            first = m.group(1) if m else "there"
            last = ""
            req_email = ["beatriz.f@example.com", "hello@tidyjar.example.org", "marcus.reid.creates@example.net",
                         "lena.writes@example.com", "holly.mcg@example.co.uk", "growth@seo-rocket.example.net"][tid % 6]
            phone = ""
            requester = user(first if first != "there" else req_email.split("@")[0], req_email, "end-user", b.created)
        agent_name, agent_email = b.agent
        agent_id = user(agent_name, agent_email, "agent", b.created)
        agent_first = agent_name.split()[0]
        ctx = {"first": first, "last": last, "agent": agent_first, "city": c.city if c else "",
               "email": c.email if c else req_email, "phone": phone, "initial": first[:1]}
        if b.order:
            o = b.order
            products = [li.product.title for li in o.lines if li.product.category != "gift"] or ["order"]
            preferred = [t for t in products if any(k in t for k in ("Serum", "Moisturiser", "Cream", "Mask", "Gel", "SPF", "Balm"))]
            mentioned = [t for t in products if product_mentioned(t, b.messages[0])]
            ctx.update({"order": order_ref(rng, o), "product": (mentioned or [rng.choice(preferred or products)])[0],
                        "order_date": rng.choice([f"{o.created.strftime('%B')} {o.day.day}", f"{o.created.strftime('%b')} {o.day.day}",
                                                  f"{o.day.month}/{o.day.day}"]),
                        "days": str(max(1, (b.created.date() - o.day).days))})
        subject = b.subject or fill(rng.choice(topic["subjects"]), {"order": ctx.get("order", "")})
        backlog = in_periods(b.created.date(), SUPPORT_BACKLOG)
        comments: list[dict] = []
        t = b.created
        last_agent_text, last_agent_time = "", t
        agent_macros = bool(texts.get("agent"))
        used_macros: list[str] = []
        said = ""
        refunded = False

        def add(author: int, body: str, when: datetime, public: bool = True, html_body: str | None = None) -> None:
            nonlocal cid
            cid += rng.randint(50_000, 4_000_000)
            comments.append({"id": cid, "type": "Comment", "author_id": author, "body": body,
                             "html_body": html_body or f'<div class="zd-comment" dir="auto">{text_to_html(body)}</div>',
                             "public": public, "audit_id": cid + 1,
                             "created_at": iso_z(to_utc(when)), "via": {"channel": b.via if author == requester else "web"}})

        def customer_text(i: int, raw: str) -> tuple[str, str]:
            body = fill(raw, ctx)
            plain_sig = ""
            lines = body.strip().splitlines()
            signed = len(lines) > 1 and len(lines[-1]) < 30
            if b.via != "chat" and not b.persona and i == 0 and not signed and rng.random() < 0.6:
                sig = rng.choice(SIGNOFFS)
                if "{phone}" in sig and not c:
                    sig = "\n\nThanks,\n{first}"
                plain_sig = fill(sig, ctx)
            footer = device if b.via == "email" and not b.persona and rng.random() < 0.8 else ""
            quote = ""
            html_quote = ""
            if b.via == "email" and i > 0 and last_agent_text and rng.random() < 0.7:
                head = quote_header(rng, last_agent_time, rng.choice(["Fernleaf Support", f"{agent_first} (Fernleaf Support)"]))
                zd = "##- Please type your reply above this line -##\n\n" if rng.random() < 0.3 else ""
                quoted = zd + last_agent_text
                quote = "\n\n" + head + "\n" + "\n".join("> " + ln if ln else ">" for ln in quoted.splitlines())
                html_quote = (f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{esc(head)}<br></div>'
                              f'<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
                              f'{text_to_html(quoted)}</blockquote></div>')
            plain = body + plain_sig + footer + quote
            html_body = (f'<div class="zd-comment" dir="auto">{text_to_html(body)}'
                         + (f'<div class="gmail_signature" data-smartmail="gmail_signature">{text_to_html(plain_sig.strip())}</div>' if plain_sig else "")
                         + (f'<div>{esc(footer.strip())}</div>' if footer else "") + html_quote + "</div>")
            return plain, html_body

        def agent_reply(when: datetime) -> datetime:
            nonlocal last_agent_text, last_agent_time, refunded, said
            if not agent_macros:
                return when
            delay = rng.uniform(40, 140) if backlog else rng.uniform(1.5, 30)
            at = business_time(rng, when, delay)
            body = fill(pick_macro(rng, texts["agent"], said, used_macros), ctx)
            add(agent_id, body, at)
            last_agent_text, last_agent_time = body, at
            if "refunded" in body.lower() or "refund to your" in body.lower():
                refunded = True
            return at

        # the conversation
        auto_replied = False
        device = DEVICE_FOOTERS[sum(map(ord, req_email)) % len(DEVICE_FOOTERS)] if sum(map(ord, req_email)) % 4 == 0 else ""
        no_reply_before = re.compile(r"(haven't heard back|nobody has replied|second email|no one has replied|never got a response|I've asked twice)", re.I)
        for i, raw in enumerate(b.messages):
            if i > 0:
                if no_reply_before.search(raw) and i == 1:
                    t = t + timedelta(days=rng.randint(3, 6), hours=rng.randint(0, 8))
                else:
                    t = agent_reply(t)
                    if rng.random() < 0.04 and b.via == "email" and not auto_replied:
                        auto_replied = True
                        auto_at = t + timedelta(seconds=rng.randint(20, 300))
                        ret = (auto_at + timedelta(days=rng.randint(2, 9))).date()
                        add(requester, fill(rng.choice(AUTO_REPLIES), {"date": f"{ret.strftime('%A')} {ret.day} {ret.strftime('%B')}", "phone": ctx["phone"] or "555-0100"}), auto_at)
                    t = t + timedelta(hours=rng.uniform(1, 60))
            said = fill(raw, ctx)
            body, html_body = customer_text(i, raw)
            add(requester, body, t, html_body=html_body)
        status = b.status
        if b.persona:
            status = b.status
        elif status == "new":
            del comments[1:]
        last_said = b.messages[-1].lower()
        wants_answer = len(b.messages) == 1 or "?" in last_said or re.search(
            r"\b(still|refund|replace|reship|never|not|disappointing)\b", last_said)
        if status == "pending" or (status in ("solved", "closed") and wants_answer and not b.persona):
            t = agent_reply(t)
        if comments and rng.random() < 0.25 and b.topic in PRIVATE_NOTES and status != "new":
            note = fill(rng.choice(PRIVATE_NOTES[b.topic]), {"ref": token(rng, 6, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"),
                                                             "date": (b.created - timedelta(days=3)).strftime("%b %d"),
                                                             "reason": rng.choice(["too expensive", "reaction", "moving", "too much product", "shipping delays"])})
            add(agent_id, note, t + timedelta(minutes=rng.randint(1, 30)), public=False)
        if status == "new":
            comments = comments[:1]
        if b.order and refunded and not b.persona:
            if b.topic in ("surprise_charge",) or (b.topic == "where_is_my_order" and "full refund" in last_agent_text):
                world.mark_refund(b.order, "full")
            elif b.topic in ("discount_code", "price_adjustment"):
                world.mark_refund(b.order, "partial", share=rng.choice([0.1, 0.15, 0.2]))
            else:
                world.mark_refund(b.order, "partial")
        if c and b.topic in ("damaged_leaking", "where_is_my_order", "reaction", "wrong_item") and rng.random() < 0.35:
            # a service-recovery code, used on the customer's next order (if there is one)
            later = [o for o in world.real_orders(c) if o.created > b.created and not o.sub and not o.code]
            if later:
                later[0].code = "SORRY20"
                world.price(later[0])
        tags = list(topic["tags"])
        if c and c.type == "champion":
            tags.append("vip")
        if re.search(r"[¿¡ñ]|Hola|Buenos|Bonjour|Merci", b.messages[0]):
            tags.append("non_english")
        if b.order and b.order.sub:
            tags.append("subscriber")
        created_utc = to_utc(b.created)
        updated = max(comments[-1]["created_at"], iso_z(created_utc))
        if status == "closed":
            updated = iso_z(datetime.strptime(updated, "%Y-%m-%dT%H:%M:%SZ") + timedelta(days=4, minutes=rng.randint(0, 59)))
        sat = "unoffered"
        if status in ("closed", "solved"):
            sat = rng.choices(["good", "bad", "offered", "unoffered"], weights=[55, 10 if c is None or c.group != "lapsed" else 30, 10, 25])[0]
        via = {"channel": b.via, "source": {"from": {"address": req_email, "name": f"{first} {last}".strip()} if b.via == "email" else {},
                                              "to": {"name": "Fernleaf Support", "address": "help@fernleafskin.com"} if b.via == "email" else {},
                                              "rel": None}}
        return {
            "url": f"https://fernleafskin.zendesk.com/api/v2/tickets/{tid}.json",
            "id": tid,
            "external_id": None,
            "via": via,
            "created_at": iso_z(created_utc),
            "updated_at": updated,
            "type": topic["type"],
            "subject": subject,
            "raw_subject": subject,
            "description": comments[0]["body"],
            "priority": rng.choice(topic["priority"]),
            "status": status,
            "recipient": "help@fernleafskin.com" if b.via == "email" else None,
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": None if status == "new" else agent_id,
            "organization_id": None,
            "group_id": 360_004_812_331,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": tags,
            "custom_fields": [{"id": 360_017_652_104, "value": b.order.name if b.order and rng.random() < 0.6 else None},
                              {"id": 360_017_652_105, "value": b.topic}],
            "satisfaction_rating": {"score": sat},
            "brand_id": 360_001_902_117,
            "comments": comments,
        }

    for n, b in enumerate(builds):
        tickets.append(render_one(b, tid + 1 + n))
    return {"tickets": tickets, "users": sorted(users.values(), key=lambda u: u["id"]), "count": len(tickets),
            "next_page": None, "previous_page": None}


# --------------------------------------------------------------------------------------------------
# Interview transcripts
# --------------------------------------------------------------------------------------------------


def vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def otter_time(seconds: float) -> str:
    s = int(seconds)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def chunks(text: str, rng: Random, max_words: int) -> list[str]:
    out: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        words = sentence.split()
        while words:
            n = len(words) if len(words) <= max_words else rng.randint(max_words // 2 + 1, max_words)
            out.append(" ".join(words[:n]))
            words = words[n:]
    # glue very short pieces to the one before, as the recognisers do
    merged: list[str] = []
    for piece in out:
        if merged and len(merged[-1].split()) + len(piece.split()) <= max_words and len(piece.split()) < 5:
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    return merged


@dataclass
class Cue:
    speaker: str
    start: float
    end: float
    text: str
    turn: int


def timeline(turns: list[tuple[str, str]], labels: dict[str, str], rng: Random, max_words: int) -> list[Cue]:
    t = rng.uniform(0.8, 3.5)
    cues: list[Cue] = []
    pace = {"I": rng.uniform(1.9, 2.2), "C": rng.uniform(1.7, 1.95)}
    for i, (who, text) in enumerate(turns):
        for piece in chunks(text, rng, max_words):
            dur = max(0.9, len(piece.split()) / pace[who] + rng.uniform(-0.2, 0.4))
            cues.append(Cue(labels[who], t, t + dur, piece, i))
            t += dur + rng.uniform(0.05, 0.6)
        t += rng.uniform(0.8, 3.0)
    return cues


def write_interviews(world: World, src: Source, outdir: Path) -> list[tuple[str, str, int, float]]:
    import docx  # python-docx; imported here so the rest of the script runs without it
    from docx.shared import Pt

    written = []
    for meta, turns in src.interviews:
        rng = rng_for("interview:" + meta["customer_email"])
        c = world.by_email[meta["customer_email"]]
        day = date.fromisoformat(meta["date"])
        assert any(o.day < day for o in c.orders), f"{c.email} has no order before the interview"
        labels = {"I": meta["interviewer_label"], "C": meta["customer_label"]}
        fmt = meta["format"]
        stem = f"{meta['date']}_{meta['customer_email']}"
        if fmt == "zoom_vtt":
            cues = timeline(turns, labels, rng, 14)
            lines = ["WEBVTT", ""]
            for n, cue in enumerate(cues, 1):
                lines += [str(n), f"{vtt_time(cue.start)} --> {vtt_time(cue.end)}", f"{cue.speaker}: {cue.text}", ""]
            name = stem + ".vtt"
            (outdir / name).write_text("\n".join(lines), encoding="utf-8")
        elif fmt == "teams_vtt":
            cues = timeline(turns, labels, rng, 16)
            lines = ["WEBVTT", ""]
            guid = None
            k = 0
            for n, cue in enumerate(cues):
                if n == 0 or cue.turn != cues[n - 1].turn:
                    g = token(rng, 32, "0123456789abcdef")
                    guid = f"{g[:8]}-{g[8:12]}-{g[12:16]}-{g[16:20]}-{g[20:]}"
                    k = 0
                lines += [f"{guid}/{cue.turn * 7 + 12}-{k}", f"{vtt_time(cue.start)} --> {vtt_time(cue.end)}",
                          f"<v {cue.speaker}>{cue.text}</v>", ""]
                k += 1
            name = stem + ".vtt"
            (outdir / name).write_text("\n".join(lines), encoding="utf-8")
        elif fmt == "otter_txt":
            cues = timeline(turns, labels, rng, 40)
            paras_: list[tuple[str, float, list[str]]] = []
            for n, cue in enumerate(cues):
                same_turn = n > 0 and cue.turn == cues[n - 1].turn
                long_para = paras_ and sum(len(x.split()) for x in paras_[-1][2]) > 110
                if same_turn and not long_para:
                    paras_[-1][2].append(cue.text)
                else:
                    paras_.append((cue.speaker, cue.start, [cue.text]))
            out = []
            for speaker, start, texts in paras_:
                out += [f"{speaker}  {otter_time(start)}", " ".join(texts), ""]
            if "Speaker 2" in labels.values():
                out += ["", "Transcribed by https://otter.ai"]
            name = stem + ".txt"
            (outdir / name).write_text("\n".join(out).rstrip("\n") + "\n", encoding="utf-8")
        elif fmt == "docx":
            cues = timeline(turns, labels, rng, 40)
            with_times = meta["customer_email"].startswith("zoe")
            d = docx.Document()
            style = d.styles["Normal"]
            style.font.name = "Calibri"
            style.font.size = Pt(11)
            cp = d.core_properties
            start_dt = datetime.combine(day, time.fromisoformat(meta["start"]))
            cp.author = meta["interviewer"]
            cp.last_modified_by = meta["interviewer"]
            cp.title = f"Customer interview – {c.first} {c.last}"
            cp.created = start_dt
            cp.modified = start_dt + timedelta(hours=2)
            cp.last_printed = start_dt
            cp.revision = 3
            cp.comments = ""
            cp.keywords = "customer research"
            d.add_heading(f"Customer interview – {c.first} {c.last}", level=1)
            d.add_paragraph(f"Date: {day.day} {day.strftime('%B %Y')}")
            d.add_paragraph(f"Interviewer: {meta['interviewer']}")
            d.add_paragraph("Recording: Zoom (audio only), transcript cleaned up by hand" if with_times
                            else "Notes typed during a phone call, lightly edited afterwards")
            d.add_paragraph("")
            for n, cue in enumerate(cues):
                if n and cue.turn == cues[n - 1].turn:
                    d.paragraphs[-1].runs[-1].text += " " + cue.text
                    continue
                p = d.add_paragraph()
                if with_times:
                    p.add_run(f"[{vtt_time(cue.start)[:8]}] ")
                r = p.add_run(cue.speaker)
                r.bold = True
                p.add_run(": " + cue.text)
            buf = io.BytesIO()
            d.save(buf)
            name = stem + ".docx"
            (outdir / name).write_bytes(stable_zip(buf.getvalue(), start_dt))
        else:
            raise ValueError(fmt)
        written.append((name, fmt, len(turns), cues[-1].end))
    return written


def stable_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a zip with fixed entry timestamps so the bytes do not depend on the clock."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(when.year, when.month, when.day, when.hour, when.minute, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, zin.read(info.filename))
    return out.getvalue()


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "sample", help="output folder (default: data/sample)")
    args = ap.parse_args(argv)
    out: Path = args.out
    try:
        import docx  # noqa: F401
    except ImportError:
        print("python-docx is needed for the .docx interviews: run with .venv/bin/python or pip install python-docx",
              file=sys.stderr)
        return 1
    for sub in ("", "interviews", "reviews"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    # remove what an earlier run wrote (and nothing else), so renamed sources leave no stale files
    stale = [out / "orders_shopify.csv", out / "tickets_zendesk.json", *out.glob("survey_typeform_*.csv"),
             *(out / "interviews").glob("*_*@*.*"), *(out / "reviews").glob("*.html"), out / "reviews" / "judgeme_export.csv",
             out / "product_categories.csv"]
    for old in stale:
        old.unlink(missing_ok=True)

    src = load_source()
    world = World(src)
    zendesk = build_tickets(world, src)  # before the orders are written: tickets add refunds and delays
    responses = build_survey(world, src)
    pages, exported = build_reviews(world, src)

    lines = write_orders(world, out / "orders_shopify.csv")
    oct_n = write_typeform(responses, SURVEY_OCT, out / "survey_typeform_2026-10.csv", bom=False)
    nov_n = write_typeform(responses, SURVEY_NOV, out / "survey_typeform_2026-11.csv", bom=True)
    (out / "tickets_zendesk.json").write_text(json.dumps(zendesk, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    page_summary = write_review_pages(pages, src, out / "reviews")
    csv_n = write_judgeme_csv(exported, src, out / "reviews" / "judgeme_export.csv")
    interviews = write_interviews(world, src, out / "interviews")
    categories_n = write_categories(src, out / "product_categories.csv")

    real = [o for o in world.orders if not o.test]
    print(f"customers: {len({o.customer.email for o in real})} ({len(world.customers)} incl. test accounts)")
    print(f"orders: {len(world.orders)} ({sum(o.test for o in world.orders)} test, {sum(o.cancelled for o in world.orders)} cancelled, "
          f"{sum(o.refund == 'full' for o in world.orders)} refunded, {sum(o.refund == 'partial' for o in world.orders)} partially refunded, "
          f"{sum(o.currency == 'CAD' for o in [x.customer for x in world.orders])} CAD); line rows: {lines}")
    overlap = sum(1 for r in responses if SURVEY_NOV[0] <= r.submit.date() <= SURVEY_OCT[1])
    print(f"survey: {oct_n} rows (2026-10) + {nov_n} rows (2026-11), {overlap} in both, {oct_n + nov_n - overlap} distinct")
    for name, (n, kind) in page_summary.items():
        print(f"reviews/{name}: {n} ({kind})")
    print(f"reviews/judgeme_export.csv: {csv_n}")
    print(f"product_categories.csv: {categories_n} SKUs")
    print(f"tickets: {len(zendesk['tickets'])}, comments: {sum(len(t['comments']) for t in zendesk['tickets'])}, users: {len(zendesk['users'])}")
    for name, fmt, turns, seconds in interviews:
        print(f"interviews/{name}: {fmt}, {turns} turns, {seconds / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
