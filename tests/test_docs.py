"""The README is a front door and docs/ holds the rest: every relative link and image resolves, anchors included."""

import re
from collections import Counter
from pathlib import Path

from helpers import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _unfenced(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code (a `[x](y)` there is not a link)."""
    return re.sub(r"`[^`\n]*`", "", _unfenced(text))


def _links(page: Path) -> list[str]:
    return LINK.findall(_prose(page.read_text(encoding="utf-8")))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: Counter = Counter()
    out = set()
    for line in _unfenced(page.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            slug = _slug(m.group(1))
            out.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
            seen[slug] += 1
    return out


def _broken(page: Path) -> list[str]:
    bad = []
    for target in _links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            bad.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            bad.append(f"{target} (no such heading)")
    return bad


def test_link_checker_sees_links_images_and_anchors(tmp_path):
    page = tmp_path / "a.md"
    page.write_text("# Top\n\n## Two words, `code`\n\n![pic](missing.png) [ok](#two-words-code) [bad](#nope)\n"
                    "[web](https://example.org) [self](a.md#top)\n```\n[not a link](nowhere.md)\n```\n")
    assert _anchors(page) == {"top", "two-words-code"}
    assert _broken(page) == ["missing.png (no such file)", "#nope (no such heading)"]


def test_every_relative_link_and_image_resolves():
    assert len(PAGES) > 5
    broken = {p.name: b for p in PAGES if (b := _broken(p))}
    assert broken == {}


def test_readme_is_a_front_door():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for command in ('.venv/bin/pip install -e ".[dev]"', ".venv/bin/photosearch-gui", ".venv/bin/python -m pytest"):
        assert command in text
    assert "![" in text and "](docs/main-window.png)" in text


def test_readme_links_every_docs_page_and_each_page_says_what_it_is_for():
    linked = {Path(t.partition("#")[0]).name for t in _links(REPO / "README.md") if t.startswith("docs/")}
    for page in PAGES[1:]:
        assert page.name in linked, page.name
        title, blank, purpose, after = page.read_text(encoding="utf-8").splitlines()[:4]
        assert title.startswith("# ") and blank == after == "", page.name
        assert purpose.strip() and not purpose.startswith(("#", "|", "-", "`", "!")), page.name


def test_no_test_count_in_prose():
    """A count of tests goes stale with every commit; the test command says it."""
    counts = {p.name: m for p in PAGES if (m := re.findall(r"\b\d+ (?:tests|passed)\b", p.read_text(encoding="utf-8")))}
    assert counts == {}
