"""What must never reach a page of the evidence pack: Python reprs, machine paths, tracebacks, missing values
shown as text, and headings with nothing under them. Used by the end-to-end tests on every page of a built site."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

REPRS = ("PosixPath(", "WindowsPath(", "<Figure size", "<Axes", "<matplotlib.", "dtype:", "object at 0x")
TRACEBACK = ("Traceback (most recent call last)", "Error: ", "Warning: ")
ABSOLUTE_PATH = re.compile(r"(?<![\w/.:])(/(?:home|root|tmp|work|Users|var|private|opt|usr)/[\w.-]+)")
MISSING = re.compile(r"(?<![\w-])(nan|NaN|None|NaT|<NA>)(?![\w-])")


class _Text(HTMLParser):
    """The visible text of a page (no scripts, styles or the search index), and its sections."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.sections: list[tuple[str, list[str]]] = []
        self._skip = 0
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript"):
            self._skip += 1
        if tag in ("h2", "h3"):
            self._heading = []
        if tag in ("img", "table", "figure") and self.sections:
            self.sections[-1][1].append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript"):
            self._skip -= 1
        if tag in ("h2", "h3") and self._heading is not None:
            self.sections.append((" ".join(self._heading).strip(), []))
            self._heading = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._heading is not None:
            self._heading.append(data)
            return
        self.parts.append(data)
        if self.sections and data.strip():
            self.sections[-1][1].append(data.strip())


def page_problems(path: Path) -> list[str]:
    """Every problem on one page, each naming the page and what was found."""
    source = path.read_text(encoding="utf-8")
    parser = _Text()
    parser.feed(source)
    text = html.unescape(" ".join(parser.parts))
    problems = [f"{path.name}: Python repr {r!r}" for r in REPRS if r in text]
    problems += [f"{path.name}: traceback or error text {t!r}" for t in TRACEBACK if t in text]
    problems += [f"{path.name}: machine path {m!r}" for m in sorted(set(ABSOLUTE_PATH.findall(text)))]
    problems += [
        f"{path.name}: missing value shown as {m!r} in '…{text[max(0, i - 60) : i + 20]}…'"
        for m, i in ((m.group(1), m.start()) for m in MISSING.finditer(text))
    ][:5]
    problems += [f"{path.name}: empty section {h!r}" for h, body in parser.sections if h and not body]
    return problems


def site_problems(site: Path) -> list[str]:
    """Problems on every HTML page of a built site."""
    return [p for page in sorted(site.rglob("*.html")) for p in page_problems(page)]
