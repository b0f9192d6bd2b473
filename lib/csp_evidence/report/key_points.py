"""Key points: the three to five plain-English sentences a chapter opens with, each linked to its evidence.

A board member reads these first. Each point is written from the numbers by a chapter module (never typed),
says one thing (what changed, how the borough compares with London, what the pandemic did, what it means for
the priority) in under ``MAX_WORDS`` words, and carries no p-values or method words: those stay in the tables
and the methods page. Each links to the section of the page that holds its evidence (``anchor``: the id the
renderers give the section's heading, see ``section_id``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from IPython.display import HTML, display

MIN_POINTS, MAX_POINTS = 3, 5
MAX_WORDS = 40
# Words that belong in the tables and the methods page, not in a key point.
METHOD_WORDS = re.compile(
    r"\bp\s*[=<]|\bp-value|poisson|arima|z-score|counterfactual|prediction interval|confidence interval|"
    r"regression|statistically|wilson|newcombe",
    re.IGNORECASE,
)


class KeyPointError(ValueError):
    """A chapter's key points break the rule (count, length or method words)."""


@dataclass(frozen=True)
class KeyPoint:
    """One key point: plain text (no Markdown, no HTML) and the id of the section holding its evidence."""

    text: str
    anchor: str

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "anchor": self.anchor}


def section_id(heading: str) -> str:
    """The id Quarto (pandoc) and smalldocs give a section: 'The Covid-19 pandemic: observed' ->
    'the-covid-19-pandemic-observed'."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^\w\s.-]", "", text)
    text = re.sub(r"\s+", "-", text.strip())
    return re.sub(r"^[^a-z]+", "", text) or "section"


def word_count(text: str) -> int:
    """Words as a reader counts them ('2,671' and '+15.8%' are one word each)."""
    return len(text.split())


def problems(points: Sequence[KeyPoint]) -> list[str]:
    """What breaks the key-point rule, each naming the point; empty when the points are fine."""
    found = []
    if not MIN_POINTS <= len(points) <= MAX_POINTS:
        found.append(f"{len(points)} key points; a chapter needs {MIN_POINTS} to {MAX_POINTS}")
    for i, point in enumerate(points, 1):
        if word_count(point.text) > MAX_WORDS:
            found.append(f"key point {i} has {word_count(point.text)} words (at most {MAX_WORDS}): {point.text!r}")
        method = METHOD_WORDS.search(point.text)
        if method:
            found.append(f"key point {i} uses the method word {method.group(0)!r}: {point.text!r}")
        if not point.anchor:
            found.append(f"key point {i} links to no section: {point.text!r}")
    return found


def checked(points: Sequence[KeyPoint]) -> list[KeyPoint]:
    """The points, or a KeyPointError naming every rule they break."""
    found = problems(points)
    if found:
        raise KeyPointError("; ".join(found))
    return list(points)


def key_points_html(points: Sequence[KeyPoint], heading: str = "Key points") -> str:
    """The key-points block: a heading and a list, each point ending in a link to its evidence (text escaped)."""
    items = "".join(
        f'<li>{html.escape(p.text)} <a href="#{html.escape(p.anchor, quote=True)}" class="csp-evidence-link">'
        "See the evidence</a></li>"
        for p in checked(points)
    )
    return (
        f'<section class="csp-key-points" aria-labelledby="key-points"><h2 id="key-points">{html.escape(heading)}</h2>'
        f"<ul>{items}</ul></section>"
    )


def show_key_points(points: Sequence[KeyPoint]) -> None:
    """Show a chapter's key points at the top of its page (a notebook cell ending in this call shows only them)."""
    display(HTML(key_points_html(points)))


def key_points_data(points: Sequence[KeyPoint]) -> list[dict[str, str]]:
    """The points for the headline JSON (read by the home page and the printable summary)."""
    return [p.as_dict() for p in checked(points)]
