"""The London view (outputs/london/index.html): every borough's pack on a tile map of London and in a sortable
table, in the packs' own style.

The map is the London squares (data.geo.LONDON_SQUARES): 32 equal squares, coloured by the headline measure the
reader chooses (recorded offences per 1,000 residents, change on the previous year, or the first full lockdown
month against the same month before the pandemic), in five classes of equal count. It is a static page that works
offline: an SVG with a title and description, the table as its text alternative, a CSV with every value, and a
few lines of inline script to switch measure and sort the table (without script the map shows the first measure
and the table its borough order). Every value comes from the packs' headline JSON; all text is escaped.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from csp_evidence.core.periods import LOCKDOWN_BASELINE_YEARS
from csp_evidence.data.geo import CITY_SQUARE, LONDON_SQUARES
from csp_evidence.report.headlines import read_headlines

CSV_NAME = "london-boroughs.csv"
TILE, GAP, MARGIN = 64, 4, 6
# Sequential blues (light to dark, the Analysis Function's dark blue last): text is dark on the first three.
CLASS_COLOURS = ("#d6e4f0", "#a9c6e0", "#6f9fcb", "#2e6ba8", "#12436d")
NO_VALUE = "#f3f2f1"
# Headline chapters' measures in the table: (chapter, key of its measures, measure, column label).
INDEX_MEASURES = (
    ("02_hate_crime", "strands", "Racist and religious hate crime", "Racist and religious hate crime per 1,000"),
    ("04_violence_exploitation", "special_measures", "Domestic abuse", "Domestic abuse per 1,000"),
    ("04_violence_exploitation", "special_measures", "Knife crime", "Knife crime per 1,000"),
)


@dataclass(frozen=True)
class BoroughPack:
    """One borough's pack as the batch left it: its run name (folder), borough, whether it was built, any error."""

    name: str
    borough: str
    built: bool
    error: str = ""


@dataclass(frozen=True)
class MapMeasure:
    """A headline measure the map can be coloured by: key, label, unit words, and how a value is written."""

    key: str
    label: str
    signed: bool
    decimals: int
    suffix: str


MAP_MEASURES = (
    MapMeasure("rate", "Recorded offences per 1,000 residents", False, 1, ""),
    MapMeasure("change", "Change in recorded offences on the previous year", True, 1, "%"),
    MapMeasure("lockdown", "First full lockdown month against the same month before the pandemic", True, 1, "%"),
    MapMeasure("plan", "Recorded offences over the plan's years against the rest of London", True, 1, "%"),
)
PLAN_CHAPTER = "06_plan_period"


# An absolute path in an error's text: a slash not inside a word, a relative path or a URL's host, then names.
_ABSOLUTE = re.compile(r"(?<![\w.~/-])/(?:[^\s/'\"():;,]+/)*[^\s/'\"():;,]+")


def public_error(error: str, outputs: Path) -> str:
    """A failed borough's error as the London page (outputs/london/) shows it: no machine path. A path inside the
    outputs folder becomes relative to the page (`../failed/<run>-<stamp>`); any other absolute path is shown by
    its last name only (`…/hackney.yml`)."""
    error = re.sub(r"file://(?=/)", "", error, flags=re.IGNORECASE)
    for root in sorted(
        {os.fspath(outputs), os.path.realpath(outputs), os.path.abspath(outputs)}, key=len, reverse=True
    ):
        error = error.replace(root + os.sep, "../").replace(root, "..")
    return _ABSOLUTE.sub(lambda m: "…/" + m.group(0).rsplit("/", 1)[-1], error)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not math.isnan(float(value)) else None


def borough_values(outputs: Path, pack: BoroughPack) -> dict[str, float | None]:
    """A built pack's map measures (rate, change, lockdown) and INDEX_MEASURES rates; None where it gave none."""
    if not pack.built:
        return {}
    head = read_headlines(outputs / pack.name, "00_overview")
    values: dict[str, float | None] = {
        "offences": _number(head.get("total_offences")),
        "rank": _number(head.get("rank")),
        "rate": _number(head.get("rate_per_1000")),
        "change": _number(head.get("change_pct")),
        "lockdown": _number((head.get("lockdown") or {}).get("pct_change")),
        "plan": _plan_value(read_headlines(outputs / pack.name, PLAN_CHAPTER)),
    }
    for chapter, key, name, label in INDEX_MEASURES:
        m = (read_headlines(outputs / pack.name, chapter).get(key) or {}).get(name) or {}
        values[label] = None if m.get("small") else _number(m.get("rate"))
    return values


