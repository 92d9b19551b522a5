"""The --json contract: every command that takes --json prints exactly one JSON object, on one line, on
stdout and nothing else there: on success, on a domain error and on a usage error. Errors are
{"ok": false, "error": "..."} with a non-zero exit (an import lists its refused files under "failed");
without --json an error is one line on stderr ("error: ...") and nothing on stdout.

The commands are found by walking the click tree (insight/cli.py), so a new --json command fails
test_every_json_command_has_a_case until it is given one below."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import spacy
from click.testing import CliRunner, Result
from conftest import FIXTURES
from test_themes import QUESTION, seed_units

from insight.analysis.embed import HashingEmbedder
from insight.analysis.nlp import LoadedPipeline
from insight.cli import cli
from insight.core.db import open_db


def walk(command: click.Command, ctx: click.Context, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every command under `command` (groups included), as 'themes show' -> its click.Command."""
    if path:
        yield " ".join(path), command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from walk(sub, click.Context(sub, parent=ctx, info_name=name), (*path, name))


def json_commands() -> dict[str, click.Command]:
    root = click.Context(cli, info_name="insight")
    return {name: cmd for name, cmd in walk(cli, root)
            if any("--json" in getattr(param, "opts", ()) for param in cmd.params)}


# One successful run of each command on the template database ({tmp}: the test's folder; {sub}, {sub2}: two
# sub-themes of one scope; {sample}: a small sample brand for `insight demo`).
SUCCESS: dict[str, list[str]] = {
    "brief": ["brief", "--all", "--out", "{tmp}/briefs"],
    "customer": ["customer", "jo@example.com"],
    "demo": ["--db", "{tmp}/demo.db", "demo", "--sample-dir", "{sample}", "--as-of", "2026-11-24", "--briefs", "{tmp}/demo-briefs"],
    "forget": ["forget", "jo@example.com", "--yes"],
    "import interview": ["import", "interview", "{fixtures}/interviews/teams_meeting.vtt", "--customer", "kai@example.com"],
    "import orders": ["import", "orders", "{fixtures}/orders/woocommerce_orders.csv"],
    "import review": ["import", "review", "{fixtures}/reviews/yotpo_export.csv"],
    "import survey": ["import", "survey", "{fixtures}/surveys/google_forms.csv"],
    "import ticket": ["import", "ticket", "{fixtures}/tickets/gorgias.json"],
    "links": ["links"],
    "segments": ["segments", "--as-of", "2026-11-24"],
    "segments affinity": ["segments", "affinity"],
    "segments due": ["segments", "due", "--within", "14d"],
    "segments export": ["segments", "export", "--all", "--out", "{tmp}/segments.csv"],
    "segments validate": ["segments", "validate"],
    "sentiment score": ["sentiment", "score", "Arrived two weeks late.", "Love the fabric"],
    "sentiment train": ["sentiment", "train", "{tmp}/labels.tsv", "--out", "{tmp}/head.json"],
    "stats": ["stats"],
    "themes": ["themes", "--param", "min_cluster_size=8", "--param", "cluster_selection_method=eom"],
    "themes export": ["themes", "export", "--out", "{tmp}/themes.csv"],
    "themes list": ["themes", "list"],
    "themes merge": ["themes", "merge", "{sub}", "{sub2}"],
    "themes rename": ["themes", "rename", "{sub}", "late parcels"],
    "themes show": ["themes", "show", "{sub}"],
    "themes split": ["themes", "split", "{sub}"],
}

