"""Tables as specs: a chapter builds each published table once, checked, and a notebook publishes it in one call.

A ``TableSpec`` (in the spirit of gptables' ``GPTable``) holds the data and everything said about it: the columns
shown, in order, each with its header label; the format of every column that holds numbers; a caption; and
where the numbers come from (the source citation and the period they cover). It is checked when it is made, so
that a column named but not in the data, a format for a column not shown, a number column with no format, a
format that cannot format its column's values, or a missing caption, source or period is one ``TableSpecError``
naming the table and the column, raised in the chapter module rather than half-way through a page.

``TableSpec.publish(output_dir)`` is the one call a notebook makes: it writes ``tables/<slug>.csv`` atomically
(the shown columns, unformatted, or the fuller ``download`` frame) and shows the table as an accessible HTML
table (caption, header scopes, every value escaped) with a link to the CSV.

Formats are ``str.format`` strings with one field ('{:,.0f}', '{:+.1f}%'), or ``P_VALUE`` ('<0.001' or three
decimals), or ``AS_IS`` (the value as Python writes it). Missing values show as '–', booleans as 'yes'/'no'.
"""

from __future__ import annotations

import html
import math
import numbers
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Markdown, display

from csp_evidence.core.files import atomic_write

P_VALUE = "p-value"  # the format name for p-values in tables: '<0.001' or three decimals
AS_IS = "{}"  # a number shown as Python writes it (say a rank that is a whole number)

# The formats the pack's tables use, by what the column holds.
COUNT = "{:,.0f}"
SIGNED_COUNT = "{:+,.0f}"
PCT_CHANGE = "{:+.1f}%"
Z_SCORE = "{:+.1f}"
RATE = "{:.1f}"  # per 1,000 residents, one decimal
RATE_2DP = "{:.2f}"  # per 1,000 residents for a measure, two decimals
RATIO = "{:.2f}"

# A count by financial year with its change on the year before, its Poisson Z and its rate against London's
# (``summaries.totals_by_year``, ``stats.change.year_on_year``): the labels and formats its tables share.
YEAR_CHANGE_LABELS = {"change": "Change", "pct_change": "Change (%)", "p_value": "p-value", "z_score": "Poisson Z"}
RATE_LABELS = {"rate": "Per 1,000 residents", "london_rate": "London per 1,000"}


