"""Key findings for the pack's home page: the first key point of each chapter, from the headline JSON it writes.

The same rule as the chapter pages: plain English, written from the numbers by the chapter modules (see
report.key_points), no p-values or method words, each linking to the section of the chapter that holds the
evidence. A chapter that did not run, or wrote no key points, simply gives no finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from csp_evidence.report.headlines import read_headlines

# The chapters whose first key point reaches the home page (the overview's figures head the page already).
FINDING_CHAPTERS = (
    "01_asb_neighbourhood",
    "02_hate_crime",
    "03_reoffending",
    "04_violence_exploitation",
    "05_confidence",
    "06_plan_period",
    "99_plan_audit",
)


def chapter_key_points(run_dir: Path | str, chapter: str) -> list[dict[str, str]]:
    """A chapter's key points as it saved them ({'text', 'anchor'} each); empty when it saved none."""
    points = read_headlines(run_dir, chapter).get("key_points") or []
    return [p for p in points if isinstance(p, dict) and p.get("text")]


def key_findings(run_dir: Path | str, chapters: Sequence[str] = FINDING_CHAPTERS) -> list[tuple[str, str]]:
    """(link to the evidence, sentence) pairs for the home page: each chapter's first key point, in chapter order."""
    out = []
    for chapter in chapters:
        points = chapter_key_points(run_dir, chapter)
        if points:
            anchor = points[0].get("anchor")
            out.append((f"{chapter}.html" + (f"#{anchor}" if anchor else ""), points[0]["text"]))
    return out
