"""The numbers of a priority chapter: each measure's change, rate against London and Covid effect, side by side.

``priority_table`` puts side by side, for each measure of a priority (``priorities.NEIGHBOURHOOD``,
``priorities.VIOLENCE``): the headline financial year against the year before and the first pandemic year
against the year before (``summaries.measure_table``: Poisson exact test and Z-score), the rate per 1,000 and
rank of 32 in both years, and the first pandemic year against its counterfactual (``covid.covid_effects``).
The same functions serve the flagged measures of the hate and special crime file (``priorities.SPECIAL``:
domestic abuse, knife and gun crime, homicide); ``lockdown_periods`` sets a measure against its expected level
in each lockdown. The views of the table for display (``change_columns``, ``london_columns``, ``covid_columns``,
``london_index``) and for the charts (``counterfactual_frame``, ``counterfactual_panel_data``) are here too; the
sentences are ``report.priority_words``', the published tables and charts ``report.priority_tables``'.

The small-number rule: a safeguarding measure with fewer than `threshold` offences in any year shown is
flagged (``small``), is not modelled, and is never charted (``chartable`` is False); a counts-only measure
(homicide) is always so.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis import covid
from csp_evidence.analysis.priorities import Measure, measure_rows
from csp_evidence.analysis.stats import timeseries as ts
from csp_evidence.analysis.stats.change import compare_counts, financial_year_totals
from csp_evidence.analysis.summaries import london_total, measure_table, monthly_series
from csp_evidence.core.periods import previous_financial_year

_CHANGE = [
    "previous",
    "count",
    "change",
    "pct_change",
    "p_value",
    "significant",
    "z_score",
    "signal",
    "rate",
    "london_rate",
    "rank",
    "rate_rank",
    "ranked",
]


# A measure's change on the year before and its rate against London's, as a chapter's headline figures keep them.
CHANGE_FIGURES = (
    "previous",
    "count",
    "pct_change",
    "p_value",
    "significant",
    "rate",
    "london_rate",
)
INTERVAL = ["observed", "expected", "lower", "upper", "outside", "pct_difference"]  # a count against its expected level
_COVID = [
    *INTERVAL,
    "lockdown_observed",
    "lockdown_expected",
    "lockdown_outside",
    "its_level_ratio",
    "its_low",
    "its_high",
    "model",
    "note",
]


COUNTS_ONLY_NOTE = "counts only: too few offences in any borough to test, rank by rate or model"


def priority_table(
    crime: pd.DataFrame, borough: str, measures: Sequence[Measure], headline_year: str, covid_start: str, threshold: int
) -> tuple[pd.DataFrame, dict[str, ts.Counterfactual]]:
    """One row per measure: headline year and first pandemic year each against the year before, and the Covid effect.

    Columns: measure, safeguarding, counts_only, small, chartable; the measure_table columns (previous, count, change,
    pct_change, p_value, significant, z_score, signal, rate, london_rate, rank, ranked) for `headline_year`;
    the same prefixed 'pandemic_' for the first pandemic year; and the covid_effects columns (observed, expected,
    lower, upper, outside, pct_difference, lockdown_*, its_*, model, note). Small safeguarding measures are not
    fitted. Also returns the fitted counterfactuals by measure name.
    """
    year = covid.first_pandemic_year(covid_start)
    head = measure_table(crime, borough, headline_year, measures, threshold).set_index("measure")
    pandemic = measure_table(crime, borough, year, measures, threshold).set_index("measure")
    table = pd.DataFrame(
        {
            "measure": [m.name for m in measures],
            "safeguarding": [m.safeguarding for m in measures],
            "counts_only": [m.counts_only for m in measures],
        }
    ).set_index("measure")
    table["small"] = head["small"] | pandemic["small"]
    table = table.join(head[_CHANGE]).join(pandemic[_CHANGE].add_prefix("pandemic_"))
    modelled = [m for m in measures if not table.loc[m.name, "small"]]
    effects, fits = covid.covid_effects(crime, borough, modelled, covid_start) if modelled else (pd.DataFrame(), {})
    effects = effects.reindex(columns=["measure", "year", *_COVID]).set_index("measure")
    table = table.join(effects[_COVID])
    table["year"] = year
    table.loc[table["small"], "note"] = (
        f"not modelled or charted: a safeguarding measure with fewer than {threshold} offences in a year"
    )
    table.loc[table["counts_only"], "note"] = COUNTS_ONLY_NOTE
    table["chartable"] = ~table["small"] & table.index.isin(list(fits))
    return table.reset_index(), fits


def london_change(crime: pd.DataFrame, measure: Measure, year: str) -> dict:
    """London's (32 boroughs, airports excluded) count in `year` and the year before, with the change in per cent."""
    totals = financial_year_totals(measure_rows(crime, measure), by=("borough",)).set_index("borough")
    by_year = {fy: london_total(group["count"]) for fy, group in totals.groupby("financial_year")}
    current, previous = by_year.get(year, 0), by_year.get(previous_financial_year(year), 0)
    change = compare_counts(previous, current)
    return {"previous": previous, "count": current, "pct_change": change.pct_change}