def year_change_formats(rate: str = RATE) -> dict[str, str]:
    """The formats of a count by financial year with its change, Z-score and rate (`rate`) against London's."""
    return {
        "count": COUNT,
        "change": SIGNED_COUNT,
        "pct_change": PCT_CHANGE,
        "p_value": P_VALUE,
        "z_score": Z_SCORE,
        "rate": rate,
        "london_rate": rate,
    }


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class TableSpecError(ValueError):
    """A table spec that does not fit its data: the message names the table (its slug) and the column."""


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_fractional_number(value) -> bool:
    """A float (not a bool, not an integer type): shown as Python writes it, it would read '1234.0' or '0.04999'."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)) and not _missing(value)


def _check_format(fmt: object) -> str | None:
    """Why `fmt` is not a format (None when it is one)."""
    if fmt == P_VALUE:
        return None
    if not isinstance(fmt, str):
        return f"is {fmt!r}, not a format string"
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None]
    except ValueError as exc:
        return f"{fmt!r} is not a format string ({exc})"
    if fields != [""]:
        return f"{fmt!r} must have exactly one unnamed field, as '{{:,.0f}}'"
    return None


def format_cell(value, fmt: str | None) -> str:
    """One cell as HTML text: '–' for a missing value, 'yes'/'no' for a boolean, else formatted and escaped."""
    if _missing(value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fmt == P_VALUE:
        return "&lt;0.001" if value < 0.001 else f"{value:.3f}"
    text = fmt.format(value) if fmt else str(value)
    return html.escape(text)


def table_html(
    table: pd.DataFrame,
    formats: Mapping[str, str],
    labels: Mapping[str, str],
    caption: str = "",
    flag: pd.Series | None = None,
) -> str:
    """An accessible HTML table (caption, header scopes); every value from the data is escaped.

    `flag` marks rows (True) shown in italics, e.g. counts under the small-number threshold.
    """
    head = "".join(f'<th scope="col">{html.escape(labels.get(c, c))}</th>' for c in table.columns)
    body = []
    for i, (_, row) in enumerate(table.iterrows()):
        flagged = flag is not None and bool(flag.iloc[i])
        cells = "".join(f"<td>{format_cell(row[c], formats.get(c))}</td>" for c in table.columns)
        body.append(
            f'<tr class="small-number" style="font-style:italic">{cells}</tr>' if flagged else f"<tr>{cells}</tr>"
        )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    # a wide table scrolls inside its own region, which keyboard users can reach (tab) and screen readers name
    label = html.escape(caption or "Table", quote=True)
    return (
        f'<div class="csp-table-scroll" tabindex="0" role="region" aria-label="{label}">'
        f'<table class="table table-sm csp-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def write_and_show(shown_html: str, csv_frame: pd.DataFrame, slug: str, output_dir: str | Path) -> None:
    """Write `csv_frame` as ``tables/<slug>.csv`` (atomically) and show the HTML table with a link to the CSV."""
    csv = Path(output_dir) / "tables" / f"{slug}.csv"
    atomic_write(csv, lambda tmp: csv_frame.to_csv(tmp, index=False, encoding="utf-8"))
    display(HTML(shown_html))
    display(Markdown(f"[Download this table (CSV)](tables/{slug}.csv)"))


@dataclass(frozen=True, eq=False)
class TableSpec:
    """One published table: its data, the columns shown (column -> header label, in order), the formats of its
    number columns, a caption and its provenance, checked when made.

    - `slug`: the file name of its CSV and its name in errors ('01-change-on-previous-year').
    - `columns`: every column shown, in order, with its header label; the CSV has these columns.
    - `formats`: column -> format (see the module); every column holding fractional numbers needs one.
    - `caption`: what the table shows, ending with a full stop; the shown caption adds ' Source: <source>.'
    - `source`: the citation of the data (several joined by '; '); `period`: the period the figures cover.
    - `flag`: rows shown in italics (True), e.g. under the small-number threshold; one value a row.
    - `download`: a fuller frame to write as the CSV instead of the shown columns (all columns, unformatted).
    """

    slug: str
    data: pd.DataFrame
    columns: Mapping[str, str]
    formats: Mapping[str, str]
    caption: str
    source: str
    period: str
    flag: pd.Series | None = None
    download: pd.DataFrame | None = None
    html: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.slug, str) or not _SLUG.match(self.slug):
            raise TableSpecError(f"table {self.slug!r}: the slug must be lower-case letters, digits and hyphens")
        if not isinstance(self.data, pd.DataFrame):
            raise self._error(f"the data is a {type(self.data).__name__}, not a DataFrame")
        if not self.columns:
            raise self._error("no columns are shown")
        for column, label in self.columns.items():
            if column not in self.data.columns:
                raise self._error(f"column {column!r} is not in the data (it has {', '.join(map(str, self.data))})")
            if not isinstance(label, str) or not label.strip():
                raise self._error(f"column {column!r} has no label")
        for column, fmt in self.formats.items():
            if column not in self.columns:
                raise self._error(f"format for column {column!r}, which the table does not show")
            problem = _check_format(fmt)
            if problem:
                raise self._error(f"the format of column {column!r} {problem}")
        for text, what in ((self.caption, "caption"), (self.source, "source"), (self.period, "period")):
            if not isinstance(text, str) or not text.strip():
                raise self._error(f"no {what}: every table says what it shows, where the figures come from and when")
        if "Source:" in self.caption:
            raise self._error("the caption names its source: give it as source=, which the caption then ends with")
        if self.flag is not None and len(self.flag) != len(self.data):
            raise self._error(f"flag has {len(self.flag)} values for {len(self.data)} rows")
        if self.download is not None and not isinstance(self.download, pd.DataFrame):
            raise self._error(f"download is a {type(self.download).__name__}, not a DataFrame")
        object.__setattr__(self, "data", self.data.copy())  # the spec is checked once: later edits cannot reach it
        shown = self.shown
        for column in shown.columns:
            self._check_values(column, shown[column])
        object.__setattr__(self, "html", table_html(shown, self.formats, self.columns, self.full_caption, self.flag))

    def _error(self, problem: str) -> TableSpecError:
        return TableSpecError(f"table {self.slug!r}: {problem}")

    def _check_values(self, column: str, values: pd.Series) -> None:
        fmt = self.formats.get(column)
        if fmt is None:
            fractional = next((v for v in values if _is_fractional_number(v)), None)
            if fractional is not None:
                raise self._error(
                    f"column {column!r} holds numbers ({fractional!r}) but has no format; give it one "
                    f"('{{:,.0f}}', or tables.AS_IS to show it as Python writes it)"
                )
            return
        for value in values:
            try:
                format_cell(value, fmt)
            except (TypeError, ValueError) as exc:
                raise self._error(f"format {fmt!r} of column {column!r} cannot format {value!r} ({exc})") from None

    @property
    def shown(self) -> pd.DataFrame:
        """The columns shown, in order, unformatted (what the CSV holds unless `download` is given)."""
        return self.data[list(self.columns)]

    @property
    def full_caption(self) -> str:
        """The caption as shown: the description, then 'Source: <source>.'"""
        return f"{self.caption} Source: {self.source}."

    def publish(self, output_dir: str | Path) -> None:
        """Write ``<output_dir>/tables/<slug>.csv`` atomically and show the table with a link to it.

        Returns nothing, so that a notebook cell ending with this call shows no output beyond the table.
        """
        write_and_show(self.html, self.shown if self.download is None else self.download, self.slug, output_dir)
