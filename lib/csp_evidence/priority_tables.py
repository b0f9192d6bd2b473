"""The tables and sentences of a priority chapter: each measure's change, London comparison and Covid effect.

``priority_table`` puts side by side, for each measure of a priority (``priorities.NEIGHBOURHOOD``,
``priorities.VIOLENCE``): the headline financial year against the year before and the first pandemic year
against the year before (``summaries.measure_table``: Poisson exact test and Z-score), the rate per 1,000 and
rank of 32 in both years, and the first pandemic year against its counterfactual (``covid.covid_effects``).

The small-number rule: a safeguarding measure with fewer than `threshold` offences in any year shown is
flagged (``small``), is not modelled, and is never charted (``chartable`` is False).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from . import covid
from . import findings as f
from .periods import previous_financial_year
from .priorities import Measure, measure_rows
from .readers.mps import AIRPORTS
from .stats import timeseries as ts
from .stats.change import compare_counts, financial_year_totals
from .summaries import measure_table, monthly_series

_CHANGE = ["previous", "count", "change", "pct_change", "p_value", "significant", "z_score", "signal", "rate",
           "london_rate", "rank", "ranked"]
_COVID = ["observed", "expected", "lower", "upper", "outside", "pct_difference", "lockdown_observed",
          "lockdown_expected", "lockdown_outside", "its_level_ratio", "its_low", "its_high", "model", "note"]

# Drug operations a borough's CSP plan names, whose enforcement should show in recorded drug offences.
PLAN_DRUG_OPERATIONS = {"Tower Hamlets": "Operation Continuum"}

# Plan figures (data/plan/*.csv figure_id) that quote a change in one of the measures: figure_id -> measure name.
PLAN_CHANGE_FIGURES = {
    "violence_change": "Violence against the person",
    "sexual_offences_change": "Sexual offences",
    "sexual_offences_change_2020_21": "Sexual offences",
    "knife_possession_change_2020_21": "Knife and blade possession",
}


def priority_table(crime: pd.DataFrame, borough: str, measures: Sequence[Measure], headline_year: str,
                   covid_start: str, threshold: int) -> tuple[pd.DataFrame, dict[str, ts.Counterfactual]]:
    """One row per measure: headline year and first pandemic year each against the year before, and the Covid effect.

    Columns: measure, safeguarding, small, chartable; the measure_table columns (previous, count, change,
    pct_change, p_value, significant, z_score, signal, rate, london_rate, rank, ranked) for `headline_year`;
    the same prefixed 'pandemic_' for the first pandemic year; and the covid_effects columns (observed, expected,
    lower, upper, outside, pct_difference, lockdown_*, its_*, model, note). Small safeguarding measures are not
    fitted. Also returns the fitted counterfactuals by measure name.
    """
    year = covid.first_pandemic_year(covid_start)
    head = measure_table(crime, borough, headline_year, measures, threshold).set_index("measure")
    pandemic = measure_table(crime, borough, year, measures, threshold).set_index("measure")
    table = pd.DataFrame({"measure": [m.name for m in measures],
                          "safeguarding": [m.safeguarding for m in measures]}).set_index("measure")
    table["small"] = head["small"] | pandemic["small"]
    table = table.join(head[_CHANGE]).join(pandemic[_CHANGE].add_prefix("pandemic_"))
    modelled = [m for m in measures if not table.loc[m.name, "small"]]
    effects, fits = covid.covid_effects(crime, borough, modelled, covid_start) if modelled else (pd.DataFrame(), {})
    effects = effects.reindex(columns=["measure", "year", *_COVID]).set_index("measure")
    table = table.join(effects[_COVID])
    table["year"] = year
    table.loc[table["small"], "note"] = (f"not modelled or charted: a safeguarding measure with fewer than "
                                         f"{threshold} offences in a year")
    table["chartable"] = ~table["small"] & table.index.isin(list(fits))
    return table.reset_index(), fits


def london_change(crime: pd.DataFrame, measure: Measure, year: str) -> dict:
    """London's (32 boroughs, airports excluded) count in `year` and the year before, with the change in per cent."""
    totals = financial_year_totals(measure_rows(crime, measure), by=("borough",))
    totals = totals[totals["borough"] != AIRPORTS].groupby("financial_year")["count"].sum()
    current, previous = int(totals.get(year, 0)), int(totals.get(previous_financial_year(year), 0))
    change = compare_counts(previous, current)
    return {"previous": previous, "count": current, "pct_change": change.pct_change}