def covid_figures(table: pd.DataFrame, measure: str) -> dict:
    """The first pandemic year of one measure for the headline JSON: observed, expected, interval, outside."""
    row = table.set_index("measure").loc[measure]
    keys = ["year", "observed", "expected", "lower", "upper", "outside", "pct_difference", "note"]
    return {k: (None if pd.isna(row.get(k)) else row.get(k)) for k in keys}


def measure_figures(table: pd.DataFrame, keys: Sequence[str]) -> dict[str, dict]:
    """Each measure's figures `keys` of `table` (priority_table's), with its first pandemic year (``covid``)."""
    return {
        r["measure"]: {k: r[k] for k in keys} | {"covid": covid_figures(table, r["measure"])}
        for _, r in table.iterrows()
    }


def counterfactual_frame(
    crime: pd.DataFrame, borough: str, measure: Measure, fits: dict[str, ts.Counterfactual], since: str = "2017-04-01"
) -> pd.DataFrame:
    """Observed monthly counts of a measure from `since`, with the expected counts and 95% interval (chart data)."""
    series = monthly_series(measure_rows(crime, measure), borough)
    return covid.counterfactual_chart_data(fits[measure.name], series, since)


def change_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The year-on-year table for display: both years' counts, changes and p-values, one row per measure.

    Small safeguarding measures keep their counts but show no change, test or signal (they are not tested).
    """
    out = table[
        [
            "measure",
            "previous",
            "count",
            "pct_change",
            "p_value",
            "signal",
            "pandemic_count",
            "pandemic_pct_change",
            "pandemic_p_value",
            "pandemic_signal",
        ]
    ].astype(object)
    tested = ["pct_change", "p_value", "signal", "pandemic_pct_change", "pandemic_p_value", "pandemic_signal"]
    out.loc[table["small"].to_numpy(), tested] = float("nan")
    return out


def london_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Rate per 1,000, London's rate and the rank of 32 by rate, in the headline and first pandemic years."""
    columns = [
        "measure",
        "rate",
        "london_rate",
        "rate_rank",
        "pandemic_rate",
        "pandemic_london_rate",
        "pandemic_rate_rank",
    ]
    return table[columns].rename(columns={"rate_rank": "rank", "pandemic_rate_rank": "pandemic_rank"})


def london_index(table: pd.DataFrame) -> pd.DataFrame:
    """The chartable measures' rate relative to London's (London = 100) in the headline year, for the comparison chart."""
    rows = table[~table["small"]].set_index("measure")
    out = rows[["rate", "london_rate", "rate_rank", "ranked"]].rename(columns={"rate_rank": "rank"})
    out["index"] = 100 * out["rate"] / out["london_rate"]
    return out


def covid_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The Covid table for display: first pandemic year observed, expected, interval, difference and verdict."""
    return table[
        [
            "measure",
            "observed",
            "expected",
            "lower",
            "upper",
            "pct_difference",
            "outside",
            "lockdown_observed",
            "lockdown_expected",
            "its_level_ratio",
            "note",
        ]
    ]


def counterfactual_panel_data(
    crime: pd.DataFrame,
    borough: str,
    measures: Sequence[Measure],
    table: pd.DataFrame,
    fits: dict[str, ts.Counterfactual],
    since: str = "2017-04-01",
) -> dict[str, pd.DataFrame]:
    """Chart data of every chartable measure (observed, expected, lower, upper by month), in the priority's order."""
    chartable = set(table.loc[table["chartable"], "measure"])
    return {m.name: counterfactual_frame(crime, borough, m, fits, since) for m in measures if m.name in chartable}


def long_panel_data(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The small-multiple data as one long table (measure, month, observed, expected, lower, upper) for the CSV."""
    return pd.concat({k: v for k, v in frames.items()}, names=["measure", "month"])


LOCKDOWN_PERIODS = ("First lockdown", "Between lockdowns", "Second and third lockdowns")


_PERIOD_COLUMNS = [
    "area",
    "measure",
    "period",
    "months",
    *INTERVAL,
]


def lockdown_periods(
    fits: dict[str, ts.Counterfactual], measures: Sequence[str], area: str, london: ts.Counterfactual | None = None
) -> pd.DataFrame:
    """Observed against expected, with the simulated 95% interval, in each Covid period and the first pandemic year,
    for each fitted measure of `measures` in `area` (and, given `london`, the first of them in London as a whole).

    Columns: area, measure, period ('First lockdown', 'Between lockdowns', 'Second and third lockdowns',
    'Financial year YYYY/YY'), months ('2020-03 to 2020-06'), observed, expected, lower, upper, outside, pct_difference.
    """
    frames = []
    fitted = [(area, m, fits[m]) for m in measures if m in fits]
    if london is not None and measures:
        fitted.append(("London", measures[0], london))
    for where, name, cf in fitted:
        periods = cf.periods[
            cf.periods["period"].isin(LOCKDOWN_PERIODS) | cf.periods["period"].str.startswith("Financial")
        ]
        frame = periods.assign(
            area=where,
            measure=name,
            months=[_months_words(a, b) for a, b in zip(periods["start"], periods["end"], strict=True)],
        )
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=_PERIOD_COLUMNS)
    return pd.concat(frames, ignore_index=True)[_PERIOD_COLUMNS]


def _months_words(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """'March to June 2020', 'November 2020 to March 2021'."""
    return f"{start:%B} to {end:%B %Y}" if start.year == end.year else f"{start:%B %Y} to {end:%B %Y}"