def _plan_value(plan: dict) -> float | None:
    """How much more (+) or less (-) all recorded crime changed in the borough over the plan than in the rest of
    London, in per cent: the ratio of the two rate ratios, less one (chapter 06)."""
    ratio = _number(((plan.get("measures") or {}).get("All recorded crime") or {}).get("ratio_of_ratios"))
    return None if ratio is None else 100 * (ratio - 1)


def plan_verdicts(outputs: Path, pack: BoroughPack) -> str:
    """Each priority's plan-period verdict relative to London (chapter 06), as one line; empty without it."""
    verdicts = read_headlines(outputs / pack.name, PLAN_CHAPTER).get("priorities") or {} if pack.built else {}
    return "; ".join(f"{priority}: {verdict}" for priority, verdict in verdicts.items())


def class_breaks(values: Sequence[float], classes: int = len(CLASS_COLOURS)) -> list[float]:
    """The upper bounds of `classes` classes of (near) equal count over `values` (the last is the maximum)."""
    ordered = sorted(values)
    if not ordered:
        return []
    return [ordered[min(len(ordered) - 1, math.ceil(len(ordered) * (i + 1) / classes) - 1)] for i in range(classes)]


def class_of(value: float, breaks: Sequence[float]) -> int:
    """The class (0-based) a value falls in: the first whose upper bound it does not exceed."""
    return next((i for i, upper in enumerate(breaks) if value <= upper), len(breaks) - 1)


def _written(value: float | None, measure: MapMeasure) -> str:
    if value is None:
        return "no value"
    text = f"{value:+,.{measure.decimals}f}" if measure.signed else f"{value:,.{measure.decimals}f}"
    return text.replace("-", "\u2212") + measure.suffix


def label(borough: str) -> str:
    """A tile's short label: the borough's first word, cut to six letters and a stop past seven
    ('Hammersmith and Fulham' -> 'Hammer.'), so that the squares stay legible."""
    word = borough.split()[0]
    return word if len(word) <= 7 else word[:6] + "."


def tile_map_svg(
    packs: Sequence[BoroughPack], values: dict[str, dict[str, float | None]]
) -> tuple[str, dict[str, list[float]]]:
    """The SVG tile map: each borough a square (linked to its pack when built), filled by the first measure's class,
    with every measure's class and value kept on the square for the chooser; also returns each measure's class
    breaks."""
    by_borough = {p.borough: p for p in packs}
    breaks = {
        m.key: class_breaks([x for v in values.values() if (x := v.get(m.key)) is not None]) for m in MAP_MEASURES
    }
    rows = 1 + max(r for r, _ in LONDON_SQUARES.values())
    cols = 1 + max(c for _, c in LONDON_SQUARES.values())
    width, height = 2 * MARGIN + cols * (TILE + GAP), 2 * MARGIN + rows * (TILE + GAP)
    tiles = []
    for borough, (r, c) in sorted(LONDON_SQUARES.items()):
        x, y = MARGIN + c * (TILE + GAP), MARGIN + r * (TILE + GAP)
        pack, own = by_borough.get(borough), values.get(borough, {})
        data, titles = [], []
        for m in MAP_MEASURES:
            v = own.get(m.key)
            cls = -1 if v is None else class_of(v, breaks[m.key])
            data.append(f'data-{m.key}="{cls}"')
            titles.append(f"{m.label}: {_written(v, m)}")
        first = int(data[0].split('"')[1])
        fill = NO_VALUE if first < 0 else CLASS_COLOURS[first]
        ink = "#ffffff" if first >= 3 else "#0b0c0c"
        status = "" if pack and pack.built else " (no pack built)"
        tile = (
            f'<g class="tile" {" ".join(data)}><title>{_e(borough)}{status}. {_e("; ".join(titles))}</title>'
            f'<rect x="{x}" y="{y}" width="{TILE}" height="{TILE}" rx="3" fill="{fill}" stroke="#ffffff"/>'
            f'<text x="{x + TILE / 2}" y="{y + TILE / 2 + 4}" text-anchor="middle" fill="{ink}">{_e(label(borough))}</text></g>'
        )
        if pack and pack.built:
            tile = f'<a href="../{_e(pack.name)}/site/index.html">{tile}</a>'
        tiles.append(tile)
    cx, cy = MARGIN + CITY_SQUARE[1] * (TILE + GAP), MARGIN + CITY_SQUARE[0] * (TILE + GAP)
    tiles.append(
        f'<g class="city"><title>City of London: its own police force, so no pack</title>'
        f'<rect x="{cx}" y="{cy}" width="{TILE}" height="{TILE}" rx="3" fill="#ffffff" stroke="#b1b4b6" '
        f'stroke-dasharray="4 3"/><text x="{cx + TILE / 2}" y="{cy + TILE / 2 + 4}" text-anchor="middle" '
        f'fill="#505a5f">City</text></g>'
    )
    return (
        f'<svg id="london-map" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" '
        'aria-labelledby="map-title map-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="map-title">Tile map of the 32 London boroughs</title>'
        '<desc id="map-desc">Each London borough is an equal square placed roughly where it lies, north at the top. '
        "Squares are shaded in five classes of the chosen measure, darker for higher values; the table below gives "
        "every value.</desc>"
        f"<style>text{{font:600 11px Arial,Helvetica,sans-serif;pointer-events:none}}</style>{''.join(tiles)}</svg>"
    ), breaks


