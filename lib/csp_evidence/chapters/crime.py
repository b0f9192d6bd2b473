"""The tables and sentences of a priority chapter: each measure's change, London comparison and Covid effect.

``priority_table`` puts side by side, for each measure of a priority (``priorities.NEIGHBOURHOOD``,
``priorities.VIOLENCE``): the headline financial year against the year before and the first pandemic year
against the year before (``summaries.measure_table``: Poisson exact test and Z-score), the rate per 1,000 and
rank of 32 in both years, and the first pandemic year against its counterfactual (``covid.covid_effects``).

The same functions serve the flagged measures of the hate and special crime file (``priorities.SPECIAL``:
domestic abuse, knife and gun crime, homicide); ``lockdown_periods`` and ``domestic_abuse_answer`` set domestic
abuse against its expected level in each lockdown.

The small-number rule: a safeguarding measure with fewer than `threshold` offences in any year shown is
flagged (``small``), is not modelled, and is never charted (``chartable`` is False); a counts-only measure
(homicide) is always so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis import covid
from csp_evidence.analysis.priorities import Measure, measure_rows
from csp_evidence.analysis.stats import timeseries as ts
from csp_evidence.analysis.stats.change import compare_counts, financial_year_totals
from csp_evidence.analysis.summaries import london_rates, london_total, measure_table, monthly_series
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.data.plan import drug_operation
from csp_evidence.report import charts, sentences
from csp_evidence.report import words as f
from csp_evidence.report.headlines import NeighbourhoodHeadlines, OverviewHeadlines, ViolenceHeadlines
from csp_evidence.report.key_points import KeyPoint, checked, section_id
from csp_evidence.report.tables import (
    COUNT,
    P_VALUE,
    PCT_CHANGE,
    RATE,
    RATE_2DP,
    RATIO,
    SIGNED_COUNT,
    Z_SCORE,
    TableSpec,
)

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
_COVID = [
    "observed",
    "expected",
    "lower",
    "upper",
    "outside",
    "pct_difference",
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
    where = {"above": "above", "below": "below", "within": "inside"}[row["outside"]]
    outside = "outside" if row["outside"] != "within" else "not outside"
    return (
        f"{f.md(measure)} in {row['year']} was {outside} the counterfactual interval: {f.number(row['observed'])} "
        f"offences were recorded against {f.number(row['expected'])} expected, {where} the 95% interval of "
        f"{f.number(row['lower'])} to {f.number(row['upper'])}."
    )


def covid_figures(table: pd.DataFrame, measure: str) -> dict:
    """The first pandemic year of one measure for the headline JSON: observed, expected, interval, outside."""
    row = table.set_index("measure").loc[measure]
    keys = ["year", "observed", "expected", "lower", "upper", "outside", "pct_difference", "note"]
    return {k: (None if pd.isna(row.get(k)) else row.get(k)) for k in keys}


def counterfactual_frame(
    crime: pd.DataFrame, borough: str, measure: Measure, fits: dict[str, ts.Counterfactual], since: str = "2017-04-01"
) -> pd.DataFrame:
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


def drug_enforcement_sentence(
    crime: pd.DataFrame, table: pd.DataFrame, borough: str, measures: Sequence[Measure], headline_year: str
) -> str:
    """What recorded drug trafficking and possession show about enforcement, set against London and the plan's operation.

    Names the drug operation of the borough's CSP plan (data/plan/*.yml) when there is one. Enforcement
    shows in the data as a rise beyond London's that also lies above the counterfactual interval.
    """
    year = table["year"].iloc[0]
    by_name = {m.name: m for m in measures}
    rows = table.set_index("measure")
    names = [n for n in ("Drug trafficking", "Possession of drugs") if n in rows.index and not rows.loc[n, "small"]]
    if not names:
        return ""
    parts, stepped_up, quiet_before = [], [], []
    for name in names:
        row, london = rows.loc[name], london_change(crime, by_name[name], year)
        change = row["pandemic_pct_change"]
        verb = verb_of(change)
        beyond = row["pandemic_significant"]
        parts.append(
            f"{f.md(name).lower()} {verb} {f.pct(abs(change), signed=False)} in {year} "
            f"({f.number(row['pandemic_previous'])} to {f.number(row['pandemic_count'])}, "
            f"{'beyond' if beyond else 'within'} chance) while London's {verb_of(london['pct_change'])} "
            f"{f.pct(abs(london['pct_change']), signed=False)}, ranking {f.ordinal(int(row['pandemic_rate_rank']))} of "
            f"{int(row['pandemic_ranked'])} boroughs per resident; the year was "
            + {"above": "above", "below": "below", "within": "within"}.get(row.get("outside"), "not compared with")
            + " its counterfactual interval"
        )
        if change > london["pct_change"] and beyond and row.get("outside") == "above":
            stepped_up.append(f.md(name).lower())
        if not row["significant"] or row["change"] <= 0:
            quiet_before.append(f.md(name).lower())
    operation = drug_operation(borough)
    lead = (
        f"The CSP plan credits {operation} with police enforcement against drug dealing, which would show in "
        "recorded drug trafficking and possession. "
        if operation
        else ""
    )
    if stepped_up:
        verdict = (
            f"The rise in {' and '.join(stepped_up)} outran London's and the counterfactual, which is "
            "consistent with stepped-up local enforcement; lockdown policing raised recorded drug offences "
            "across London too, so the data cannot isolate one operation's effect."
        )
    else:
        verdict = (
            "Neither measure rose beyond both London's change and its counterfactual interval, so the data "
            "show no sign of enforcement above the London-wide pattern."
        )
    before = (
        f" In {headline_year} {' and '.join(quiet_before)} did not rise beyond chance."
        if quiet_before and len(quiet_before) == len(names)
        else ""
    )
    return (
        lead + "In the data, " + "; ".join(parts) + ". " + verdict + before + " Recorded drug offences count "
        "police activity (stop and search, proactive operations) at least as much as drug markets."
    )


def verb_of(change: float) -> str:
    """'rose', 'fell' or 'was unchanged' for a change."""
    return "rose" if change > 0 else "fell" if change < 0 else "was unchanged"


def _plan_year(period: str) -> tuple[str | None, bool]:
    """The year a plan figure's period names ('2019/20 on 2018/19', or '... read as 2019/20 on 2018/19'), and whether
    the plan states it (False when the period is a reading of an undated figure)."""
    match = re.search(r"(\d{4}/\d{2}) on (\d{4}/\d{2})", str(period))
    if not match or previous_financial_year(match.group(1)) != match.group(2):
        return None, False
    return match.group(1), bool(re.fullmatch(r"\s*\d{4}/\d{2} on \d{4}/\d{2}\s*", str(period)))


def plan_change_comparisons(
    crime: pd.DataFrame, borough: str, measures: Sequence[Measure], plan: pd.DataFrame, threshold: int = 0
) -> pd.DataFrame:
    """Each change a borough's plan quotes for a measure, beside the change recomputed from the data.

    `plan` is ``plan.plan_figures(borough)``; only per-cent figures whose `measure` is one of
    `measures` and whose period names 'YYYY/YY on YYYY/YY'
    are compared. Columns: figure_id, measure, year, stated (the plan states the year), plan_pct, previous, count,
    pct_change, p_value, significant, year_before_pct (the data's change a year earlier), plan_section,
    plan_quote (no rows when the plan quotes none).
    """
    by_name = {m.name: m for m in measures}
    rows = []
    for figure_id, quoted in plan.iterrows():
        name = quoted.get("measure", "")
        if quoted["unit"] != "per cent" or name not in by_name:
            continue
        year, stated = _plan_year(quoted["period"])
        if year is None:
            continue
        data = measure_table(crime, borough, year, [by_name[name]], threshold).iloc[0]
        earlier = measure_table(crime, borough, previous_financial_year(year), [by_name[name]], threshold).iloc[0]
        rows.append(
            {
                "figure_id": figure_id,
                "measure": name,
                "year": year,
                "stated": stated,
                "plan_pct": float(quoted["plan_value"]),
                "previous": int(data["previous"]),
                "count": int(data["count"]),
                "pct_change": float(data["pct_change"]),
                "p_value": float(data["p_value"]),
                "significant": bool(data["significant"]),
                "year_before_pct": float(earlier["pct_change"]),
                "plan_section": quoted["plan_section"],
                "plan_quote": quoted["plan_quote"],
            }
        )
    columns = [
        "figure_id",
        "measure",
        "year",
        "stated",
        "plan_pct",
        "previous",
        "count",
        "pct_change",
        "p_value",
        "significant",
        "year_before_pct",
        "plan_section",
        "plan_quote",
    ]
    return pd.DataFrame(rows, columns=columns)


def _agreement(plan_pct: float, data_pct: float) -> str:
    same = (plan_pct < 0) == (data_pct < 0)
    if same and abs(plan_pct - data_pct) <= 1:
        return "agreeing with it to within a percentage point"
    return "in the same direction" if same else "in the opposite direction"


def plan_change_sentences(comparisons: pd.DataFrame) -> str:
    """'The plan reports a decrease of 3 per cent in violence ...; the data give 8,799 to 8,560, -2.7% (...)' per figure."""
    out = []
    for r in comparisons.itertuples():
        plan_dir = "a decrease" if r.plan_pct < 0 else "an increase"
        when = (
            f"in {r.year} on the year before"
            if r.stated
            else f"on the previous year (the plan does not say which; read here as {r.year})"
        )
        text = (
            f"The CSP plan ({f.md(r.plan_section)}) reports {plan_dir} of {abs(r.plan_pct):g} per cent in "
            f"{f.md(r.measure).lower()} {when}; the data give {f.number(r.previous)} in "
            f"{previous_financial_year(r.year)} and {f.number(r.count)} in {r.year}, {f.pct(r.pct_change)}, "
            f"{_agreement(r.plan_pct, r.pct_change)} (a change {'beyond' if r.significant else 'within'} chance, "
            f"{f.p_value(r.p_value)})."
        )
        if abs(r.plan_pct - r.pct_change) > 1 and abs(r.plan_pct - r.year_before_pct) <= 1:
            text += (
                f" The data's change a year earlier, {previous_financial_year(r.year)} on the year before "
                f"({f.pct(r.year_before_pct)}), is close to the plan's figure, which may describe that year."
            )
        out.append(text)
    if out:
        out.append("The plan's figures came from an earlier extract of the data, which later extracts revise.")
    return " ".join(out)


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


def counterfactual_figure(
    crime: pd.DataFrame,
    borough: str,
    measures: Sequence[Measure],
    table: pd.DataFrame,
    fits: dict[str, ts.Counterfactual],
    name: str,
    source: str,
    since: str = "2017-04-01",
):
    """The observed-against-expected chart of one measure and its data, or (None, None) when it is not chartable."""
    rows = table.set_index("measure")
    if name not in rows.index or not rows.loc[name, "chartable"]:
        return None, None
    measure = {m.name: m for m in measures}[name]
    data = counterfactual_frame(crime, borough, measure, fits, since)
    fig = charts.monthly_chart(
        data,
        counterfactual_title(table, name),
        f"{name} in {borough} per month against the level expected from five pre-pandemic years (seasonal ARIMA)",
        "Offences per month",
        source,
        band=("lower", "upper"),
    )
    charts.move_legend(fig)
    return fig, data


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


def panel_title(table: pd.DataFrame) -> str:
    """'6 of 8 measures in 2020/21 lay outside the range expected without the pandemic'."""
    fitted = table[table["chartable"]]
    outside = int((fitted["outside"] != "within").sum())
    return (
        f"{outside} of {len(fitted)} measures in {table['year'].iloc[0]} lay outside the range expected "
        "without the pandemic"
    )


# --------------------------------------------------------------------------- the lockdowns, period by period

LOCKDOWN_PERIODS = ("First lockdown", "Between lockdowns", "Second and third lockdowns")
_PERIOD_COLUMNS = [
    "area",
    "measure",
    "period",
    "months",
    "observed",
    "expected",
    "lower",
    "upper",
    "outside",
    "pct_difference",
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


def _period_words(row: pd.Series) -> str:
    where = {"above": "above", "below": "below", "within": "within"}[row["outside"]]
    return (
        f"{f.number(row['observed'])} recorded against {f.number(row['expected'])} expected (95% interval "
        f"{f.number(row['lower'])} to {f.number(row['upper'])}, {f.pct(row['pct_difference'])}: {where} the range)"
    )


def domestic_abuse_answer(
    periods: pd.DataFrame, table: pd.DataFrame, borough: str, measure: str = "Domestic abuse"
) -> str:
    """Did recorded domestic abuse rise during the lockdowns? Each lockdown period and the first pandemic year against
    the level expected from the five pre-pandemic years, the change on the year before, and London beside it."""
    rows = periods[(periods["area"] == borough) & (periods["measure"] == measure)].set_index("period")
    head = table.set_index("measure").loc[measure]
    if rows.empty:
        return f"{f.md(measure)} in {f.md(borough)} is not modelled: {head['note']}."
    year = head["year"]
    lockdowns = [p for p in ("First lockdown", "Second and third lockdowns") if p in rows.index]
    above = [p for p in lockdowns if rows.loc[p, "outside"] == "above"]
    below = [p for p in lockdowns if rows.loc[p, "outside"] == "below"]
    if above:
        verdict = (
            "Yes: recorded domestic abuse rose beyond what the pre-pandemic pattern predicts in the "
            + " and the ".join(p.lower() for p in above)
        )
    elif below:
        verdict = (
            "No: recorded domestic abuse did not rise beyond what the pre-pandemic pattern predicts, and fell below "
            "its expected range in the " + " and the ".join(p.lower() for p in below)
        )
    else:
        verdict = (
            "Not beyond what the pre-pandemic pattern predicts: recorded domestic abuse stayed within its expected "
            "range in the lockdowns"
        )
    parts = [f"in the {p.lower()} ({rows.loc[p, 'months']}), {_period_words(rows.loc[p])}" for p in lockdowns]
    fy = rows.loc[f"Financial year {year}"]
    text = (
        f"**Did domestic abuse rise during the lockdowns?** {verdict}. In {f.md(borough)}, offences flagged as "
        f"domestic abuse: "
        + "; ".join(parts)
        + f". Over {year}, {_period_words(fy)}; against {head['pandemic_previous']:,.0f} "
        f"the year before, {f.pct(head['pandemic_pct_change'])} "
        f"({'beyond' if head['pandemic_significant'] else 'within'} chance, {f.p_value(head['pandemic_p_value'])})."
    )
    if fy["outside"] == "within" and head["pandemic_significant"] and head["pandemic_pct_change"] > 0:
        text += " The rise on the year before was in line with the upward trend of the years before the pandemic."
    london = periods[(periods["area"] == "London") & (periods["measure"] == measure)].set_index("period")
    if not london.empty and "First lockdown" in london.index:
        text += f" London as a whole, first lockdown: {_period_words(london.loc['First lockdown'])}."
    return (
        text + " These are offences recorded by the police: lockdowns also changed how and whether abuse was reported, "
        "so recorded counts are a floor on what happened, not a measure of it."
    )


# --------------------------------------------------------------------------- key points (the top of each page)

# The section headings of notebooks 00, 01 and 04 that the key points link to.
OVERVIEW_SECTIONS = {
    "totals": "Total recorded crime by financial year",
    "categories": "Change by major category",
    "london": "London comparison",
    "monthly": "Monthly recorded crime and the Covid-19 lockdowns",
}
PRIORITY_SECTIONS = {
    "change": "Change on the previous year",
    "london": "London comparison",
    "covid": "The Covid-19 pandemic: observed against expected",
    "drugs": "Drug offences and police enforcement",
    "domestic_abuse": "Domestic abuse during the lockdowns",
    "special": "Domestic abuse, knife crime, gun crime and homicide",
}


def _point(text: str, heading: str) -> KeyPoint:
    return KeyPoint(text, section_id(heading))


def overview_key_points(
    crime: pd.DataFrame,
    totals: pd.DataFrame,
    categories: pd.DataFrame,
    borough: str,
    headline_year: str,
    lockdown: dict,
) -> list[KeyPoint]:
    """The overview's key points: the rate against London (its first chart), the change in total crime, the
    categories that changed beyond chance, and the first lockdown month. `totals` is summaries.totals_by_year,
    `categories` summaries.category_table, `lockdown` sentences.lockdown_summary."""
    rates = london_rates(crime, headline_year)
    position = int((rates["rate"] > rates.loc[borough, "rate"]).sum()) + 1
    head = totals.set_index("financial_year").loc[headline_year]
    points = [
        _point(
            f"In {headline_year} {borough} recorded {head['rate']:.1f} offences per 1,000 residents against "
            f"{head['london_rate']:.1f} across London: the {f.ordinal(position)} highest rate of {len(rates)} boroughs.",
            OVERVIEW_SECTIONS["london"],
        )
    ]
    if pd.notna(head.get("previous")):
        points.append(
            _point(
                f"Total recorded crime {f.moved(head['pct_change'])} on {previous_financial_year(headline_year)}, "
                f"to {f.number(head['count'])} offences: {f.variation(bool(head['significant']))}.",
                OVERVIEW_SECTIONS["totals"],
            )
        )
    signals = categories[categories["signal"]].sort_values("pct_change")
    if len(signals):
        named = [f"{str(r.category).lower()} ({f.pct(r.pct_change)})" for r in signals.itertuples()]
        text = f"Categories that changed by more than normal variation in {headline_year}: {f.listing(named)}."
    else:
        text = f"No major category of crime changed by more than normal year-to-year variation in {headline_year}."
    points.append(_point(text, OVERVIEW_SECTIONS["categories"]))
    month = pd.Timestamp(f"{lockdown['month']}-01")
    points.append(
        _point(
            f"In {month:%B %Y}, the first full lockdown month, {f.change_words(lockdown['pct_change'], 'offences')} "
            f"were recorded than in an average {month:%B} before the pandemic.",
            OVERVIEW_SECTIONS["monthly"],
        )
    )
    return checked(points)


def _london_point(table: pd.DataFrame, borough: str, year: str, what: str) -> KeyPoint:
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
    return _point(text + ".", PRIORITY_SECTIONS["london"])


def _change_point(table: pd.DataFrame, year: str, what: str) -> KeyPoint:
    """Which measures changed beyond chance on the year before (small safeguarding counts are not tested)."""
    tested = table[~table["small"] & table["pct_change"].notna()]
    beyond = tested[tested["significant"].astype(bool)].sort_values("pct_change", ascending=False)
    if beyond.empty:
        text = f"None of the {len(tested)} {what} changed by more than normal year-to-year variation in {year}."
    else:
        named = [f"{str(r.measure).lower()} {f.moved(r.pct_change)}" for r in beyond.itertuples()]
        text = f"In {year}, {len(beyond)} of {len(tested)} {what} changed by more than normal variation: {f.listing(named)}."
    return _point(text, PRIORITY_SECTIONS["change"])


def _covid_point(table: pd.DataFrame, what: str) -> KeyPoint:
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
    return _point(text + ".", PRIORITY_SECTIONS["covid"])


def neighbourhood_key_points(
    crime: pd.DataFrame,
    table: pd.DataFrame,
    borough: str,
    measures: Sequence[Measure],
    headline_year: str,
    asb: KeyPoint | None = None,
) -> list[KeyPoint]:
    """Chapter 01's key points: London (its first chart), the change on the previous year, the pandemic, ASB
    (`asb`: ``chapters.asb.key_point``), and what the drug offences say about enforcement (the priority includes
    drugs). `table` is priority_table's."""
    points = [
        _london_point(table, borough, headline_year, "neighbourhood crime measures"),
        _change_point(table, headline_year, "neighbourhood crime measures"),
        _covid_point(table, "neighbourhood crime measures"),
    ]
    if asb is not None:
        points.append(asb)
    rows = table.set_index("measure")
    if "Drug trafficking" in rows.index and not rows.loc["Drug trafficking", "small"]:
        row = rows.loc["Drug trafficking"]
        year = row["year"]
        london = london_change(crime, {m.name: m for m in measures}["Drug trafficking"], year)
        outran = row["pandemic_pct_change"] > london["pct_change"] and row.get("outside") == "above"
        meaning = (
            "consistent with stepped-up enforcement, as recorded drug crime reflects police activity"
            if outran
            else "no sign of enforcement beyond London's pattern"
        )
        points.append(
            _point(
                f"For the priority: recorded drug trafficking {f.moved(row['pandemic_pct_change'])} in {year}, "
                f"against London's {f.pct(london['pct_change'])}: {meaning}.",
                PRIORITY_SECTIONS["drugs"],
            )
        )
    return checked(points)


def violence_key_points(
    table: pd.DataFrame,
    special_table: pd.DataFrame,
    periods: pd.DataFrame,
    borough: str,
    headline_year: str,
    special_year: str,
) -> list[KeyPoint]:
    """Chapter 04's key points: domestic abuse in the lockdowns (its first chart), the change in violence against
    the person, London, the pandemic, and knife crime. `periods` is lockdown_periods's table."""
    points = []
    da = periods[(periods["area"] == borough) & (periods["measure"] == "Domestic abuse")].set_index("period")
    lockdowns = [p for p in ("First lockdown", "Second and third lockdowns") if p in da.index]
    if lockdowns:
        above = [p for p in lockdowns if da.loc[p, "outside"] == "above"]
        shown = (above or lockdowns)[0]
        verdict = (
            f"rose above the level expected without the pandemic in the {' and the '.join(p.lower() for p in above)}"
            if above
            else "did not rise above the level expected without the pandemic in the lockdowns"
        )
        points.append(
            _point(
                f"Recorded domestic abuse {verdict}: {f.number(da.loc[shown, 'observed'])} offences in the "
                f"{shown.lower()} against {f.number(da.loc[shown, 'expected'])} expected.",
                PRIORITY_SECTIONS["domestic_abuse"],
            )
        )
    else:
        points.append(
            _point(
                f"Recorded domestic abuse in {borough} is too small a count to set against its expected level.",
                PRIORITY_SECTIONS["domestic_abuse"],
            )
        )
    vap = table.set_index("measure").loc["Violence against the person"]
    points.append(
        _point(
            f"Violence against the person {f.moved(vap['pct_change'])} in {headline_year}, to "
            f"{f.number(vap['count'])} offences: {f.variation(bool(vap['significant']))}.",
            PRIORITY_SECTIONS["change"],
        )
    )
    points.append(_london_point(table, borough, headline_year, "violence measures"))
    points.append(_covid_point(table, "violence measures"))
    special = special_table.set_index("measure")
    if "Knife crime" in special.index and not special.loc["Knife crime", "small"]:
        knife = special.loc["Knife crime"]
        points.append(
            _point(
                f"Knife crime {f.moved(knife['pct_change'])} in {special_year}, to {f.number(knife['count'])} "
                f"offences: {f.variation(bool(knife['significant']))}.",
                PRIORITY_SECTIONS["special"],
            )
        )
    return checked(points)


# --------------------------------------------------------------------------- published tables and headline figures

TESTS = "exact Poisson test of the rate ratio; Poisson Z-score signal"
POPULATION_SOURCE = "ONS mid-year population estimates"


def _with_note(text: str, note: str) -> str:
    return f"{text} {note}" if note else text


def change_spec(
    table: pd.DataFrame, slug: str, what: str, borough: str, year: str, source: str, note: str = "", flag: bool = False
) -> TableSpec:
    """The year-on-year table (``change_columns``) as published: `what` names the measures ('Neighbourhood crime
    measures'), `year` is the headline year of `table`; `note` follows the caption's method; `flag` sets the small
    measures in italics."""
    pandemic_year = table["year"].iloc[0]
    return TableSpec(
        slug,
        change_columns(table),
        columns={
            "measure": "Measure",
            "previous": previous_financial_year(year),
            "count": year,
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "signal": "Signal (|Z| > 3)",
            "pandemic_count": pandemic_year,
            "pandemic_pct_change": "Change (%)",
            "pandemic_p_value": "p-value",
            "pandemic_signal": "Signal (|Z| > 3)",
        },
        formats={
            "previous": COUNT,
            "count": COUNT,
            "pct_change": PCT_CHANGE,
            "p_value": P_VALUE,
            "pandemic_count": COUNT,
            "pandemic_pct_change": PCT_CHANGE,
            "pandemic_p_value": P_VALUE,
        },
        caption=_with_note(
            f"{what} in {borough}: {year} and {pandemic_year}, each against the year before ({TESTS}).", note
        ),
        source=source,
        period=f"{previous_financial_year(year)} to {year}; {previous_financial_year(pandemic_year)} to {pandemic_year}",
        flag=table["small"] if flag else None,
    )


def london_spec(
    table: pd.DataFrame,
    slug: str,
    borough: str,
    year: str,
    source: str,
    rate_format: str = RATE_2DP,
    note: str = "",
    flag: bool = False,
    rank_format: str | None = None,
    caption: str = "",
) -> TableSpec:
    """The rates against London's with the rank of 32 (``london_columns``) as published, in `year` and the first
    pandemic year; the population estimates are cited beside `source`. `caption` replaces the standard one."""
    pandemic_year = table["year"].iloc[0]
    ranks = {} if rank_format is None else {"rank": rank_format, "pandemic_rank": rank_format}
    return TableSpec(
        slug,
        london_columns(table),
        columns={
            "measure": "Measure",
            "rate": f"Per 1,000 {year}",
            "london_rate": f"London {year}",
            "rank": f"Rank {year}",
            "pandemic_rate": f"Per 1,000 {pandemic_year}",
            "pandemic_london_rate": f"London {pandemic_year}",
            "pandemic_rank": f"Rank {pandemic_year}",
        },
        formats={c: rate_format for c in ("rate", "london_rate", "pandemic_rate", "pandemic_london_rate")} | ranks,
        caption=_with_note(
            caption
            or f"Rates per 1,000 residents in {borough} and London, and the borough's rank of 32 (1 = highest rate).",
            note,
        ),
        source=f"{source}; {POPULATION_SOURCE}",
        period=f"{year} and {pandemic_year}",
        flag=table["small"] if flag else None,
    )


def covid_spec(
    table: pd.DataFrame,
    slug: str,
    borough: str,
    covid_start: str,
    source: str,
    note: str = "",
    flag: bool = False,
    what: str = "Recorded offences",
    regression: str = "a segmented (interrupted time series) regression",
) -> TableSpec:
    """The first pandemic year and first lockdown against the counterfactual, with the ITS level change
    (``covid_columns``), as published: `what` the offences are, `regression` how the level change was fitted."""
    pandemic_year = table["year"].iloc[0]
    return TableSpec(
        slug,
        covid_columns(table),
        columns={
            "measure": "Measure",
            "observed": f"Observed {pandemic_year}",
            "expected": "Expected",
            "lower": "95% interval low",
            "upper": "95% interval high",
            "pct_difference": "Difference (%)",
            "outside": "Against the interval",
            "lockdown_observed": "Observed, first lockdown",
            "lockdown_expected": "Expected, first lockdown",
            "its_level_ratio": "Level change (ITS rate ratio)",
            "note": "Note",
        },
        formats={
            "observed": COUNT,
            "expected": COUNT,
            "lower": COUNT,
            "upper": COUNT,
            "pct_difference": PCT_CHANGE,
            "lockdown_observed": COUNT,
            "lockdown_expected": COUNT,
            "its_level_ratio": RATIO,
        },
        caption=_with_note(
            f"{what} in {borough} in {pandemic_year} and in the first lockdown "
            f"({covid.first_lockdown_label()}) against the counts expected from a seasonal ARIMA fitted to the five "
            "pre-pandemic years, with the 95% prediction interval of the year's total; and the level change at "
            f"{covid.month_label(covid_start)} from {regression}.",
            note,
        ),
        source=source,
        period=f"{pandemic_year}; first lockdown {covid.first_lockdown_label()}",
        flag=table["small"] if flag else None,
    )


# The figures of each measure that chapter 01's headline JSON keeps.
NEIGHBOURHOOD_FIGURES = (
    "previous",
    "count",
    "pct_change",
    "p_value",
    "significant",
    "rate",
    "london_rate",
    "rank",
    "pandemic_count",
    "pandemic_pct_change",
    "pandemic_p_value",
    "pandemic_significant",
)


def measure_figures(table: pd.DataFrame, keys: Sequence[str]) -> dict[str, dict]:
    """Each measure's figures `keys` of `table` (priority_table's), with its first pandemic year (``covid``)."""
    return {
        r["measure"]: {k: r[k] for k in keys} | {"covid": covid_figures(table, r["measure"])}
        for _, r in table.iterrows()
    }


def overview_headlines(
    points: Sequence[KeyPoint],
    totals: pd.DataFrame,
    borough: str,
    headline_year: str,
    revised: dict | None,
    lockdown: dict,
    population: pd.Series,
    source: str,
) -> OverviewHeadlines:
    """Chapter 00's figures: the headline year's row of `totals` (``summaries.totals_by_year``), the first published
    total (`revised`), the first lockdown (``sentences.lockdown_summary``) and the latest `population` row."""
    headline = totals.set_index("financial_year").loc[headline_year]
    return OverviewHeadlines(
        borough=borough,
        key_points=points,
        headline_year=headline_year,
        total_offences=headline["count"],
        rank=headline["rank"],
        ranked=headline["ranked"],
        rate_per_1000=headline["rate"],
        london_rate_per_1000=headline["london_rate"],
        change_pct=headline.get("pct_change"),
        first_published=revised,
        lockdown=lockdown,
        population=population["population"],
        population_year=population["year"],
        source=source,
    )


def neighbourhood_headlines(
    table: pd.DataFrame,
    points: Sequence[KeyPoint],
    borough: str,
    headline_year: str,
    source: str,
    asb: dict,
    asb_source_id: str,
    force_asb: dict,
    london_calls: dict,
    context_source_ids: Sequence[str],
) -> NeighbourhoodHeadlines:
    """Chapter 01's figures from priority_table's `table` and the ASB sections' ``headline()`` figures (`asb`:
    the borough's incidents, `force_asb`: force-wide, `london_calls`: London-wide calls)."""
    return NeighbourhoodHeadlines(
        borough=borough,
        key_points=points,
        headline_year=headline_year,
        pandemic_year=table["year"].iloc[0],
        measures=measure_figures(table, NEIGHBOURHOOD_FIGURES),
        drug_trafficking_covid=covid_figures(table, "Drug trafficking"),
        theft_covid=covid_figures(table, "Theft"),
        asb_incidents=asb,
        asb_source_id=asb_source_id,
        force_asb_incidents=force_asb,
        london_asb_calls=london_calls,
        context_source_ids=list(context_source_ids),
        source=source,
    )


def totals_spec(totals: pd.DataFrame, borough: str, source: str) -> TableSpec:
    """Chapter 00's total recorded offences by financial year (``summaries.totals_by_year``) as published."""
    years = totals["financial_year"]
    return TableSpec(
        "00-total-by-year",
        totals,
        columns={
            "financial_year": "Financial year",
            "count": "Offences",
            "change": "Change",
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "z_score": "Poisson Z",
            "rank": "Rank of 32",
            "rate": "Per 1,000 residents",
            "london_rate": "London per 1,000",
        },
        formats={
            "count": COUNT,
            "change": SIGNED_COUNT,
            "pct_change": PCT_CHANGE,
            "p_value": P_VALUE,
            "z_score": Z_SCORE,
            "rate": RATE,
            "london_rate": RATE,
        },
        caption=f"Total recorded offences in {borough} by financial year.",
        source=source,
        period=f"{years.iloc[0]} to {years.iloc[-1]}",
    )


def categories_spec(categories: pd.DataFrame, borough: str, headline_year: str, source: str) -> TableSpec:
    """Chapter 00's major categories in the headline year against the year before (``summaries.category_table``)
    as published."""
    return TableSpec(
        "00-major-categories",
        categories,
        columns={
            "category": "Major category",
            "previous": previous_financial_year(headline_year),
            "count": headline_year,
            "change": "Change",
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "signal": "Signal (|Z| > 3)",
            "rate": "Per 1,000",
            "london_rate": "London per 1,000",
            "rank": "Rank of 32",
        },
        formats={
            "previous": COUNT,
            "count": COUNT,
            "change": SIGNED_COUNT,
            "pct_change": PCT_CHANGE,
            "p_value": P_VALUE,
            "rate": RATE_2DP,
            "london_rate": RATE_2DP,
        },
        caption=f"Recorded offences in {borough} by major category, {headline_year} against the previous year.",
        source=source,
        period=f"{previous_financial_year(headline_year)} to {headline_year}",
    )


# --------------------------------------------------------------------------- chapter 04's own tables and figures


def violence_small_note(threshold: int) -> str:
    """What the italic rows of chapter 04's tables mean."""
    return (
        f"Rows in italics are safeguarding measures with fewer than {threshold} offences in a "
        "year: their counts are shown, but they are not tested, modelled or charted."
    )


def lockdowns_spec(periods: pd.DataFrame, borough: str, source: str) -> TableSpec:
    """Domestic abuse in each Covid period against its expected level (``lockdown_periods``), as published."""
    return TableSpec(
        "04-domestic-abuse-lockdowns",
        periods,
        columns={
            "area": "Area",
            "measure": "Measure",
            "period": "Period",
            "months": "Months",
            "observed": "Observed",
            "expected": "Expected",
            "lower": "95% interval low",
            "upper": "95% interval high",
            "outside": "Against the interval",
            "pct_difference": "Difference (%)",
        },
        formats={"observed": COUNT, "expected": COUNT, "lower": COUNT, "upper": COUNT, "pct_difference": PCT_CHANGE},
        caption=(
            f"Offences flagged as domestic abuse in {borough} (and London as a whole) in each Covid-19 period, against "
            "the counts expected from a seasonal ARIMA fitted to the five pre-pandemic years, with the 95% prediction "
            "interval of each period's total."
        ),
        source=source,
        period="the Covid-19 periods from March 2020 and the first pandemic year",
    )


def violence_specs(
    table: pd.DataFrame, borough: str, headline_year: str, covid_start: str, threshold: int, source: str
):
    """Chapter 04's three tables of recorded violence (change, London, Covid), as published, in page order."""
    note = violence_small_note(threshold)
    return (
        change_spec(
            table,
            "04-change-on-previous-year",
            "Violence and exploitation measures",
            borough,
            headline_year,
            source,
            note=note,
            flag=True,
        ),
        london_spec(
            table, "04-london-rates", borough, headline_year, source, rate_format="{:.3f}", note=note, flag=True
        ),
        covid_spec(table, "04-covid-counterfactual", borough, covid_start, source, note=note, flag=True),
    )


def special_specs(special_table: pd.DataFrame, borough: str, year: str, covid_start: str, threshold: int, source: str):
    """Chapter 04's three tables of flagged offences (change, London, Covid), as published, in page order."""
    return (
        change_spec(
            special_table,
            "04-special-change-on-previous-year",
            "Domestic abuse, knife crime, gun crime and homicide offences",
            borough,
            year,
            source,
            note=violence_small_note(threshold) + " Homicide and domestic abuse homicide are always counts only.",
            flag=True,
        ),
        london_spec(
            special_table,
            "04-special-london-rates",
            borough,
            year,
            source,
            rate_format="{:.3f}",
            flag=True,
            rank_format="{:.0f}",
            caption=(
                f"Rates per 1,000 residents in {borough} and London, and the borough's rank of 32 by rate (1 = highest); "
                "counts-only rows have no rate or rank."
            ),
        ),
        covid_spec(
            special_table,
            "04-special-covid-counterfactual",
            borough,
            covid_start,
            source,
            flag=True,
            what="Flagged offences",
            regression="a segmented regression fitted to the months to May 2021",
        ),
    )


VIOLENCE_FIGURES = (
    "small",
    "previous",
    "count",
    "pct_change",
    "p_value",
    "significant",
    "rate",
    "london_rate",
    "rank",
    "pandemic_count",
    "pandemic_pct_change",
    "pandemic_significant",
)
SPECIAL_FIGURES = (
    "counts_only",
    "small",
    "previous",
    "count",
    "pct_change",
    "p_value",
    "significant",
    "rate",
    "london_rate",
    "rate_rank",
    "ranked",
    "pandemic_previous",
    "pandemic_count",
    "pandemic_pct_change",
    "pandemic_significant",
)
PLAN_COMPARISON_FIGURES = ["figure_id", "measure", "year", "plan_pct", "pct_change", "p_value"]


def violence_headlines(
    points: Sequence[KeyPoint],
    table: pd.DataFrame,
    special_table: pd.DataFrame,
    periods: pd.DataFrame,
    plan_changes: pd.DataFrame,
    special_plan: pd.DataFrame,
    borough: str,
    headline_year: str,
    special_year: str,
    threshold: int,
    sources: tuple[str, str],
) -> ViolenceHeadlines:
    """Chapter 04's figures: `table` and `special_table` (priority_table's for recorded crime and the flagged
    offences), domestic abuse by Covid period (`periods`), the plan's changes beside the data
    (``plan_change_comparisons``), and `sources` (recorded crime's citation, the flagged offences')."""
    vap = table.set_index("measure").loc["Violence against the person"]
    return ViolenceHeadlines(
        borough=borough,
        key_points=tuple(points),
        headline_year=headline_year,
        pandemic_year=table["year"].iloc[0],
        violence_against_the_person_change={
            "from_year": previous_financial_year(headline_year),
            "to_year": headline_year,
        }
        | {k: vap[k] for k in ("previous", "count", "pct_change", "p_value", "significant")},
        plan_comparisons=plan_changes[PLAN_COMPARISON_FIGURES].to_dict("records"),
        measures=measure_figures(table, VIOLENCE_FIGURES),
        small_number_threshold=threshold,
        flagged_small=table.loc[table["small"], "measure"].tolist(),
        violence_covid=covid_figures(table, "Violence against the person"),
        special_year=special_year,
        special_measures=measure_figures(special_table, SPECIAL_FIGURES),
        domestic_abuse_lockdowns=periods.to_dict("records"),
        special_plan_comparisons=special_plan[PLAN_COMPARISON_FIGURES].to_dict("records"),
        special_source=sources[1],
        source=sources[0],
    )
