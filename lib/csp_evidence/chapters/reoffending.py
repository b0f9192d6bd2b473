"""Reducing reoffending and the drivers of crime: drug offences, acquisitive crime and MoJ proven reoffending.

Drivers come from the tidy recorded-crime table (month, borough, major_category, minor_category, count): monthly
series with an STL trend (``stats.timeseries.decompose``) and the recent trend net of seasonality
(``stats.timeseries.recent_trend``). Recorded drug offences mostly reflect police activity (stop and search,
proactive operations), not how many drugs are used or sold, so their trend is read as enforcement as much as
prevalence.

Proven reoffending comes from the MoJ geographic data tool (``readers.moj``), which is optional: when the file
is not provided, ``missing_file_note`` says which file to add and where it comes from. When it is,
``reoffending_table`` gives adult and juvenile rates with Wilson 95% intervals and the change between
consecutive non-overlapping cohorts of the same length.

London's proven reoffending rate 2013-2023 (``london_reoffending_context``) is shown as context in either case:
London-wide, from a secondary source (the GLA's State of London dashboard, compiled from MoJ statistics) that
states no cohort definition, so it is described, never tested or set against a borough's adult or juvenile rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from csp_evidence.analysis import plan_audit, summaries
from csp_evidence.analysis.reoffending import change_since, reoffending_rates
from csp_evidence.analysis.stats.timeseries import decompose, recent_trend
from csp_evidence.data.readers import moj
from csp_evidence.data.sources import MOJ_PROVEN_REOFFENDING, Source
from csp_evidence.report import plan_words, sentences
from csp_evidence.report import words as f
from csp_evidence.report.headlines import ReoffendingHeadlines
from csp_evidence.report.key_points import KeyPoint, checked, section_id
from csp_evidence.report.tables import (
    AS_IS,
    COUNT,
    P_VALUE,
    RATE_2DP,
    RATE_LABELS,
    RATIO,
    YEAR_CHANGE_LABELS,
    TableSpec,
    year_change_formats,
)
from csp_evidence.report.words import md

DRUG_CATEGORIES: tuple[str, ...] = ("Drug Offences",)
ACQUISITIVE_CATEGORIES: tuple[str, ...] = ("Burglary", "Robbery", "Theft", "Vehicle Offences")
DRIVER_GROUPS: dict[str, tuple[str, ...]] = {
    "Drug offences": DRUG_CATEGORIES,
    "Acquisitive crime": ACQUISITIVE_CATEGORIES,
}
TREND_MONTHS = 24


# --------------------------------------------------------------------------- drivers: recorded crime


def driver_monthly(
    crime: pd.DataFrame, borough: str, categories: Sequence[str], label: str, start: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Monthly offences in `categories` for a borough and their STL trend (fitted on the whole series), from `start`.

    Columns: `label` (offences per month) and 'Trend (seasonal decomposition)'; indexed by month start.
    """
    series = summaries.monthly_series(crime, borough, list(categories))
    parts = decompose(series)
    out = pd.DataFrame({label: series.astype(float), "Trend (seasonal decomposition)": parts["trend"]})
    out.index.name = "month"
    return out if start is None else out.loc[pd.Timestamp(start) :]