def _legends(breaks: dict[str, list[float]]) -> str:
    """One legend per measure (only the chosen one shown): the colour of each class and the values it holds."""
    out = []
    for i, m in enumerate(MAP_MEASURES):
        items, lower = [], None
        for colour, upper in zip(CLASS_COLOURS, breaks[m.key], strict=False):
            span = f"up to {_written(upper, m)}" if lower is None else f"{_written(lower, m)} to {_written(upper, m)}"
            items.append(f'<li><span class="swatch" style="background:{colour}"></span>{_e(span)}</li>')
            lower = upper
        items.append(f'<li><span class="swatch" style="background:{NO_VALUE}"></span>no value or no pack</li>')
        hidden = "" if i == 0 else " hidden"
        out.append(
            f'<div class="legend" data-measure="{m.key}"{hidden}><p>{_e(m.label)}</p><ul>{"".join(items)}</ul></div>'
        )
    return "".join(out)


def london_csv(
    packs: Sequence[BoroughPack], values: dict[str, dict[str, float | None]], verdicts: dict[str, str] | None = None
) -> str:
    """The values behind the map and the table, one row per borough."""
    columns = ["offences", "rank", "rate", "change", "lockdown", "plan", *[label for *_, label in INDEX_MEASURES]]
    names = {
        "offences": "recorded_offences",
        "rank": "rank_of_32_by_offences",
        "rate": "offences_per_1000_residents",
        "change": "change_on_previous_year_pct",
        "lockdown": "first_lockdown_month_against_before_pct",
        "plan": "plan_period_offences_against_rest_of_london_pct",
    }
    verdicts = verdicts or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["borough", "pack", *[names.get(c, c) for c in columns], "plan_period_verdicts", "status"])
    for p in packs:
        v = values.get(p.borough, {})
        writer.writerow(
            [p.borough, f"../{p.name}/site/index.html" if p.built else "", *[_csv(v.get(c)) for c in columns]]
            + [verdicts.get(p.borough, ""), "built" if p.built else f"failed: {p.error[:300]}"]
        )
    return buffer.getvalue()


def _where_link(outputs: Path, pack: BoroughPack) -> str:
    """A link to the pack's "Where: areas of focus" chapter (its wards), when the pack has it."""
    if not read_headlines(outputs / pack.name, "00_where"):
        return ""
    return f'; <a href="../{_e(pack.name)}/site/00_where.html">wards: areas of focus</a>'