def _change_words(row: pd.Series, prefix: str, year: str) -> str:
    prev, count, pct = row[f"{prefix}previous"], row[f"{prefix}count"], row[f"{prefix}pct_change"]
    verdict = "beyond chance" if row[f"{prefix}significant"] else "within chance"
    return (f"{f.number(count)} in {year} against {f.number(prev)} in {previous_financial_year(year)} "
            f"({f.pct(pct)}, {verdict}, {f.p_value(row[f'{prefix}p_value'])})")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def measure_findings(table: pd.DataFrame, borough: str, headline_year: str) -> str:
    """A Markdown bullet per measure: both year-on-year changes, the rate against London and the Covid effect."""
    bullets = []
    for _, row in table.iterrows():
        year = row["year"]
        if row["small"]:
            bullets.append(f"- **{f.md(row['measure'])}**: fewer than the small-number threshold in at least one "
                           f"year ({f.number(row['previous'])}, {f.number(row['count'])} and "
                           f"{f.number(row['pandemic_count'])} in {previous_financial_year(headline_year)}, "
                           f"{headline_year} and {year}); counts this small are not tested, modelled or charted.")
            continue
        london = "above" if row["rate"] > row["london_rate"] else "below"
        bullets.append(
            f"- **{f.md(row['measure'])}**: {_change_words(row, '', headline_year)}; "
            f"{_change_words(row, 'pandemic_', year)}. In {headline_year} {f.md(borough)} recorded "
            f"{row['rate']:.2f} per 1,000 residents, {london} London's {row['london_rate']:.2f}, the "
            f"{f.ordinal(int(row['rank']))} highest of {int(row['ranked'])} boroughs. "
            + _capital(covid.covid_sentence(row).split(": ", 1)[1]))
    return "\n".join(bullets)


def outside_sentence(table: pd.DataFrame, measure: str) -> str:
    """Whether the first pandemic year of `measure` lay outside its counterfactual interval, with the counts."""
    row = table.set_index("measure").loc[measure]
    if pd.isna(row.get("observed")):
        return f"{f.md(measure)} in {row['year']} was not modelled ({row['note']})."
    where = {"above": "above", "below": "below", "within": "inside"}[row["outside"]]
    outside = "outside" if row["outside"] != "within" else "not outside"
    return (f"{f.md(measure)} in {row['year']} was {outside} the counterfactual interval: {f.number(row['observed'])} "
            f"offences were recorded against {f.number(row['expected'])} expected, {where} the 95% interval of "
            f"{f.number(row['lower'])} to {f.number(row['upper'])}.")


def covid_figures(table: pd.DataFrame, measure: str) -> dict:
    """The first pandemic year of one measure for the headline JSON: observed, expected, interval, outside."""
    row = table.set_index("measure").loc[measure]
    keys = ["year", "observed", "expected", "lower", "upper", "outside", "pct_difference", "note"]
    return {k: (None if pd.isna(row.get(k)) else row.get(k)) for k in keys}


def counterfactual_frame(crime: pd.DataFrame, borough: str, measure: Measure, fits: dict[str, ts.Counterfactual],
                         since: str = "2017-04-01") -> pd.DataFrame:
    """Observed monthly counts of a measure from `since`, with the expected counts and 95% interval (chart data)."""
    series = monthly_series(measure_rows(crime, measure), borough)
    return covid.counterfactual_chart_data(fits[measure.name], series, since)


def counterfactual_title(table: pd.DataFrame, measure: str) -> str:
    """A chart title that states the finding: '<measure> in 2020/21 was 193% above the expected level'."""
    row = table.set_index("measure").loc[measure]
    if row["outside"] == "within":
        return f"{measure} in {row['year']} stayed within the range expected without the pandemic"
    word = "above" if row["outside"] == "above" else "below"
    return f"{measure} in {row['year']} was {abs(row['pct_difference']):.0f}% {word} the level expected without the pandemic"


def drug_enforcement_sentence(crime: pd.DataFrame, table: pd.DataFrame, borough: str, measures: Sequence[Measure],
                              headline_year: str) -> str:
    """What recorded drug trafficking and possession show about enforcement, set against London and the plan's operation."""
    year = table["year"].iloc[0]
    by_name = {m.name: m for m in measures}
    rows = table.set_index("measure")
    parts = []
    for name in ("Drug trafficking", "Possession of drugs"):
        if name not in rows.index:
            continue
        row, london = rows.loc[name], london_change(crime, by_name[name], year)
        parts.append(
            f"{f.md(name).lower()} {'rose' if row['pandemic_change'] > 0 else 'fell'} {f.pct(row['pandemic_pct_change'])} "
            f"in {year} ({f.number(row['pandemic_previous'])} to {f.number(row['pandemic_count'])}, "
            f"{'beyond' if row['pandemic_significant'] else 'within'} chance) against {f.pct(london['pct_change'])} "
            f"across London, after {f.pct(row['pct_change'])} in {headline_year}; it ranked "
            f"{f.ordinal(int(row['pandemic_rank']))} of {int(row['pandemic_ranked'])} boroughs per resident in {year}")
    if not parts:
        return ""
    operation = PLAN_DRUG_OPERATIONS.get(borough)
    lead = (f"The CSP plan credits {operation} with police enforcement against drug dealing, which would show as "
            f"a rise in recorded drug trafficking and possession. " if operation else "")
    return (lead + "In the data, " + "; ".join(parts) + ". Recorded drug offences count police activity (stop and "
            "search, proactive operations) more than drug markets: a rise well beyond London's, outside the "
            "counterfactual interval, is consistent with stepped-up local enforcement, though lockdown policing "
            "raised drug offences across London too, so the data cannot separate one operation's effect.")


