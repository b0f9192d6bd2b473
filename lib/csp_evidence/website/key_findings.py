"""Key findings for the pack's home page: the first key point of each chapter, from the headline JSON it writes.

The same rule as the chapter pages: plain English, written from the numbers by the chapter modules (see
report.key_points), no p-values or method words, each linking to the section of the chapter that holds the
evidence. A chapter that did not run, or wrote no key points, simply gives no finding. The pack's headlines are
read once (``report.headlines.PackHeadlines``) and passed here; a run folder is read when given instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from csp_evidence.report.headlines import OverviewHeadlines, PackHeadlines


def _pack(headlines: PackHeadlines | Path | str) -> PackHeadlines:
    return headlines if isinstance(headlines, PackHeadlines) else PackHeadlines.load(headlines)


def chapter_key_points(headlines: PackHeadlines | Path | str, chapter: str) -> list[dict[str, str]]:
    """A chapter's key points as it saved them ({'text', 'anchor'} each); empty when it saved none."""
    return _pack(headlines).key_points(chapter)


def key_findings(headlines: PackHeadlines | Path | str, chapters: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(link to the evidence, sentence) pairs for the home page: each chapter's first key point, in the order of
    `chapters` (notebook stems; by default every chapter of the pack in stem order). The overview's figures head
    the page already, so it gives no finding."""
    pack = _pack(headlines)
    out = []
    for chapter in sorted(pack.chapters) if chapters is None else chapters:
        points = pack.key_points(chapter) if chapter != OverviewHeadlines.CHAPTER else []
        if points:
            anchor = points[0].get("anchor")
            out.append((f"{chapter}.html" + (f"#{anchor}" if anchor else ""), points[0]["text"]))
    return out
