"""The README and the command line agree (as datasette's test_docs.py checks its docs): every `insight ...`
the README shows is a real command whose --options exist, every option in a row of the command table
belongs to that row's command, every --option anywhere is a real one, and every top-level command has a
row in the table. The README is read with markdown-it (rich's own Markdown parser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from insight.cli import COMMAND_MODULES, cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Options the README gives to scripts that are not `insight`: checked against the script's own source.
SCRIPT_OPTIONS = {
    "--variants": "bench/fuzz_imports.py",
    "--seed": "bench/fuzz_imports.py",
    "--parents": "bench/make_big_db.py",
    "--split": "bench/themes_quality.py",
    "--two-level": "bench/themes_quality.py",
}


@dataclass(frozen=True)
class Mention:
    text: str  # the code span or code line, starting with 'insight'
    line: int  # 1-based line of README.md

    def where(self) -> str:
        return f"README.md:{self.line}: `{self.text}`"


def tokens() -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(README.read_text(encoding="utf-8"))


def _children(token: Token) -> Iterator[Token]:
    yield token
    for child in token.children or []:
        yield from _children(child)


def code_texts() -> Iterator[tuple[str, int]]:
    """Every inline code span and every line of a fenced code block, with its README line."""
    for token in tokens():
        line = (token.map[0] + 1) if token.map else 0
        if token.type in ("fence", "code_block"):
            for offset, text in enumerate(token.content.splitlines()):
                yield text.strip(), line + 1 + offset
        for child in _children(token):
            if child.type == "code_inline":
                yield " ".join(child.content.split()), line


def insight_mentions() -> list[Mention]:
    return [Mention(text, line) for text, line in code_texts() if re.match(r"insight(\s|$)", text)]


def table_rows() -> list[tuple[str, str, int]]:
    """(first cell, the rest of the row as Markdown source, line) of the command table."""
    rows = []
    lines = README.read_text(encoding="utf-8").splitlines()
    for token in tokens():
        if token.type == "tr_open" and token.map and lines[token.map[0]].startswith("| `insight "):
            source = lines[token.map[0]]
            first, rest = re.match(r"\|\s*`([^`]*)`\s*\|(.*)", source).groups()
            rows.append((first.replace("\\|", "|"), rest, token.map[0] + 1))
    return rows


def resolve(words: list[str]) -> tuple[list[click.Command], list[str]]:
    """The chain of commands `insight words...` runs (root first), and the words left (its arguments)."""
    chain: list[click.Command] = [cli]
    ctx = click.Context(cli, info_name="insight")
    rest = list(words)
    while rest and isinstance(chain[-1], click.Group):
        word = rest[0]
        if word.startswith("-"):
            rest.pop(0)
            if word == "--db" and rest:  # the root's option with its value
                rest.pop(0)
            continue
        sub = chain[-1].get_command(ctx, word)
        if sub is None:
            break
        chain.append(sub)
        ctx = click.Context(sub, parent=ctx, info_name=word)
        rest.pop(0)
    return chain, rest


def option_names(command: click.Command) -> set[str]:
    names = {opt for param in command.params for opt in getattr(param, "opts", []) + getattr(param, "secondary_opts", [])}
    return names | {"--help"}


def all_commands(command: click.Command = cli, ctx: click.Context | None = None) -> Iterator[click.Command]:
    ctx = ctx or click.Context(cli, info_name="insight")
    yield command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            yield from all_commands(sub, click.Context(sub, parent=ctx, info_name=name))


def subtree_options(command: click.Command) -> set[str]:
    return set().union(*(option_names(c) for c in all_commands(command)))


def test_the_readme_names_commands():
    """Sanity: the parse finds the quick-start block, the command table and the prose mentions."""
    texts = {m.text for m in insight_mentions()}
    assert "insight segments validate --as-of 2026-08-01 --cutoffs 6 --horizon 60d" in texts
    assert "insight stats" in texts and len(table_rows()) >= 15


@pytest.mark.parametrize("mention", insight_mentions(), ids=lambda m: f"line {m.line}")
def test_every_insight_command_in_the_readme_exists_with_its_options(mention):
    words = mention.text.replace("\\|", "|").split()[1:]
    if words and words[0].isupper():  # `insight COMMAND --help`: a placeholder for any command
        assert set(OPTION.findall(mention.text)) == {"--help"}, mention.where()
        return
    chain, _ = resolve(words)
    assert len(chain) > 1 or all(w.startswith("-") for w in words), f"{mention.where()}: no such command"
    known = set().union(*(option_names(c) for c in chain))
    unknown = set(OPTION.findall(mention.text)) - known
    assert not unknown, f"{mention.where()}: {' '.join(c.name or '' for c in chain[1:])} has no {sorted(unknown)}"


@pytest.mark.parametrize("row", table_rows(), ids=lambda r: r[0])
def test_each_row_of_the_command_table_names_its_own_options(row):
    first, rest, line = row
    chain, _ = resolve(first.split()[1:])
    assert len(chain) > 1, f"README.md:{line}: `{first}` is not a command"
    # A row may name its command's subcommands' options ("Subcommands: ... `export --out FILE.csv`").
    known = set().union(*(option_names(c) for c in chain)) | subtree_options(chain[-1])
    unknown = set(OPTION.findall(first + rest)) - known
    assert not unknown, f"README.md:{line}: `{first}` has no {sorted(unknown)}"


def test_the_common_import_options_belong_to_every_feedback_import():
    text = README.read_text(encoding="utf-8")
    paragraph = text[text.index("Common import options:"):].split("\n\n")[0]
    listed = set(OPTION.findall(paragraph))
    assert {"--format", "--window", "--strict", "--spacy-model"} <= listed
    for kind in ("survey", "interview", "review", "ticket"):
        chain, _ = resolve(["import", kind])
        assert listed <= option_names(chain[-1]), f"insight import {kind} lacks {sorted(listed - option_names(chain[-1]))}"


def test_every_option_in_the_readme_exists():
    everywhere = subtree_options(cli)
    text = README.read_text(encoding="utf-8")
    missing = []
    for option in sorted(set(OPTION.findall(text))):
        if option in SCRIPT_OPTIONS:
            if f'"{option}"' not in (ROOT / SCRIPT_OPTIONS[option]).read_text(encoding="utf-8"):
                missing.append(f"{option} (not in {SCRIPT_OPTIONS[option]})")
        elif option not in everywhere:
            missing.append(option)
    assert not missing, f"README.md mentions options no insight command (or named script) has: {missing}"


def test_every_command_has_a_row_in_the_command_table():
    in_table = {first.split()[1] for first, _, _ in table_rows()}
    assert in_table == set(COMMAND_MODULES), sorted(set(COMMAND_MODULES) ^ in_table)