# One domain error of each command, and a few words of the message it must give.
ERRORS: dict[str, tuple[list[str], str]] = {
    "brief": (["brief", "--segment", "Nope"], "no segment 'Nope'"),
    "customer": (["customer", "nobody@example.com"], "nobody@example.com"),
    "demo": (["--db", "{tmp}/demo.db", "demo", "--sample-dir", "{tmp}/empty", "--briefs", "{tmp}/b"], "no orders that count toward RFM"),
    "forget": (["forget", "nobody@example.com", "--yes"], "no customer matches 'nobody@example.com'"),
    "import interview": (["import", "interview", "{fixtures}/reviews/screenshot.png"], "PNG image"),
    "import orders": (["import", "orders", "{fixtures}/reviews/screenshot.png"], "PNG image"),
    "import review": (["import", "review", "{fixtures}/reviews/screenshot.png"], "PNG image"),
    "import survey": (["import", "survey", "{fixtures}/reviews/screenshot.png"], "PNG image"),
    "import ticket": (["import", "ticket", "{fixtures}/reviews/screenshot.png"], "PNG image"),
    "links": (["links", "--window", "bad"], "window 'bad'"),
    "segments": (["segments", "--as-of", "2000-01-01"], "no orders that count toward RFM on or before 2000-01-01"),
    "segments affinity": (["segments", "affinity", "--segment", "Nope"], "no segment 'Nope'"),
    "segments due": (["segments", "due", "--within", "14d", "--segment", "Nope"], "no segment 'Nope'"),
    "segments export": (["segments", "export", "--segment", "Nope"], "'Nope'"),
    "segments validate": (["segments", "validate", "--html", "{tmp}/no/such/folder/v.html"], "cannot write"),
    "sentiment score": (["sentiment", "score", "ok", "--model", "{tmp}/no-such-model"], "no-such-model"),
    "sentiment train": (["sentiment", "train", "{tmp}/one-column.tsv", "--out", "{tmp}/h.json"], "line 1"),
    "stats": (["--db", "{fixtures}/orders/shopify_orders.csv", "stats"], "not an insight database"),
    "themes": (["themes", "--model", "{tmp}/no-such-model"], "no-such-model"),
    "themes export": (["themes", "export", "--out", "{tmp}/no/such/folder/t.csv"], "cannot write"),
    "themes list": (["--db", "{fixtures}/orders/shopify_orders.csv", "themes", "list"], "not an insight database"),
    "themes merge": (["themes", "merge", "{sub}", "999"], "no theme with id 999"),
    "themes rename": (["themes", "rename", "999", "x"], "no theme with id 999"),
    "themes show": (["themes", "show", "999"], "no theme with id 999"),
    "themes split": (["themes", "split", "999"], "no theme with id 999"),
}


def _fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("insight.analysis.embed.load_embedder", _fake_embedder)
    monkeypatch.setattr("insight.analysis.nlp.cached_pipeline",
                        lambda name=None: LoadedPipeline(spacy.blank("en"), "test", False, ""))


def _fake_embedder(name: str | None = None) -> HashingEmbedder:
    if name is not None and not Path(name).exists():  # what the real loader says of a model it cannot find
        from insight.analysis.embed import EmbedderUnavailable

        raise EmbedderUnavailable(f"cannot load the embedding model {name!r}")
    return HashingEmbedder()


def invoke(db_path: Path, args: list[str], as_json: bool = True) -> Result:
    db = [] if "--db" in args else ["--db", str(db_path)]
    return CliRunner().invoke(cli, [*db, *args, *(["--json"] if as_json else [])])


