"""Links and section references between README.md and docs/*.md lead somewhere: a link's file
and #anchor exist, and a section named in prose ("docs/alerts.md, *Channels*", "see *The daily
schedule*", "*Proxies* below") is a heading, a bold paragraph or a table row's first cell of
the page it names. docs/operations.md sent readers to a *Troubleshooting* it does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A link [text](path#anchor), and a section named in prose: after "docs/<page>.md, ", "see " or
# "in ", or before "below"/"above".
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SECTION = re.compile(r"(?:docs/(?P<page>[a-z]+\.md)[,:]?\s+|\b(?:see|in)\s+)\*(?P<named>[^*]+)\*"
                     r"|\*(?P<before>[^*]+)\*\s+(?:below|above)")


def prose(page: Path) -> str:
    return re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)


def headings(page: Path) -> list[str]:
    return re.findall(r"^#+\s+(.*)$", prose(page), re.M)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def places(page: Path) -> list[str]:
    text = prose(page)
    found = (headings(page) + re.findall(r"\*\*([^*\n]+)\*\*", text)
             + re.findall(r"^\| ([^|\n]+) \|", text, re.M))
    return [" ".join(re.sub(r"[`*]", "", place).split()).rstrip(".") for place in found]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target} names no file"
        if anchor:
            assert anchor in {slug(h) for h in headings(linked)}, f"{page.name}: {target} names no heading"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_section_named_in_the_text_exists(page: Path) -> None:
    for m in SECTION.finditer(prose(page)):
        named = " ".join((m.group("named") or m.group("before")).split())
        target = ROOT / "docs" / m.group("page") if m.group("page") else page
        assert any(place.startswith(named) for place in places(target)), \
            f"{page.name} names *{named}*, which {target.name} has no heading, bold paragraph or table row for"
