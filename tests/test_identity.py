from insight.identity import (
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