def one_json_object(result: Result) -> dict:
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"stdout is not one line: {result.stdout!r} (stderr {result.stderr!r})"
    payload = json.loads(lines[0])
    assert isinstance(payload, dict)
    return payload


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Built once: orders, one file of each kind of feedback, 60 survey answers on two topics, an RFM
    snapshot and themes."""
    folder = tmp_path_factory.mktemp("contract")
    path = folder / "template.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fake_models(monkeypatch)
        for kind, name in (("orders", "orders/shopify_orders.csv"), ("survey", "surveys/typeform.csv"),
                           ("interview", "interviews/2026-10-03_jo@example.com.vtt"),
                           ("review", "reviews/judgeme_export.csv"), ("ticket", "tickets/zendesk_export.json")):
            assert invoke(path, ["import", kind, str(FIXTURES / name)]).exit_code == 0, name
        db = open_db(path)
        seed_units(db, {"delivery": 30, "fabric": 30})
        db.conn.close()
        assert invoke(path, SUCCESS["segments"]).exit_code == 0
        themed = invoke(path, SUCCESS["themes"] + ["--param", "split_fraction=0"])
        assert themed.exit_code == 0, themed.output
    db = open_db(path)
    subs = [r[0] for r in db.execute(
        "SELECT id FROM themes WHERE level = 'sub' AND status = 'active' AND scope = ? ORDER BY size DESC",
        [f"survey: {QUESTION}"])]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    assert len(subs) >= 2, subs
    return path, {"sub": str(subs[0]), "sub2": str(subs[1])}


@pytest.fixture
def case(template, tmp_path, monkeypatch) -> tuple[Path, dict[str, str]]:
    """A copy of the template, the models faked, and the files the cases name."""
    _fake_models(monkeypatch)
    db_path = tmp_path / "insight.core.db"
    shutil.copy(template[0], db_path)
    sample = tmp_path / "sample"
    for source, target in (("orders/shopify_orders.csv", "orders_shopify.csv"), ("surveys/typeform.csv", "survey_typeform.csv"),
                           ("interviews/2026-10-03_jo@example.com.vtt", "interviews/2026-10-03_jo@example.com.vtt"),
                           ("reviews/judgeme_export.csv", "reviews/judgeme_export.csv"),
                           ("tickets/zendesk_export.json", "tickets_zendesk.json")):
        (sample / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / source, sample / target)
    (tmp_path / "empty").mkdir()
    (tmp_path / "labels.tsv").write_text("text\tlabel\n" + "".join(
        f"great product {i}\tpositive\nterrible and late {i}\tnegative\nit comes in grey {i}\tneutral\n" for i in range(10)))
    (tmp_path / "one-column.tsv").write_text("hello\n")
    values = {**template[1], "tmp": str(tmp_path), "fixtures": str(FIXTURES), "sample": str(sample)}
    return db_path, values


def fill(args: list[str], values: dict[str, str]) -> list[str]:
    return [arg.format(**values) for arg in args]


def test_every_json_command_has_a_case():
    found = set(json_commands())
    assert found == set(SUCCESS) == set(ERRORS)
    assert {"stats", "forget", "themes show", "segments export", "import survey", "demo"} <= found


@pytest.mark.parametrize("name", sorted(SUCCESS))
def test_success_is_one_json_object(case, name):
    db_path, values = case
    result = invoke(db_path, fill(SUCCESS[name], values))
    payload = one_json_object(result)
    assert result.exit_code == 0, payload
    assert payload.get("ok", True) is True


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_a_domain_error_is_one_json_object_and_one_line_without_json(case, name):
    db_path, values = case
    args, words = ERRORS[name]
    args = fill(args, values)
    result = invoke(db_path, args)
    payload = one_json_object(result)
    assert result.exit_code not in (0, 70), payload  # 70: an internal error, a bug
    assert payload["ok"] is False
    message = payload["error"] if "error" in payload else payload["failed"][0]["error"]
    assert words in message
    human = invoke(db_path, args, as_json=False)
    assert human.exit_code == result.exit_code
    if name.startswith("import "):  # an import prints its summary, the refused file on one line of stderr
        refused = [line for line in human.stderr.splitlines() if words in line]
        assert len(refused) == 1 and "Traceback" not in human.output
    else:
        assert human.stdout == "", human.stdout
        lines = human.stderr.splitlines()
        if name == "demo":  # it logs its steps on stderr as it goes
            lines = lines[-1:]
        [line] = lines
        assert line.startswith("error: ") and words in line


@pytest.mark.parametrize("name", sorted(json_commands()))
def test_a_usage_error_is_one_json_object(tmp_path, name):
    result = invoke(tmp_path / "x.db", [*name.split(), "--no-such-option"])
    payload = one_json_object(result)
    assert result.exit_code == 2 and payload["ok"] is False and "--no-such-option" in payload["error"]
    assert not (tmp_path / "x.db").exists()
