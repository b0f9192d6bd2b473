"""The sentences of a priority chapter (01 and 04): each measure's findings, the Covid effect in words, chart
titles that state the finding, and the key points both chapters make from ``analysis.priority_table``'s table."""

from __future__ import annotations

import pandas as pd

from csp_evidence.analysis.priority_table import COUNTS_ONLY_NOTE, london_index
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.report import sentences
from csp_evidence.report import words as f
from csp_evidence.report.key_points import KeyPoint, section_id


def _change_words(row: pd.Series, prefix: str, year: str) -> str:
    prev, count, pct = row[f"{prefix}previous"], row[f"{prefix}count"], row[f"{prefix}pct_change"]
    verdict = "beyond chance" if row[f"{prefix}significant"] else "within chance"
    return (
        f"{f.number(count)} in {year} against {f.number(prev)} in {previous_financial_year(year)} "
        f"({f.pct(pct)}, {verdict}, {f.p_value(row[f'{prefix}p_value'])})"
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def measure_findings(table: pd.DataFrame, borough: str, headline_year: str) -> str:
    """A Markdown bullet per measure: both year-on-year changes, the rate against London and the Covid effect."""
    bullets = []
    for _, row in table.iterrows():
        year = row["year"]
        if row.get("counts_only", False):
            counts = (
                f"{f.number(row['previous'])} and {f.number(row['count'])} in {previous_financial_year(headline_year)} "
                f"and {headline_year}"
                if year == headline_year
                else f"{f.number(row['previous'])}, {f.number(row['count'])} and {f.number(row['pandemic_count'])} in "
                f"{previous_financial_year(headline_year)}, {headline_year} and {year}"
            )
            bullets.append(f"- **{f.md(row['measure'])}**: {counts}; {COUNTS_ONLY_NOTE}.")
            continue
        if row["small"]:
            bullets.append(
                f"- **{f.md(row['measure'])}**: fewer than the small-number threshold in at least one "
                f"year ({f.number(row['previous'])}, {f.number(row['count'])} and "
                f"{f.number(row['pandemic_count'])} in {previous_financial_year(headline_year)}, "
                f"{headline_year} and {year}); counts this small are not tested, modelled or charted."
            )
            continue
        london = "above" if row["rate"] > row["london_rate"] else "below"
        bullets.append(
            f"- **{f.md(row['measure'])}**: {_change_words(row, '', headline_year)}"
            + ("" if year == headline_year else f"; {_change_words(row, 'pandemic_', year)}")
            + f". In {headline_year} {f.md(borough)} recorded "
            f"{row['rate']:.2f} per 1,000 residents, {london} London's {row['london_rate']:.2f}, the "
            f"{f.ordinal(int(row['rate_rank']))} highest rate of {int(row['ranked'])} boroughs. "
            + _capital(sentences.covid_sentence(row).split(": ", 1)[1])
        )
    return "\n".join(bullets)


def outside_sentence(table: pd.DataFrame, measure: str) -> str:
    """Whether the first pandemic year of `measure` lay outside its counterfactual interval, with the counts."""
    row = table.set_index("measure").loc[measure]
    if pd.isna(row.get("observed")):
        return f"{f.md(measure)} in {row['year']} was not modelled ({row['note']})."
    where = f.interval_words(row["outside"], "inside")
    outside = "outside" if row["outside"] != "within" else "not outside"
    return (
        f"{f.md(measure)} in {row['year']} was {outside} the counterfactual interval: {f.number(row['observed'])} "
        f"offences were recorded against {f.number(row['expected'])} expected, {where} the 95% interval of "
        f"{f.number(row['lower'])} to {f.number(row['upper'])}."
    )


def counterfactual_title(table: pd.DataFrame, measure: str) -> str:
    """A chart title that states the finding: '<measure> in 2020/21 was 193% above the expected level'."""
    row = table.set_index("measure").loc[measure]
    if row["outside"] == "within":
        return f"{measure} in {row['year']} stayed within the range expected without the pandemic"
    word = "above" if row["outside"] == "above" else "below"
    return f"{measure} in {row['year']} was {abs(row['pct_difference']):.0f}% {word} the level expected without the pandemic"


def panel_title(table: pd.DataFrame) -> str:
    """'6 of 8 measures in 2020/21 lay outside the range expected without the pandemic'."""
    fitted = table[table["chartable"]]
    outside = int((fitted["outside"] != "within").sum())
    return (
        f"{outside} of {len(fitted)} measures in {table['year'].iloc[0]} lay outside the range expected "
        "without the pandemic"
    )


def verb_of(change: float) -> str:
    """'rose', 'fell' or 'was unchanged' for a change."""
    return "rose" if change > 0 else "fell" if change < 0 else "was unchanged"


def period_words(row: pd.Series) -> str:
    where = f.interval_words(row["outside"])
    return (
        f"{f.number(row['observed'])} recorded against {f.number(row['expected'])} expected (95% interval "
        f"{f.number(row['lower'])} to {f.number(row['upper'])}, {f.pct(row['pct_difference'])}: {where} the range)"
    )


PRIORITY_SECTIONS = {
    "change": "Change on the previous year",
    "london": "London comparison",
    "covid": "The Covid-19 pandemic: observed against expected",
}


def point(text: str, heading: str) -> KeyPoint:
    return KeyPoint(text, section_id(heading))


def london_point(table: pd.DataFrame, borough: str, year: str, what: str) -> KeyPoint:
    """'<borough> had a higher rate than London on 7 of 8 <what> in <year>, furthest above on X (47% higher).'"""
    index = london_index(table)
    above = index[index["index"] > 100]
    text = f"In {year} {borough} had a higher rate than London on {len(above)} of {len(index)} {what}"
    if len(above):
        top = above["index"].idxmax()
        text += f", furthest above on {top.lower()} ({above.loc[top, 'index'] - 100:.0f}% higher)"
    elif len(index):
        low = index["index"].idxmin()
        text += f"; furthest below on {low.lower()} ({100 - index.loc[low, 'index']:.0f}% lower)"
    return point(text + ".", PRIORITY_SECTIONS["london"])


def change_point(table: pd.DataFrame, year: str, what: str) -> KeyPoint:
    """Which measures changed beyond chance on the year before (small safeguarding counts are not tested)."""
    tested = table[~table["small"] & table["pct_change"].notna()]
    beyond = tested[tested["significant"].astype(bool)].sort_values("pct_change", ascending=False)
    if beyond.empty:
        text = f"None of the {len(tested)} {what} changed by more than normal year-to-year variation in {year}."
    else:
        named = [f"{str(r.measure).lower()} {f.moved(r.pct_change)}" for r in beyond.itertuples()]
        text = f"In {year}, {len(beyond)} of {len(tested)} {what} changed by more than normal variation: {f.listing(named)}."
    return point(text, PRIORITY_SECTIONS["change"])


def covid_point(table: pd.DataFrame, what: str) -> KeyPoint:
    """How many modelled measures lay below and above their expected level in the first pandemic year."""
    fitted = table[table["chartable"]]
    year = table["year"].iloc[0]
    below, above = fitted[fitted["outside"] == "below"], fitted[fitted["outside"] == "above"]
    text = (
        f"In {year}, the first pandemic year, {len(below)} of {len(fitted)} {what} were below the level expected "
        f"without the pandemic and {len(above) or 'none'} above it"
    )
    if len(above):
        top = above.sort_values("pct_difference").iloc[-1]
        text += (
            f"; furthest above: {str(top['measure']).lower()}, {f.number(top['observed'])} against "
            f"{f.number(top['expected'])} expected"
        )
    return point(text + ".", PRIORITY_SECTIONS["covid"])


def method_sentence(covid_start: str, year: str, modelled_only: bool = False) -> str:
    """How the expected counts of the Covid section are made; `modelled_only` when small measures are not modelled."""
    which = "each measure with enough offences" if modelled_only else "each measure"
    return (
        f"For {which}, a seasonal ARIMA model fitted to the five years before {covid_start} "
        f"gives the count expected in {year} had the pre-pandemic pattern continued, with a 95% prediction "
        "interval (the method of Langton, Dixon & Farrell 2021). "
    )


def not_charted_sentence(table: pd.DataFrame) -> str:
    """'Not charted: homicide (counts only: ...).' for the measures too small to chart; empty when all are charted."""
    left_out = table[~table["chartable"]]
    if left_out.empty:
        return ""
    return "Not charted: " + "; ".join(f"{f.md(r.measure)} ({r.note})" for r in left_out.itertuples()) + "."
