from insight.core.identity import (
    CustomerResolver,
    identifier,
    normalise_email,
    normalise_order_number,
    parse_customer_ref,
)


def test_normalisers():
    assert normalise_email("  Jo.B@Example.COM ") == "jo.b@example.com"
    assert normalise_email("not an email") is None
    assert normalise_order_number("#1001") == normalise_order_number(" 1001 ") == normalise_order_number("1001.0") == "1001"
    assert normalise_order_number("") is None
    # identifier() takes spreadsheet numbers for every kind: a number is no email (it raised AttributeError)
    assert identifier("email", 12345) is None
    assert identifier("customer_id", 13085.0).value == "13085"


def test_parse_customer_ref():
    assert parse_customer_ref("JO@example.com").key == "email:jo@example.com"
    assert parse_customer_ref("#1001").key == "order:1001"
    assert parse_customer_ref("customer_id:77").key == "customer_id:77"


def test_resolver_links_and_merges(db, clock):
    resolver = CustomerResolver(db, "test", clock)
    a = resolver.resolve([identifier("email", "a@example.com")])
    b = resolver.resolve([identifier("order", "#1001")])
    assert a != b
    # A record carrying both identifiers proves they are one person: the two customers merge.
    merged = resolver.resolve([identifier("email", "A@example.com "), identifier("order", "1001")])
    assert merged == min(a, b)
    assert db.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 1
    assert resolver.merged == 1
    assert resolver.resolve([]) is None


def _state(db):
    customers = db.execute("SELECT id, display_key FROM customers ORDER BY id").fetchall()
    idents = db.execute("SELECT kind, value, customer_id FROM customer_identifiers ORDER BY kind, value").fetchall()
    return customers, idents


def test_resolve_many_gives_what_resolve_gives_one_by_one(db, clock, tmp_path):
    """Bulk creation of new buyers must not change who is who: known identifiers, sets sharing an
    identifier (one person seen with and without a customer id) and empty sets go through `resolve`."""
    from insight.core.db import open_db

    email = lambda v: identifier("email", v)  # noqa: E731
    scoped = lambda v: identifier("customer_id", f"{v}@shopify/default")  # noqa: E731
    sets = [
        (email("a@example.com"),),
        (email("b@example.com"), scoped("7")),
        (),
        (email("known@example.com"),),
        (email("c@example.com"),),
        (email("d@example.com"), scoped("9")),
        (email("e@example.com"), scoped("9")),  # shares customer id 9 with d: one person
        (email("f@example.com"),),
    ]
    other = open_db(tmp_path / "one_by_one.db", clock)
    found = {}
    for database in (db, other):
        resolver = CustomerResolver(database, "orders", clock)
        resolver.resolve([email("known@example.com")])
        if database is db:
            found["many"] = resolver.resolve_many(sets)
            created_many = resolver.created
        else:
            found["one"] = [resolver.resolve(list(s)) for s in sets]
            created_one = resolver.created
    assert found["many"] == found["one"]
    assert found["many"][2] is None and found["many"][5] == found["many"][6]
    assert _state(db) == _state(other)
    assert created_many == created_one == 6  # known, a, b, c, d (e is d), f