def category_trends(
    crime: pd.DataFrame, borough: str, categories: Sequence[str], start: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """The STL trend (offences per month) of each category for a borough, one column per category, from `start`."""
    out = pd.DataFrame({c: decompose(summaries.monthly_series(crime, borough, [c]))["trend"] for c in categories})
    out.index.name = "month"
    return out if start is None else out.loc[pd.Timestamp(start) :]


def trend_table(
    crime: pd.DataFrame, borough: str, groups: dict[str, Sequence[str]] | None = None, months: int = TREND_MONTHS
) -> pd.DataFrame:
    """Recent trend of each group (and each of its categories) over the last `months` months, net of seasonality.

    Columns: group, categories, start, end, months, mean_level (offences/month), slope_per_month, ci_low,
    ci_high, pct_change_per_year, direction ('rising', 'falling' or 'no clear change').
    """
    chosen: dict[str, Sequence[str]] = dict(groups or DRIVER_GROUPS)
    rows = []
    for label, cats in chosen.items():
        entries = [(label, cats)] + ([(c, (c,)) for c in cats] if len(cats) > 1 else [])
        for name, sel in entries:
            trend = recent_trend(summaries.monthly_series(crime, borough, list(sel)), months=months)
            rows.append(
                {
                    "group": name,
                    "categories": ", ".join(sel),
                    "start": trend.start,
                    "end": trend.end,
                    "months": trend.months,
                    "mean_level": trend.mean_level,
                    "slope_per_month": trend.slope_per_month,
                    "ci_low": trend.ci_low,
                    "ci_high": trend.ci_high,
                    "pct_change_per_year": trend.pct_change_per_year,
                    "direction": trend.direction,
                }
            )
    return pd.DataFrame(rows)


def drivers_by_year(
    crime: pd.DataFrame, borough: str, years: Sequence[str], groups: dict[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """Each group's count per financial year with change, Poisson test and Z, rank of 32 and rate per 1,000.

    The columns of `summaries.totals_by_year` with a leading 'group' column.
    """
    chosen: dict[str, Sequence[str]] = dict(groups or DRIVER_GROUPS)
    frames = [
        summaries.totals_by_year(crime, borough, years, categories=list(cats)).assign(group=label)
        for label, cats in chosen.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[["group", *[c for c in table.columns if c != "group"]]]


def lockdown_sentence(
    crime: pd.DataFrame,
    borough: str,
    covid_start: str,
    categories: Sequence[str] = DRUG_CATEGORIES,
    what: str = "drug offences",
) -> tuple[dict, str]:
    """The first full lockdown month against the same month of earlier years (`sentences.lockdown_summary`) for
    the borough's offences in `categories`, with the sentence naming `what` was counted; returns (figures, sentence).
    """
    summary = sentences.lockdown_summary(summaries.monthly_series(crime, borough, list(categories)), covid_start)
    sentence = summary["sentence"].replace(" offences were recorded", f" {md(what)} were recorded", 1)
    figures = {k: summary[k] for k in ("month", "observed", "baseline", "pct_change")}
    return figures, sentence


# --------------------------------------------------------------------------- proven reoffending (MoJ)


def reoffending_table(
    tidy: pd.DataFrame, borough: str, category: str | None = None, cohort_months: int | None = None
) -> pd.DataFrame:
    """Adult and juvenile proven reoffending rates of a borough by cohort, with Wilson 95% CIs and change.

    Cohorts of one length only (`cohort_months`; default 12 if present, else the longest), as 3- and 12-month
    cohorts are not comparable. Columns of `analysis.reoffending.reoffending_rates` (rate, ci_low, ci_high as
    proportions; change_pp in points; p_value), sorted by cohort_start then age group; age groups with no rows
    for the borough are left out. ValueError when the borough has no rows at all.
    """
    frames = []
    for group in moj.AGE_GROUPS:
        has = (tidy["geography"] == borough) & (tidy["age_group"] == group)
        if category is not None:
            has &= tidy["category"] == category
        if has.any():
            frames.append(reoffending_rates(tidy, borough, group, category))
    if not frames:
        geos = ", ".join(sorted(tidy["geography"].unique())[:40])
        raise ValueError(
            f"the proven reoffending file has no rows for geography {borough!r}"
            + (f" and category {category!r}" if category else "")
            + f"; geographies include: {geos}"
        )
    table = pd.concat(frames, ignore_index=True)
    lengths = set(table["cohort_months"])
    if cohort_months is None:
        cohort_months = 12 if 12 in lengths else max(lengths)
    elif cohort_months not in lengths:
        raise ValueError(
            f"cohort_months={cohort_months} not in the file for {borough!r}; lengths present: {sorted(lengths)}"
        )
    table = table[table["cohort_months"] == cohort_months]
    return table.sort_values(["cohort_start", "age_group"], ignore_index=True)


PRE_PANDEMIC_COHORT = "Apr 2019 to Mar 2020"  # the last 12-month cohort wholly before the pandemic's first month
COMPARATORS: tuple[str, ...] = ("London", "England", "England and Wales")


def covid_cohort_table(
    tidy: pd.DataFrame, borough: str, base_cohort: str = PRE_PANDEMIC_COHORT, comparators: Sequence[str] = COMPARATORS
) -> pd.DataFrame:
    """Each 12-month cohort after `base_cohort` against it, adults and juveniles, for the borough and for London
    and England where the file holds them (``analysis.reoffending.change_since``); empty when the base cohort is
    not in the file. Columns: geography, age_group, cohort, offenders, reoffenders, rate, base_cohort, base_rate,
    change_pp, p_value."""
    frames = []
    for geography in (borough, *comparators):
        for group in moj.AGE_GROUPS:
            sel = tidy[(tidy["geography"] == geography) & (tidy["age_group"] == group)]
            if sel.empty or sel["category"].nunique() > 1:
                continue
            rates = reoffending_rates(tidy, geography, group)
            rates = rates[rates["cohort_months"] == 12]
            if base_cohort in set(rates["cohort"]):
                frames.append(change_since(rates, base_cohort))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --------------------------------------------------------------------------- London context (GLA, secondary)

LONDON_RATE_LABEL = "Proven reoffending rate, London"


def london_reoffending_context(rates: pd.DataFrame, borough: str, src: Source) -> tuple[str, str, pd.DataFrame]:
    """Markdown describing London's proven reoffending rate by year, labelled London-wide and secondary; a chart
    title stating the change; and the chart data (the rate as a proportion, indexed by year)."""
    by_year = rates.set_index("year")["rate"].sort_index()
    first, last = by_year.index[0], by_year.index[-1]
    drop = by_year.diff()
    steepest = drop.idxmin()
    before = by_year.index[by_year.index.get_loc(steepest) - 1] if drop.notna().any() else None
    secondary = f", a secondary source: the GLA compiled it from the {md(src.original)}" if src.secondary else ""
    direction = "fell" if by_year[last] < by_year[first] else "rose"
    text = (
        f"**London-wide context from a secondary source, not figures for {md(borough)}.** The "
        f"*{md(src.title)}* ({md(src.publisher)}{secondary}) gives London's proven reoffending rate for each year "
        f"from {first} to {last}. It {direction} from {100 * by_year[first]:.1f}% in {first} to "
        f"{100 * by_year[last]:.1f}% in {last} ({100 * (by_year[last] - by_year[first]):+.1f} points)"
    )
    if before is not None and drop[steepest] < 0:
        text += (
            f"; the largest fall between values was from {100 * by_year[before]:.1f}% in {before} to "
            f"{100 * by_year[steepest]:.1f}% in {steepest}"
        )
    text += (
        ". The GLA does not state which offenders the rate covers (adults, juveniles or both), which cohort "
        "period each value is, or what its dating of each value to June means, and gives no cohort sizes: so "
        "these rates carry no confidence interval or test of change, and are not comparable with a borough's "
        "adult or juvenile rate."
    )
    title = (
        f"London's proven reoffending rate {direction} from {100 * by_year[first]:.1f}% in {first} to "
        f"{100 * by_year[last]:.1f}% in {last} (London-wide)"
    )
    chart = pd.DataFrame({LONDON_RATE_LABEL: by_year.astype(float)})
    chart.index.name = "year"
    return text, title, chart


# --------------------------------------------------------------------------- key points (the top of the page)

SECTIONS = {
    "drugs": "Drug offences",
    "acquisitive": "Acquisitive crime",
    "reoffending": "Proven reoffending",
    "london": "London's proven reoffending rate (London-wide context; a secondary source)",
}


def _trend_words(row: pd.Series | dict, plural: bool = True) -> str:
    r = dict(row)
    if r["direction"] == "no clear change":
        return f"showed no clear trend over the {r['months']} months to {pd.Timestamp(r['end']):%B %Y}"
    return (
        f"{'were' if plural else 'was'} {r['direction']} by about {abs(r['pct_change_per_year']):.0f}% a year over the {r['months']} months "
        f"to {pd.Timestamp(r['end']):%B %Y}"
    )


def _reoffending_point(rates: pd.DataFrame | None, london_rate: pd.Series | None, borough: str) -> KeyPoint | None:
    """The borough's latest cohorts' reoffending, or without them London's rate (GLA, secondary); None without both."""
    if rates is not None and len(rates):
        latest = rates[rates["cohort_start"] == rates["cohort_start"].max()]
        shares = [f"{100 * r.rate:.0f}% of {str(r.age_group).lower()} offenders" for r in latest.itertuples()]
        return KeyPoint(
            f"Proven reoffending within a year, latest cohort ({latest['cohort'].iloc[0]}): {f.listing(shares)}.",
            section_id(SECTIONS["reoffending"]),
        )
    if london_rate is not None and len(london_rate) > 1:
        first, last = london_rate.index.min(), london_rate.index.max()
        moved = "fell" if london_rate[last] < london_rate[first] else "rose"
        return KeyPoint(
            f"No reoffending figures for {borough} are held here; across London reoffending {moved} from "
            f"{100 * london_rate[first]:.0f}% in {first} to {100 * london_rate[last]:.0f}% in {last} (GLA figures, "
            "a secondary source).",
            section_id(SECTIONS["london"]),
        )
    return None


def key_points(
    trends: pd.DataFrame,
    by_year: pd.DataFrame,
    borough: str,
    headline_year: str,
    lockdown: dict,
    rates: pd.DataFrame | None,
    london_rate: pd.Series | None = None,
) -> list[KeyPoint]:
    """Chapter 03's key points: the drug offences trend (its first chart), reoffending (the borough's latest cohorts,
    or, without the Ministry of Justice file, London's rate from the GLA, labelled London-wide and secondary), drug
    offences in the headline year against London, the first lockdown month, and acquisitive crime's trend.
    `trends` is trend_table indexed by group, `lockdown` lockdown_sentence's figures, `rates` reoffending_table's
    (None when the Ministry of Justice file is not provided), `london_rate` London's rate (0-1) by year."""
    drugs = trends.loc["Drug offences"]
    points = [KeyPoint(f"Recorded drug offences in {borough} {_trend_words(drugs)}.", section_id(SECTIONS["drugs"]))]
    reoffending = _reoffending_point(rates, london_rate, borough)
    if reoffending is not None:
        points.append(reoffending)
    year = by_year[(by_year["group"] == "Drug offences") & (by_year["financial_year"] == headline_year)]
    if len(year):
        r = year.iloc[0]
        points.append(
            KeyPoint(
                f"In {headline_year} {borough} recorded {f.number(r['count'])} drug offences, {r['rate']:.2f} per 1,000 "
                f"residents against London's {r['london_rate']:.2f}; recorded drug crime reflects police activity.",
                section_id(SECTIONS["drugs"]),
            )
        )
    month = pd.Timestamp(f"{lockdown['month']}-01")
    points.append(
        KeyPoint(
            f"In {month:%B %Y}, the first full lockdown month, {f.change_words(lockdown['pct_change'], 'drug offences')} "
            f"were recorded than in an average {month:%B} before the pandemic.",
            section_id(SECTIONS["drugs"]),
        )
    )
    acquisitive = trends.loc["Acquisitive crime"]
    points.append(
        KeyPoint(
            f"Acquisitive crime (burglary, robbery, theft and vehicle offences) {_trend_words(acquisitive, plural=False)}.",
            section_id(SECTIONS["acquisitive"]),
        )
    )
    return checked(points)


# --------------------------------------------------------------------------- the chapter's tables and headline figures

_DRIVER_COLUMNS = (
    {"group": "Offences", "financial_year": "Financial year", "count": "Count"}
    | YEAR_CHANGE_LABELS
    | {"rank": "Rank of 32"}
    | RATE_LABELS
)


def drivers_spec(by_year: pd.DataFrame, borough: str, source: str) -> TableSpec:
    """Drug offences and acquisitive crime by financial year (``drivers_by_year``), with the change on the year before."""
    return TableSpec(
        slug="03-drivers-by-year",
        data=by_year,
        columns=_DRIVER_COLUMNS,
        formats=year_change_formats(RATE_2DP) | {"rank": AS_IS},
        caption=(
            f"Recorded drug offences and acquisitive crime (burglary, robbery, theft, vehicle offences) in {borough} "
            "by financial year, with change on the previous year."
        ),
        source=source,
        period=f"financial years {by_year['financial_year'].min()} to {by_year['financial_year'].max()}",
    )


SHARE = "{:.1%}"  # a proportion (0-1) as a percentage with one decimal
POINTS = "{:+.1f}"  # a change in percentage points


def proven_spec(rates: pd.DataFrame, borough: str, threshold: int, source: str) -> TableSpec:
    """Proven reoffending by cohort (``reoffending_table``); cohorts with fewer than `threshold` reoffenders in italics."""
    return TableSpec(
        slug="03-proven-reoffending-table",
        data=rates,
        columns={
            "age_group": "Age group",
            "cohort": "Cohort",
            "offenders": "Offenders",
            "reoffenders": "Reoffenders",
            "rate": "Rate",
            "ci_low": "95% CI low",
            "ci_high": "95% CI high",
            "change_pp": "Change on previous cohort (points)",
            "p_value": "p-value",
            "per_reoffender": "Reoffences per reoffender",
        },
        formats={
            "offenders": COUNT,
            "reoffenders": COUNT,
            "rate": SHARE,
            "ci_low": SHARE,
            "ci_high": SHARE,
            "change_pp": POINTS,
            "p_value": P_VALUE,
            "per_reoffender": RATIO,
        },
        caption=(
            f"Proven reoffending in {borough}: rate with Wilson 95% interval and change on the previous "
            f"non-overlapping cohort (two-proportion z-test). Rows in italics have fewer than "
            f"{threshold} reoffenders."
        ),
        source=source,
        period=f"cohorts {rates['cohort'].iloc[0]} to {rates['cohort'].iloc[-1]}",
        flag=rates["reoffenders"] < threshold,
    )


def covid_cohorts_spec(cohorts: pd.DataFrame | None, borough: str, source: str) -> TableSpec | None:
    """Each cohort since the last pre-pandemic one against it (``covid_cohort_table``); None when there are none."""
    if cohorts is None or not len(cohorts):
        return None
    return TableSpec(
        slug="03-proven-reoffending-covid-years",
        data=cohorts,
        columns={
            "geography": "Area",
            "age_group": "Age group",
            "cohort": "Cohort",
            "rate": "Rate",
            "base_cohort": "Before the pandemic",
            "base_rate": "Rate then",
            "change_pp": "Change (points)",
            "p_value": "p-value",
        },
        formats={"rate": SHARE, "base_rate": SHARE, "change_pp": POINTS, "p_value": P_VALUE},
        caption=(
            f"Proven reoffending in {borough}, London and England in each 12-month cohort since the last one before "
            "the pandemic, against that cohort (two-proportion z-test; the same person can be in both cohorts, so "
            "read the p-value as approximate)."
        ),
        source=source,
        period=f"cohorts {cohorts['base_cohort'].iloc[0]} to {cohorts['cohort'].max()}",
    )


def _latest_rate(rates: pd.DataFrame | None, group: str) -> dict | None:
    if rates is None or not (rates["age_group"] == group).any():
        return None
    rows = rates[rates["age_group"] == group]
    return rows.iloc[-1][["cohort", "rate", "ci_low", "ci_high", "change_pp", "p_value"]].to_dict()


def _group_counts(by_year: pd.DataFrame, group: str) -> dict:
    return by_year[by_year["group"] == group].set_index("financial_year")["count"].to_dict()


def reoffending_headlines(
    points: Sequence[KeyPoint],
    by_year: pd.DataFrame,
    trends: pd.DataFrame,
    lockdown: dict,
    rates: pd.DataFrame | None,
    london_rates: pd.DataFrame,
    london_source_id: str,
    borough: str,
    headline_year: str,
    source: str,
) -> ReoffendingHeadlines:
    """Chapter 03's headline figures: the drivers by year and their trends, the latest cohorts' rates (None without
    the Ministry of Justice file) and London's rate by year (a secondary source)."""
    return ReoffendingHeadlines(
        borough=borough,
        key_points=tuple(points),
        headline_year=headline_year,
        drug_offences=_group_counts(by_year, "Drug offences"),
        acquisitive_crime=_group_counts(by_year, "Acquisitive crime"),
        trends={
            g: {"direction": r.direction, "pct_change_per_year": r.pct_change_per_year, "end": f"{r.end:%Y-%m}"}
            for g, r in trends.iterrows()
        },
        drug_offences_lockdown=lockdown,
        proven_reoffending_available=rates is not None,
        london_proven_reoffending=london_rates.iloc[:, 0].to_dict(),
        london_proven_reoffending_source_id=london_source_id,
        adult_reoffending=_latest_rate(rates, "Adult"),
        juvenile_reoffending=_latest_rate(rates, "Juvenile"),
        source=source,
    )


# --------------------------------------------------------------------------- the plan's figures


def plan_rows(borough: str) -> list[dict]:
    """The proven reoffending figures the borough's plan quotes (rate and rate change rows of its plan table), beside
    the data as the plan audit reads and judges them (rows of ``report.plan_words.row``); empty without a plan."""
    found = [
        c for kind in ("rate", "rate change") for c in plan_audit.comparisons(borough, kind, (MOJ_PROVEN_REOFFENDING,))
    ]
    return [plan_words.row(c) for c in found]


def plan_sentences(rows: list[dict]) -> str:
    """The plan's reoffending figures beside the data, a Markdown bullet each (`plan_rows`); empty when none."""
    if not rows:
        return ""
    bullets = "\n".join(plan_words.sentence(r) for r in rows)
    return f"The CSP plan's reoffending figures beside the data, as the plan audit reads and judges them:\n\n{bullets}"