def _csv(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _cell(value: float | None, fmt: str) -> str:
    return f"<td>{fmt.format(value)}</td>" if value is not None else "<td></td>"


def london_page(outputs: Path, packs: Sequence[BoroughPack], theme: bool = False) -> tuple[str, str]:
    """The London page's HTML and the CSV behind it; `theme`: link the packs' theme (theme.css beside the page)."""
    packs = [dataclasses.replace(p, error=public_error(p.error, outputs)) for p in packs]
    values = {p.borough: borough_values(outputs, p) for p in packs}
    verdicts = {p.borough: plan_verdicts(outputs, p) for p in packs}
    svg, breaks = tile_map_svg(packs, values)
    built = [p for p in packs if p.built]
    year = next((read_headlines(outputs / p.name, "00_overview").get("headline_year") for p in built), "")
    month = next(
        ((read_headlines(outputs / p.name, "00_overview").get("lockdown") or {}).get("month") for p in built), None
    )
    strand_year = next((read_headlines(outputs / p.name, "02_hate_crime").get("strand_year") for p in built), None)
    special_year = next(
        (read_headlines(outputs / p.name, "04_violence_exploitation").get("special_year") for p in built), None
    )
    rows = []
    for p in packs:
        v = values[p.borough]
        name = _e(p.borough)
        link = f'<a href="../{_e(p.name)}/site/index.html">{name}</a>' if p.built else name
        if v:
            cells = (
                _cell(v["offences"], "{:,.0f}")
                + _cell(v["rank"], "{:.0f}")
                + _cell(v["rate"], "{:.1f}")
                + _cell(v["change"], "{:+.1f}%")
                + _cell(v["lockdown"], "{:+.1f}%")
                + _cell(v["plan"], "{:+.1f}%")
                + "".join(_cell(v[label], "{:.2f}") for *_, label in INDEX_MEASURES)
                + f"<td>{_e(verdicts[p.borough])}</td><td>built{_where_link(outputs, p)}</td>"
            )
        else:
            cells = f'<td colspan="{7 + len(INDEX_MEASURES)}"></td><td>{_e(("failed: " + p.error)[:300])}</td>'
        rows.append(f'<tr><th scope="row">{link}</th>{cells}</tr>')
    heads = [
        "Borough",
        "Offences",
        "Rank",
        "Per 1,000",
        "Change on previous year",
        "First lockdown month",
        "Plan period against the rest of London",
        *[label for *_, label in INDEX_MEASURES],
        "Plan period verdicts by priority",
        "Pack",
    ]
    head_cells = "".join(
        f'<th scope="col" aria-sort="none"><button type="button" data-column="{i}">{_e(h)}</button></th>'
        for i, h in enumerate(heads)
    )
    chooser = "".join(
        f'<label><input type="radio" name="measure" value="{m.key}"{" checked" if i == 0 else ""}> {_e(m.label)}</label>'
        for i, m in enumerate(MAP_MEASURES)
    )
    lockdown_words = (
        f"the first full lockdown month ({_e(month)}) against the same month of the {LOCKDOWN_BASELINE_YEARS} years before"
        if month
        else f"the first full lockdown month against the same month of the {LOCKDOWN_BASELINE_YEARS} years before"
    )
    theme_link = '<link rel="stylesheet" href="theme.css">' if theme else ""
    page = f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>London: Community Safety Partnership evidence packs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{theme_link}<link rel="stylesheet" href="styles.css">
<style>{LONDON_CSS}</style></head>
<body><main class="content container">
<h1>Community Safety Partnership evidence packs: London</h1>
<p>One pack per borough, built by csp-evidence from official open data. Choose a measure to colour the map; select a
borough to open its pack. Recorded offences are for {_e(year)} (Metropolitan Police); rates are per 1,000 residents
(ONS mid-year estimates); the lockdown measure compares {lockdown_words}. The plan-period measure is how much more
(+) or less (&minus;) all recorded crime changed over the CSP plan's years (chapter 6 of each pack: from the year before
the plan to its last year, in the crime series the pack's params choose) than in the rest of London; the verdicts
say, for each priority, whether the borough did better or worse than London beyond chance.</p>
<section aria-labelledby="map-heading"><h2 id="map-heading">Map</h2>
<fieldset class="chooser"><legend>Colour the map by</legend>{chooser}</fieldset>
<div class="map-wrap">{svg}{_legends(breaks)}</div>
<p><a href="{CSV_NAME}">Download the data for this map and table (CSV)</a></p></section>
<section aria-labelledby="table-heading"><h2 id="table-heading">Every borough</h2>
<p>Select a column heading to sort by it. Racist and religious hate crime ({_e(strand_year or year)}), domestic abuse
and knife crime ({_e(special_year or year)}) are offences the Metropolitan Police flag as such, per 1,000 residents; a
blank is a count under the small-number threshold or a chapter that gave none.</p>
<div class="csp-table-scroll" tabindex="0" role="region" aria-label="Evidence packs by borough">
<table id="boroughs" class="table table-sm csp-table"><caption>Evidence packs by borough</caption>
<thead><tr>{head_cells}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>
</main>
<script>{LONDON_JS}</script></body></html>
"""
    return page, london_csv(packs, values, verdicts)


LONDON_CSS = """
body { font-family: Arial, Helvetica, sans-serif; margin: 0; color: #0b0c0c; }
main.content { max-width: 72rem; margin: 0 auto; padding: 1.5rem 1rem; }
h1 { font-size: 1.8rem; } h2 { font-size: 1.35rem; margin-top: 1.5rem; }
.chooser { border: 0; padding: 0; margin: 0 0 .8rem; }
.chooser legend { font-weight: bold; font-size: 1rem; margin-bottom: .3rem; }
.chooser label { display: inline-block; margin-right: 1.2rem; }
.map-wrap { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
#london-map { max-width: 100%; height: auto; }
#london-map a:focus rect, #london-map a:hover rect { stroke: #ffdd00; stroke-width: 4; }
.legend p { font-weight: bold; margin: 0 0 .3rem; max-width: 16rem; }
.legend ul { list-style: none; padding: 0; margin: 0; }
.legend li { margin: .2rem 0; }
.swatch { display: inline-block; width: 1.1rem; height: 1.1rem; margin-right: .5rem; vertical-align: middle;
  border: 1px solid #b1b4b6; }
#boroughs { border-collapse: collapse; }
#boroughs th, #boroughs td { padding: .3rem .6rem; border-bottom: 1px solid #b1b4b6; text-align: left; }
#boroughs thead button { all: unset; cursor: pointer; font-weight: bold; color: #0a58ca; }
#boroughs thead button:focus { outline: 3px solid #ffdd00; }
#boroughs thead th[aria-sort="ascending"] button::after { content: " \\25B2"; }
#boroughs thead th[aria-sort="descending"] button::after { content: " \\25BC"; }
"""

# Switch the map's measure and sort the table; offline, no library.
LONDON_JS = f"""
(function () {{
  var colours = {list(CLASS_COLOURS)!r}, none = {NO_VALUE!r};
  function recolour(key) {{
    document.querySelectorAll('#london-map .tile').forEach(function (g) {{
      var c = parseInt(g.getAttribute('data-' + key), 10);
      g.querySelector('rect').setAttribute('fill', c < 0 ? none : colours[c]);
      g.querySelector('text').setAttribute('fill', c >= 3 ? '#ffffff' : '#0b0c0c');
    }});
    document.querySelectorAll('.legend').forEach(function (l) {{
      l.hidden = l.getAttribute('data-measure') !== key;
    }});
  }}
  document.querySelectorAll('input[name="measure"]').forEach(function (input) {{
    input.addEventListener('change', function () {{ recolour(input.value); }});
  }});
  function value(row, i) {{
    var cell = row.cells.length === row.parentNode.parentNode.tHead.rows[0].cells.length ? row.cells[i] : null;
    if (i === 0) cell = row.cells[0];
    if (!cell) return null;
    var text = cell.textContent.trim();
    var n = parseFloat(text.replace(/[,%+]/g, '').replace('\\u2212', '-'));
    return text === '' ? null : (isNaN(n) ? text.toLowerCase() : n);
  }}
  document.querySelectorAll('#boroughs thead button').forEach(function (button) {{
    button.addEventListener('click', function () {{
      var i = parseInt(button.getAttribute('data-column'), 10), th = button.parentNode;
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      document.querySelectorAll('#boroughs thead th').forEach(function (h) {{ h.setAttribute('aria-sort', 'none'); }});
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var body = document.querySelector('#boroughs tbody');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {{
        var x = value(a, i), y = value(b, i);
        if (x === null) return 1;
        if (y === null) return -1;
        var order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      }});
      rows.forEach(function (r) {{ body.appendChild(r); }});
    }});
  }});
}})();
"""
