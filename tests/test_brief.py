"""Persona briefs on a small constructed database: numbers, themes with traceable quotes, small segments, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from test_links import Seed

from insight.analysis.brief import build_brief
from insight.analysis.brief_render import render_html, render_markdown, write_briefs
from insight.analysis.links import compute_links
from insight.cli import cli

WHY = "survey: What made you buy today?"
STOPPED = "survey: What almost stopped you from buying?"
MARKUP = '<script>alert("x")</script> & <b>loud</b> [link](http://evil.example)'


def brand(db: sqlite_utils.Database) -> dict[str, int]:
    """25 Champions (12 answered), 25 At Risk (12 answered), 3 Lost (all answered), two snapshots."""
    seed = Seed(db)
    earlier = {f"c{i}@x.com": ("Loyal Customers" if i < 5 else "Champions", "Active", 10, 5, 400.0) for i in range(25)}
    earlier |= {f"r{i}@x.com": ("At Risk", "At Risk", 130, 2, 100.0) for i in range(25)}
    seed.snapshot("2026-10-25", earlier)
    latest = {f"c{i}@x.com": ("Champions", "Active", i, 4 + i % 3, 100.0 * (4 + i % 3)) for i in range(25)}
    latest |= {f"r{i}@x.com": ("At Risk", "At Risk" if i < 20 else "Lapsed", 120 + i, 2, 90.0) for i in range(25)}
    latest |= {f"l{i}@x.com": ("Lost", "Lapsed", 400, 1, 30.0) for i in range(3)}
    seed.snapshot("2026-11-24", latest)
    ids = {
        "ritual": seed.theme(WHY, "part of my routine", phrases=["my daily routine", "ran out"]),
        "tiktok": seed.theme(WHY, "saw it on tiktok"),
        "shipping": seed.theme(STOPPED, "shipping cost", phrases=["shipping was too expensive"]),
        "late": seed.theme("ticket", "late delivery"),
        "leak": seed.theme("review", "pump leaked"),
        "love": seed.theme("review", "love the texture"),
        "thanks": seed.theme("ticket", "thanks for sorting it"),
    }
    why, stopped = WHY.removeprefix("survey: "), STOPPED.removeprefix("survey: ")
    for i in range(12):
        text = MARKUP if i == 0 else f"it is part of my morning routine now, day {i}"
        seed.doc("survey", f"c{i}@x.com", [(text, ids["ritual"] if i < 11 else ids["tiktok"], why)], scope=WHY,
                 attributes=[("How did you hear about us?", "Friend" if i < 9 else "TikTok")])
        seed.doc("review", f"c{i}@x.com", [(f"really love the texture of this cream {i}", ids["love"], None)], rating=5)
    for i in range(12):
        seed.doc("survey", f"r{i}@x.com", [(f"saw it in a tiktok video from a creator {i}",
                                           ids["tiktok"] if i < 10 else ids["ritual"], why)], scope=WHY,
                 attributes=[("How did you hear about us?", "TikTok" if i < 9 else "Friend")])
        seed.doc("survey", f"r{i}@x.com", [(f"the shipping was too expensive for me {i}", ids["shipping"], stopped)],
                 scope=STOPPED)
        follow_up = [("thanks so much for sorting it out", ids["thanks"], None)] if i < 6 else []
        seed.doc("ticket", f"r{i}@x.com", [(f"my order is two weeks late, where is it {i}", ids["late"], None),
                                           *follow_up])
        if i < 4:
            seed.doc("review", f"r{i}@x.com", [(f"the pump leaked all over my bag {i}", ids["leak"], None)], rating=1)
    for i in range(3):
        seed.doc("survey", f"l{i}@x.com", [("saw it on tiktok", ids["tiktok"], why)], scope=WHY)
    seed.doc("review", None, [("anonymous praise for the texture", ids["love"], None)], rating=5)
    seed.commit()
    return ids


def test_full_brief_has_numbers_themes_and_traceable_quotes(db):
    ids = brand(db)
    brief = build_brief(db, "champions")
    assert brief.segment == "Champions" and not brief.small
    n = brief.numbers
    assert (n.customers, n.all_customers) == (25, 53)
    revenue = sum(100.0 * (4 + i % 3) for i in range(25))
    assert n.revenue == pytest.approx(revenue)
    assert n.share_of_revenue == pytest.approx(revenue / (revenue + 25 * 90.0 + 3 * 30.0))
    assert n.median_recency_days == 12 and n.median_frequency == 5 and n.median_order_value == pytest.approx(100.0)
    assert n.lifecycle_mix == {"Active": 25}
    assert (n.previous_customers, n.moved_in, n.newly_scored) == (20, [("Loyal Customers", 5)], 0)
    assert build_brief(db, "Lost").numbers.newly_scored == 3
    assert brief.feedback_customers == 12

    assert brief.says_significant
    top = brief.says[0]
    assert (top.theme_id, top.customers, top.segment_customers) == (ids["ritual"], 11, 12)
    assert top.phrases == ["my daily routine", "ran out"]
    assert 2 <= len(top.quotes) <= 3
    for quote in top.quotes:
        assert quote.source == "survey" and quote.document_id.startswith("survey-")
    assert len({q.document_id for q in top.quotes}) == len(top.quotes)
    assert [t.theme_id for t in brief.why_buy][:1] == [ids["ritual"]]
    assert brief.activation is not None and brief.activation.title == "Early access and advocacy"
    assert any("part of my routine" in a for a in brief.activation.actions)  # $top_motivation filled
    assert any(a.value == "Friend" and a.customers == 9 for a in brief.attributes)
    assert brief.method is not None and brief.method.models == ["fake-model"]

    text = render_markdown(brief)
    assert text.startswith("# Champions: persona brief")
    assert f"survey {top.quotes[0].document_id}" in text
    assert "## How this was computed" in text and "2026-11-24" in text


def test_objections_tickets_and_low_rated_reviews_feed_what_stops_them(db):
    ids = brand(db)
    brief = build_brief(db, "At Risk")
    assert [t.theme_id for t in brief.stops] == [ids["shipping"]]
    complaints = {t.theme_id: t for t in brief.complaints}
    # "thanks" (6 customers) only ever follows up on a ticket: not a complaint
    assert set(complaints) == {ids["late"], ids["leak"]}
    leak = complaints[ids["leak"]]
    assert (leak.customers, leak.segment_customers, leak.lift) == (4, 4, None)
    assert all(q.rating == 1 and q.source == "review" for q in leak.quotes)
    assert brief.activation is not None and brief.activation.title == "Win-back"
    assert any("shipping cost" in a for a in brief.activation.actions)  # $top_objection filled
    assert brief.numbers.lifecycle_mix == {"At Risk": 20, "Lapsed": 5}


def test_small_segment_gets_a_short_brief_without_claims(db):
    brand(db)
    brief = build_brief(db, "Lost")
    assert brief.small and "only 3 customers" in (brief.small_reason or "")
    assert brief.says == [] and brief.why_buy == [] and brief.activation is None
    text = render_markdown(brief)
    assert "Not enough to go on" in text and "saw it on tiktok" not in text
    assert "## Who they are" in text and "## How this was computed" in text
    quiet = build_brief(db, "At Risk", window="2026-12")  # 25 customers, none with feedback in December
    assert quiet.small and "only 0 of its 25 customers left feedback" in (quiet.small_reason or "")


def test_html_escapes_quotes_containing_markup(db):
    brand(db)
    brief = build_brief(db, "Champions")
    quotes = [q.text for t in brief.says for q in t.quotes]
    assert MARKUP in quotes  # the markup quote is one of the chosen quotes
    page = render_html(brief)
    assert "<script" not in page and "<b>loud</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;loud&lt;/b&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and "http-equiv=\"Content-Security-Policy\"" in page
    markdown = render_markdown(brief)
    assert re.search(r"(?<!\\)<", markdown) is None  # every "<" escaped: no tag can open
    assert r"\<script>alert" in markdown
    assert r"\[link\](http://evil.example)" in markdown


def test_write_briefs_one_file_per_segment(db, tmp_path: Path):
    brand(db)
    paths = write_briefs(db, None, "html", tmp_path / "out")
    assert [p.name for p in paths] == ["champions.html", "at-risk.html", "lost.html"]
    assert "data-segment=\"At Risk\"" in paths[1].read_text()
    with pytest.raises(ValueError, match="segments: Champions, At Risk, Lost"):
        write_briefs(db, ["Whales"], "md", tmp_path / "out")


def test_replaced_activation_template(db, tmp_path: Path):
    brand(db)
    (tmp_path / "activation.toml").write_text(
        '[default]\ntitle = "House playbook for $segment"\nactions = ["Call them about $top_objection."]\n'
    )
    brief = build_brief(db, "At Risk", templates=tmp_path)
    assert brief.activation is not None
    assert (brief.activation.title, brief.activation.actions) == (
        "House playbook for At Risk", ["Call them about shipping cost."]
    )
    (tmp_path / "activation.toml").write_text(
        '[default]\ntitle = "Playbook"\nactions = ["Fix $top_objection.", "Lead with $top_motivation."]\n'
    )
    champions = build_brief(db, "Champions", templates=tmp_path)
    assert champions.stops == [] and champions.complaints == []
    assert champions.activation is not None
    assert champions.activation.actions == ["Lead with part of my routine."]  # no objection data: action left out
    (tmp_path / "brief.html").write_text("<html><h1>$title</h1>$body</html>")
    assert render_html(brief, tmp_path).startswith("<html><h1>At Risk: persona brief</h1><h1>")


def test_cli_links_and_brief(db, db_path: Path, tmp_path: Path):
    brand(db)
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db_path), "links", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["snapshot"]["as_of"] == "2026-11-24"
    assert any(r["segment"] == "Champions" and r["theme_label"] == "part of my routine" for r in payload["rows"])
    assert payload["coverage"]["anonymous"] == 1
    result = runner.invoke(cli, ["--db", str(db_path), "brief", "--all", "--out", str(tmp_path / "b"), "--json"])
    assert result.exit_code == 0, result.output
    assert [Path(p).name for p in json.loads(result.output)["files"]] == ["champions.md", "at-risk.md", "lost.md"]
    result = runner.invoke(cli, ["--db", str(db_path), "brief", "--segment", "lost"])
    assert result.exit_code == 0 and result.output.startswith("# Lost: persona brief")
    result = runner.invoke(cli, ["--db", str(db_path), "brief", "--segment", "Whales"])
    assert result.exit_code != 0 and "no segment 'Whales'" in result.output


def test_cli_human_output(db, db_path: Path):
    brand(db)
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db_path), "links"])
    assert result.exit_code == 0, result.output
    assert "Coverage: 74 analysed units" in result.output and "part of my routine" in result.output
    assert "Loyal Customers -> Champions: 5 customers" in result.output
    assert "part of my routine (survey: What made you buy today?): 5 (100% vs n/a)" in result.output  # nobody stayed Loyal
    result = runner.invoke(cli, ["--db", str(db_path), "brief", "--segment", "At Risk", "--format", "html"])
    assert result.exit_code == 0 and result.output.startswith("<!DOCTYPE html>")
    assert runner.invoke(cli, ["--db", str(db_path), "brief"]).exit_code != 0  # neither --segment nor --all


def quiet_lost(db: sqlite_utils.Database) -> dict[str, int]:
    """25 Lost customers (20 with tickets) and 100 Loyal Customers (all with tickets). Only Lost customers
    raised "eyes sting" (2 of them) and "late parcel" (4, and 1 Loyal): big lifts, too few customers."""
    seed = Seed(db)
    scores = {f"l{i}@x.com": ("Lost", "Lapsed", 400, 1, 30.0) for i in range(25)}
    scores |= {f"y{i}@x.com": ("Loyal Customers", "Active", 20, 4, 300.0) for i in range(100)}
    seed.snapshot("2026-11-24", scores)
    ids = {"eyes": seed.theme("ticket", "eyes sting"), "late": seed.theme("ticket", "late parcel"),
           "status": seed.theme("ticket", "order status")}
    for i in range(20):
        theme = "eyes" if i < 2 else "late" if i < 6 else "status"
        seed.doc("ticket", f"l{i}@x.com", [(f"lost customer writes {i}", ids[theme], None)])
    for i in range(100):
        seed.doc("ticket", f"y{i}@x.com", [(f"loyal customer writes {i}", ids["late" if i == 0 else "status"], None)])
    seed.commit()
    return ids


def test_the_summary_says_plainly_when_nothing_is_distinctive(db):
    ids = quiet_lost(db)
    late = next(r for r in compute_links(db).rows if r.segment == "Lost" and r.theme_id == ids["late"])
    assert late.significant and late.customers == 4  # significant, but on fewer than 5 customers
    brief = build_brief(db, "Lost")
    assert not brief.small and not brief.says_significant
    distinctive = brief.summary[0]
    assert distinctive.lead == "Distinctive"
    assert distinctive.text.startswith(
        "Nothing in what Lost customers say differs from other customers with enough support: no theme is raised "
        "by at least 5 of them"
    )
    assert "“eyes sting”, rests on 2 customers" in distinctive.text
    assert [line.lead for line in brief.summary] == ["Distinctive", "They praise", "What annoys them"]
    text = render_markdown(brief)
    lines = text.splitlines()
    assert lines[4].startswith("- **Distinctive:** Nothing in what Lost customers say")  # the brief leads with it
    assert "(over-indexed)" not in text and "over-indexes, " not in text
    assert "## What they say" in text and "No theme over-indexes in this segment" in text
    assert build_brief(db, "Lost", min_support=4).says_significant  # the same data with a lower bar


def sentiment_brand(db: sqlite_utils.Database) -> dict[str, int]:
    """30 Champions and 40 Hibernating reviewers; Champions also write tickets. Review mentions carry sentiment:
    12 Champions praise "gentle on sensitive skin" (one more complains in it), 12 say "love it" (a general theme);
    8 Champions complain about "late parcel" in tickets."""
    seed = Seed(db)
    scores = {f"c{i}@x.com": ("Champions", "Active", 5, 6, 600.0) for i in range(30)}
    scores |= {f"h{i}@x.com": ("Hibernating", "Lapsed", 300, 1, 40.0) for i in range(40)}
    seed.snapshot("2026-11-24", scores)
    ids = {
        "gentle": seed.theme("review", "gentle on sensitive skin"),
        "love": seed.theme("review", "love it", kind="general"),
        "other": seed.theme("review", "other review"),
        "late": seed.theme("ticket", "late parcel"),
        "status": seed.theme("ticket", "order status"),
    }
    for i in range(30):
        if i < 12:
            mentions = [(f"So gentle on my sensitive skin, no redness {i}.", ids["gentle"], None, "positive"),
                        (f"Love it {i}!", ids["love"], None, "positive")]
        elif i == 12:
            mentions = [("Gentle, but the jar arrived cracked and leaking.", ids["gentle"], None, "negative")]
        else:
            mentions = [(f"A review about something else {i}.", ids["other"], None, "neutral")]
        seed.doc("review", f"c{i}@x.com", mentions, rating=5 if i != 12 else 3)
        late = 12 <= i < 20
        seed.doc("ticket", f"c{i}@x.com", [(f"My parcel is two weeks late and nobody answers {i}." if late else
                                            f"Where can I see my order {i}?", ids["late" if late else "status"], None,
                                            "negative" if late else "neutral")])
    for i in range(40):
        seed.doc("review", f"h{i}@x.com", [(f"gentle enough {i}" if i < 6 else f"fine {i}",
                                            ids["gentle" if i < 6 else "other"], None, "neutral")], rating=4)
        seed.doc("ticket", f"h{i}@x.com", [(f"Where is my order {i}?", ids["status"], None, "neutral")])
    seed.commit()
    return ids


def test_why_they_buy_uses_positive_mentions_from_reviews_and_negative_ones_feed_what_annoys_them(db):
    ids = sentiment_brand(db)
    brief = build_brief(db, "Champions")
    assert brief.sentiment_scored and brief.why_buy == []  # no motivation question at all: reviews speak instead
    praise = {f.theme_id: f for f in brief.praise}
    assert list(praise) == [ids["gentle"]]  # "love it" is general: not a reason
    gentle = praise[ids["gentle"]]
    assert (gentle.positive_customers, gentle.customers, gentle.negative_customers) == (12, 13, 1)
    assert gentle.quotes and all(q.source == "review" and q.document_id.startswith("review-") for q in gentle.quotes)
    assert all("So gentle" in q.text for q in gentle.quotes)  # positive mentions only: not the cracked jar
    annoyances = {f.theme_id: f for f in brief.annoyances}
    assert list(annoyances) == [ids["late"]]
    assert annoyances[ids["late"]].negative_customers == 8
    assert all("two weeks late" in q.text for q in annoyances[ids["late"]].quotes)
    assert brief.general_praise == 12
    assert ids["status"] not in {f.theme_id for f in brief.complaints}  # questions, never negative: no complaint

    summary = {line.lead: line.text for line in brief.summary}
    assert summary["They praise"].startswith("“gentle on sensitive skin” (12 customers, review)")
    assert "general praise (“love it”) from 12 of them is not counted" in summary["They praise"]
    assert summary["What annoys them"].startswith("“late parcel” (8 customers, ticket)")
    # "love it" over-indexes (12 Champions, no Hibernating) but a general theme is no distinctive finding
    love = next(r for r in compute_links(db).rows if r.segment == "Champions" and r.theme_id == ids["love"])
    assert love.over_indexed and love.kind == "general"
    assert ids["love"] not in {f.theme_id for f in brief.says}
    assert "love it" not in summary["Distinctive"]
    text = render_markdown(brief)
    assert "What they praise (mostly positive mentions, every source)" in text
    assert "What annoys them (mostly negative mentions, every source)" in text
    assert "12 with praise (12 of 13 mentions positive)" in text


def test_distinctive_themes_rank_by_the_shrunken_score_not_raw_lift(db):
    from test_links import two_against_thirty

    ids = two_against_thirty(db)
    brief = build_brief(db, "Lost")
    assert brief.says_significant
    assert [f.theme_id for f in brief.says] == [ids["slow"]]  # "stings" (2 customers, lift 6) is no finding
    assert brief.summary[0].text.startswith("“slow delivery” (30 of 60 customers, lift 2.0")
    assert brief.says[0].score is not None and brief.says[0].over_indexed


def test_briefs_carry_no_terminal_control_from_quotes(db):
    """Old code wrote ESC and BEL into the .md and .html: `cat brief.md` set the title and cleared the screen."""
    brand(db)
    hostile = "it is part of my \x1b]0;pwned\x07morning\x1b[2J\x1b[H routine\x07 now"
    db.execute("UPDATE units SET text = ? WHERE text = ?", [hostile, MARKUP])
    db.conn.commit()
    brief = build_brief(db, "Champions")
    assert hostile in [q.text for t in brief.says for q in t.quotes]
    for page in (render_markdown(brief), render_html(brief)):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", page)
        assert "pwned" not in page and "[2J" not in page
        assert "it is part of my morning routine now" in page


def chart(page: str, kind: str) -> list[tuple[str, float, str]]:
    """The rows of the page's inline SVG chart of class `kind`: (label, dark bar width as a share of the 280-px
    scale, the value text)."""
    from xml.etree import ElementTree

    ns = "{http://www.w3.org/2000/svg}"
    found = [ElementTree.fromstring(s + "</svg>") for s in re.findall(r"<svg.*?(?=</svg>)", page, re.S)]
    [svg] = [s for s in found if s.get("class") == f"bars {kind}"]
    texts = [t.text for t in svg.iter(f"{ns}text")]
    dark = [float(r.get("width")) / 280 for r in svg.iter(f"{ns}rect") if r.get("height") == "12"]
    labels, values = texts[0:-1:2], texts[1:-1:2]  # label, value per row, then the legend
    return list(zip(labels, [round(w, 3) for w in dark], values, strict=True))


def test_the_html_brief_charts_its_top_themes_share_against_everyone(db):
    brand(db)
    brief = build_brief(db, "Champions")
    page = render_html(brief)
    # Champions who answered "what made you buy": 11 of 12 raised the routine, 13 of all 27 answerers did;
    # of the 16 reviewers with a customer, the 12 Champions all praised the texture.
    assert chart(page, "themes") == [("part of my routine", round(11 / 12, 3), "92% (48%)"),
                                     ("love the texture", 1.0, "100% (75%)")]
    assert [t.label for t in brief.says] == ["part of my routine", "love the texture"]  # the themes the brief lists
    svg = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="bars themes"'):]
    svg = svg[:svg.index("</svg>")]
    assert "<script" not in svg and "href" not in svg and "url(" not in svg  # nothing to run or fetch
    assert page.index('class="bars themes"') < page.index("<h3>1. part of my routine")  # heads "What they say"
    assert "<svg" not in render_markdown(brief)  # Markdown stays text


def test_a_brief_without_themes_draws_no_theme_chart(db):
    brand(db)
    page = render_html(build_brief(db, "Lost"))  # 3 customers: a short brief without findings
    assert 'class="bars themes"' not in page