def _plan_year(period: str) -> str | None:
    match = re.fullmatch(r"\s*(\d{4}/\d{2}) on (\d{4}/\d{2})\s*", str(period))
    return match.group(1) if match and previous_financial_year(match.group(1)) == match.group(2) else None


def plan_change_comparisons(crime: pd.DataFrame, borough: str, measures: Sequence[Measure], plan: pd.DataFrame,
                            threshold: int = 0) -> pd.DataFrame:
    """Each change a borough's plan quotes for a measure, beside the change recomputed from the data.

    `plan` is ``plan.plan_figures(borough)``; only PLAN_CHANGE_FIGURES whose period reads 'YYYY/YY on YYYY/YY'
    are compared. Columns: figure_id, measure, year, plan_pct, previous, count, pct_change, p_value,
    significant, plan_section, plan_quote (empty when the plan quotes none).
    """
    by_name = {m.name: m for m in measures}
    rows = []
    for figure_id, name in PLAN_CHANGE_FIGURES.items():
        if figure_id not in plan.index or name not in by_name:
            continue
        quoted = plan.loc[figure_id]
        year = _plan_year(quoted["period"])
        if year is None:
            continue
        data = measure_table(crime, borough, year, [by_name[name]], threshold).iloc[0]
        rows.append({"figure_id": figure_id, "measure": name, "year": year, "plan_pct": float(quoted["plan_value"]),
                     "previous": int(data["previous"]), "count": int(data["count"]),
                     "pct_change": float(data["pct_change"]), "p_value": float(data["p_value"]),
                     "significant": bool(data["significant"]), "plan_section": quoted["plan_section"],
                     "plan_quote": quoted["plan_quote"]})
    columns = ["figure_id", "measure", "year", "plan_pct", "previous", "count", "pct_change", "p_value",
               "significant", "plan_section", "plan_quote"]
    return pd.DataFrame(rows, columns=columns)


def plan_change_sentences(comparisons: pd.DataFrame) -> str:
    """'The plan says violence fell 3 per cent in 2019/20; the data give 8,799 to 8,560, -2.7% (...)' per figure."""
    out = []
    for r in comparisons.itertuples():
        plan_dir = "a decrease" if r.plan_pct < 0 else "an increase"
        agree = ("in the same direction and within a point of it" if (r.plan_pct < 0) == (r.pct_change < 0)
                 and abs(r.plan_pct - r.pct_change) <= 1 else
                 "in the same direction" if (r.plan_pct < 0) == (r.pct_change < 0) else "in the opposite direction")
        out.append(
            f"The CSP plan ({f.md(r.plan_section)}) reports {plan_dir} of {abs(r.plan_pct):g} per cent for "
            f"{f.md(r.measure).lower()} in {r.year} on the year before; the data give {f.number(r.previous)} "
            f"in {previous_financial_year(r.year)} and {f.number(r.count)} in {r.year}, {f.pct(r.pct_change)}, "
            f"{agree} (a change {'beyond' if r.significant else 'within'} chance, {f.p_value(r.p_value)}). "
            "The plan's figures came from an earlier extract and may use a different definition.")
    return " ".join(out)


def change_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The year-on-year table for display: both years' counts, changes and p-values, one row per measure."""
    return table[["measure", "previous", "count", "pct_change", "p_value", "signal", "pandemic_count",
                  "pandemic_pct_change", "pandemic_p_value", "pandemic_signal"]]


def london_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Rate per 1,000, London's rate and rank of 32, in the headline and first pandemic years."""
    return table[["measure", "rate", "london_rate", "rank", "pandemic_rate", "pandemic_london_rate", "pandemic_rank"]]


def london_index(table: pd.DataFrame) -> pd.DataFrame:
    """The chartable measures' rate relative to London's (London = 100) in the headline year, for the comparison chart."""
    rows = table[~table["small"]].set_index("measure")
    out = rows[["rate", "london_rate", "rank", "ranked"]].copy()
    out["index"] = 100 * out["rate"] / out["london_rate"]
    return out


def covid_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The Covid table for display: first pandemic year observed, expected, interval, difference and verdict."""
    return table[["measure", "observed", "expected", "lower", "upper", "pct_difference", "outside",
                  "lockdown_observed", "lockdown_expected", "its_level_ratio", "note"]]
