"""Anti-social behaviour (ASB) incidents for the neighbourhood chapter, from the data.police.uk street files.

ASB incidents are not crimes, so they are not in the MPS recorded-crime files; the official open source is the
police.uk street-level data (crime type 'Anti-social behaviour'), registered as the optional source
``policeuk_street_asb``. While it is not provided, ``asb_section(None, ...)`` says so plainly and names the
file that would fill the gap. When it is, the section holds the borough's monthly ASB series and, if the
series covers the five pre-pandemic years, the Covid counterfactual of ``stats.timeseries.covid_counterfactual``
(the design of Halford, Dixon & Farrell 2022, Crime Science 11:7, who found police-recorded ASB in England and
Wales more than doubled against its expected level early in the pandemic).

Until the borough's own ASB is provided, and beside it once it is, the chapter shows what the data hold about
ASB above the borough, each labelled for what it is: the Metropolitan Police's ASB incidents by financial year
2007/08 to 2018/19 from the ONS police force area tables (``force_asb_section``: force-wide, the 32 London
boroughs together), and London's monthly ASB *calls* to the police 2019 to 2024 from the GLA's State of London
data (``london_calls_section``: London-wide calls, not incidents, and a secondary source compiled from the MOPAC
crime dashboard), with the lockdown surge of ``covid.lockdown_surge``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from csp_evidence.analysis.asb import (
    PRE_YEARS,
    asb_series,
    borough_asb_figures,
    force_asb_table,
)
from csp_evidence.analysis.covid import (
    CovidShift,
    LockdownSurge,
    first_pandemic_year,
    lockdown_surge,
    period_figures,
)
from csp_evidence.analysis.stats import timeseries as ts
from csp_evidence.analysis.stats.change import Relative
from csp_evidence.core.periods import financial_years
from csp_evidence.core.values import is_missing
from csp_evidence.data.readers.ons import CITY_OF_LONDON_POLICE, MET, PFA_ASB_COMPARABLE_FROM
from csp_evidence.data.sources import Source
from csp_evidence.report import asb_words, charts
from csp_evidence.report import words as f
from csp_evidence.report.asb_words import HALFORD_2022, missing_source_note
from csp_evidence.report.key_points import KeyPoint, section_id
from csp_evidence.report.tables import (
    COUNT,
    P_VALUE,
    PCT_CHANGE,
    RATE,
    RATE_LABELS,
    RATIO,
    SIGNED_COUNT,
    YEAR_CHANGE_LABELS,
    Z_SCORE,
    TableSpec,
    year_change_formats,
)


@dataclass(frozen=True)
class AsbSection:
    """What the chapter shows about ASB: the text, and the monthly chart data when there is a series to chart.

    `chart` has columns Observed (ASB incidents per month) and, when a counterfactual was fitted, 'Expected without
    the pandemic', lower and upper; `effect` holds the first pandemic financial year (observed, expected, lower,
    upper, outside, pct_difference) when fitted.
    """

    available: bool
    text: str
    title: str = ""
    chart: pd.DataFrame | None = None
    effect: dict = field(default_factory=dict)

    def headline(self) -> dict:
        """Plain figures for the chapter's headline JSON."""
        months = None if self.chart is None else [f"{self.chart.index.min():%Y-%m}", f"{self.chart.index.max():%Y-%m}"]
        return {"available": self.available, "months": months, "first_pandemic_year": self.effect or None}


def asb_section(
    tidy: pd.DataFrame | None, borough: str, covid_start: str, src: Source, since: str = "2017-04-01"
) -> AsbSection:
    """The ASB section: a note naming the missing source when `tidy` is None, else the series and its counterfactual.

    The counterfactual needs PRE_YEARS years of months before `covid_start`; with fewer, the section shows
    the observed series only and says why there is no expected level.
    """
    if tidy is None:
        return AsbSection(available=False, text=missing_source_note(src))
    series = asb_series(tidy, borough)
    start = pd.Timestamp(f"{covid_start}-01")
    pre = series[series.index < start]
    span = f"{series.index.min():%B %Y} to {series.index.max():%B %Y}"
    year = first_pandemic_year(covid_start)
    if len(pre) < 12 * PRE_YEARS or series.index.max() < pd.Timestamp(f"{year[:4]}-04-01") + pd.DateOffset(months=11):
        chart = pd.DataFrame({"Observed": series.astype(float)})
        text = (
            f"The police.uk street files hold {f.number(series.sum())} ASB incidents in {f.md(borough)} from "
            f"{span}. No expected level is estimated: that needs {PRE_YEARS} years of months before "
            f"{start:%B %Y} and the whole of {year}, and these files cover {len(pre)} month(s) before it. "
            f"{HALFORD_2022}."
        )
        return AsbSection(True, text, f"Anti-social behaviour incidents in {borough}", chart)
    cf = ts.covid_counterfactual(series, start=start, pre_years=PRE_YEARS, financial_years=[year])
    fy = cf.periods.set_index("period").loc[f"Financial year {year}"]
    effect = {"year": year, **period_figures(fy)}
    peak = cf.monthly["ratio"].idxmax()
    chart = pd.DataFrame({"Observed": series.loc[since:].astype(float)}).join(
        cf.monthly[["expected", "lower", "upper"]].rename(columns={"expected": "Expected without the pandemic"})
    )
    text = (
        f"The police.uk street files record {f.number(effect['observed'])} ASB incidents in {f.md(borough)} in "
        f"{year}, against {f.number(effect['expected'])} expected from the pre-pandemic pattern (95% interval "
        f"{f.number(effect['lower'])} to {f.number(effect['upper'])}), {f.pct(effect['pct_difference'])}, "
        f"{f.interval_words(effect['outside'], 'interval')}. The largest monthly excess was in {peak:%B %Y}, "
        f"{cf.monthly.loc[peak, 'ratio']:.1f} times the expected level. For comparison, {HALFORD_2022}."
    )
    verb = f.interval_words(effect["outside"], "moved")
    return AsbSection(True, text, f"ASB incidents in {borough} {verb} the expected level in {year}", chart, effect)


# --------------------------------------------------------------------------- the borough's own ASB, in full


@dataclass(frozen=True)
class BoroughAsb:
    """The borough's ASB from the police.uk street files: the words, and the tables and charts behind them.

    `years`: ``summaries.totals_by_year`` for ASB (count, change with its exact Poisson test, rate per 1,000, rank
    of 32, London's rate) over the params' financial years wholly in the files; `shift` and `london_shift`: the
    Covid-era shift (``covid.covid_shift``) of the borough and of London (the 32 boroughs); `relative`: the
    borough's change into the first pandemic year against the rest of London's; `periods`: each restriction
    period and the year, observed against expected with the excess, beside London's per cent difference;
    `chart`: monthly observed from `since` with the expected level and its interval; `side_by_side`: ASB and all
    other street-level crime in the borough, each as a percentage of its mean in the 12 months before the pandemic.
    """

    borough: str
    text: str
    coverage_text: str
    title: str
    chart: pd.DataFrame
    years: pd.DataFrame
    shift: CovidShift | None
    london_shift: CovidShift | None
    relative: Relative | None
    periods: pd.DataFrame
    side_by_side: pd.DataFrame
    side_title: str

    def headline(self) -> dict:
        """Plain figures for the chapter's headline JSON."""
        years = self.years.set_index("financial_year") if len(self.years) else pd.DataFrame()
        return {
            "available": True,
            "months": [f"{self.chart.index.min():%Y-%m}", f"{self.chart.index.max():%Y-%m}"],
            "by_financial_year": {
                fy: {
                    k: r[k]
                    for k in ("count", "pct_change", "p_value", "rate", "rank")
                    if k in r and not is_missing(r[k])
                }
                for fy, r in years.iterrows()
            },
            "first_pandemic_year": None if self.shift is None else self.shift.headline(),
            "london_first_pandemic_year": None if self.london_shift is None else self.london_shift.headline(),
            "relative_to_rest_of_london": None if self.relative is None else self.relative.as_dict(),
        }


def borough_asb_section(
    tidy: pd.DataFrame,
    coverage: pd.DataFrame,
    borough: str,
    covid_start: str,
    years: list[str] | tuple[str, ...],
    since: str = "2017-04-01",
) -> BoroughAsb:
    """The borough's ASB section from the police.uk street table (``datasets.asb_incidents``) and its coverage:
    the figures of ``analysis.asb.borough_asb_figures`` and the words of ``report.asb_words``."""
    figures = borough_asb_figures(tidy, borough, covid_start, years, since)
    series = figures.series
    span = f"{series.index.min():%B %Y} to {series.index.max():%B %Y}"
    side_text, side_title = asb_words.side_by_side_words(figures.side, borough, covid_start)
    parts = [
        f"The police.uk street files record {f.number(series.sum())} ASB incidents in {f.md(borough)} from {span}.",
        *asb_words.years_sentences(figures.table),
        *asb_words.pandemic_sentences(figures, borough),
        side_text,
    ]
    return BoroughAsb(
        borough,
        " ".join(p for p in parts if p),
        asb_words.coverage_sentence(coverage),
        asb_words.borough_title(figures, borough),
        figures.chart,
        figures.table,
        figures.shift,
        figures.london_shift,
        figures.relative,
        figures.periods,
        figures.side,
        side_title,
    )


def shift_table(section: BoroughAsb) -> pd.DataFrame:
    """The restriction periods and the first pandemic year for display: observed, expected, interval, excess."""
    cols = ["period", "months", "observed", "expected", "lower", "upper", "excess", "pct_difference", "outside"]
    extra = ["london_pct_difference"] if "london_pct_difference" in section.periods else []
    return section.periods[cols + extra] if len(section.periods) else pd.DataFrame(columns=cols)


# --------------------------------------------------------------------------- force-wide: ONS police force area tables

INCIDENTS_LABEL = "ASB incidents recorded by the force"


def force_of(borough: str) -> str:
    """The police force whose area holds a London local authority: the City of London has its own force."""
    return CITY_OF_LONDON_POLICE if borough == CITY_OF_LONDON_POLICE else MET


@dataclass(frozen=True)
class ForceAsb:
    """A force's ASB incidents by financial year (ONS PFA tables), force-wide.

    `table`: financial_year, incidents, rate_per_1000, previous, change, pct_change, rate_ratio, p_value,
    significant, z_score, signal, comparable (False where the previous year was recorded on another basis, and
    then no change is given); `chart`: incidents indexed by financial year.
    """

    force: str
    table: pd.DataFrame
    text: str
    title: str
    chart: pd.DataFrame

    def headline(self) -> dict:
        """Plain figures for the chapter's headline JSON."""
        last = self.table.iloc[-1]
        return {
            "force": self.force,
            "incidents": self.table.set_index("financial_year")["incidents"].to_dict(),
            "latest_year": last["financial_year"],
            "latest_pct_change": last["pct_change"],
            "latest_p_value": last["p_value"],
        }


def force_asb_section(
    pfa: pd.DataFrame, categories: pd.DataFrame | None, borough: str, src: Source, force: str | None = None
) -> ForceAsb:
    """The force's ASB incidents by financial year, said plainly to be force-wide, not the borough's figures
    (``analysis.asb.force_asb_table``; the words of ``report.asb_words.force_text``)."""
    force = force or force_of(borough)
    table = force_asb_table(pfa, force)
    by_year = table.set_index("financial_year")
    since = max(PFA_ASB_COMPARABLE_FROM, table["financial_year"].min())  # the first year on the current basis
    last, first = table.iloc[-1], by_year.loc[since]
    span_pct = 100 * (last["incidents"] / first["incidents"] - 1)
    what = "the Metropolitan Police" if force == MET else f"the {force} Police"
    text = asb_words.force_text(pfa, categories, table, force, what, borough, since, src)
    direction = "fell" if span_pct < 0 else "rose"
    title = (
        f"ASB incidents recorded by {what} {direction} by {abs(span_pct):.0f}% from {since} to {last['financial_year']}"
    )
    chart = pd.DataFrame({INCIDENTS_LABEL: by_year["incidents"].astype(float)})
    return ForceAsb(force, table, text, title, chart)


# --------------------------------------------------------------------------- London-wide: GLA State of London (secondary)

CALLS_LABEL = "ASB calls to the Metropolitan Police, London"


@dataclass(frozen=True)
class LondonCalls:
    """London's monthly ASB calls and their lockdown surge; `chart` is calls indexed by month."""

    surge: LockdownSurge
    text: str
    title: str
    chart: pd.DataFrame
    years: pd.Series  # calls by complete financial year

    def headline(self) -> dict:
        """Plain figures for the chapter's headline JSON."""
        return {
            "months": [f"{self.chart.index.min():%Y-%m}", f"{self.chart.index.max():%Y-%m}"],
            "by_financial_year": self.years.to_dict(),
            "surge": self.surge.headline(),
        }


def london_calls_section(calls: pd.DataFrame, borough: str, covid_start: str, src: Source) -> LondonCalls:
    """London's ASB calls by month with the lockdown surge, said plainly to be London-wide calls (not incidents,
    not the borough's) from a secondary source (the words of ``report.asb_words.calls_text``)."""
    series = calls.set_index("month")["calls"].sort_index()
    surge = lockdown_surge(series, covid_start)
    fy = series.groupby(financial_years(series.index).to_numpy()).agg(["sum", "count"])
    years = fy.loc[fy["count"] == 12, "sum"].astype(int)
    change, peak = surge.year_change, surge.peak
    verb = "more than doubled" if change.rate_ratio > 2 else f"rose by {change.pct_change:.0f}%"
    title = f"London's ASB calls to the police {verb} in {surge.year}, peaking in {peak['month']:%B %Y}"
    chart = pd.DataFrame({CALLS_LABEL: series.astype(float)})
    chart.index.name = "month"
    return LondonCalls(surge, asb_words.calls_text(surge, years, borough, src), title, chart, years)


def lockdown_table(surge: LockdownSurge) -> pd.DataFrame:
    """The lockdown months for display: month, period, count, baseline month, baseline, pct_change, rate_ratio."""
    out = surge.months[["month", "period", "count", "baseline_month", "baseline", "pct_change", "rate_ratio"]].copy()
    out["month"] = out["month"].dt.strftime("%B %Y")
    out["baseline_month"] = out["baseline_month"].dt.strftime("%B %Y")
    return out


# The chapter's ASB sections, as its headings say (the key point links to one).
SECTIONS = {
    "borough": "Anti-social behaviour incidents in the borough",
    "calls": "Anti-social behaviour calls across London (London-wide; a secondary source)",
}


def key_point(section: AsbSection | BoroughAsb, calls: LondonCalls) -> KeyPoint:
    """Chapter 01's key point on ASB: the borough's first pandemic year against the level expected without the
    pandemic when the police.uk files are there, else London's ASB calls in that year against the year before
    (London-wide, labelled as the secondary source they are)."""
    if isinstance(section, BoroughAsb) and section.shift is not None:
        shift, fy = section.shift, section.shift.fy
        return KeyPoint(
            f"Police-recorded ASB in {section.borough} in {shift.year}, the first pandemic year: "
            f"{f.number(fy['observed'])} incidents against {f.number(fy['expected'])} expected without the pandemic "
            f"({f.pct(fy['pct_difference'], signed=True)}), {fy['outside']} the expected range.",
            section_id(SECTIONS["borough"]),
        )
    change = calls.surge.year_change
    return KeyPoint(
        f"Calls about ASB to the police across London {f.moved(change.pct_change)} in {calls.surge.year}, to "
        f"{f.number(change.current)}, when reports of lockdown breaches were recorded as ASB (London-wide GLA figures, a "
        "secondary source).",
        section_id(SECTIONS["calls"]),
    )


# --------------------------------------------------------------------------- published tables

INTERVAL_LABELS = {
    "observed": "Observed",
    "expected": "Expected",
    "lower": "95% interval low",
    "upper": "95% interval high",
}


def years_spec(section: AsbSection | BoroughAsb, source: str) -> TableSpec | None:
    """The borough's ASB incidents by financial year as published (None without the police.uk files)."""
    if not isinstance(section, BoroughAsb) or not len(section.years):
        return None
    return TableSpec(
        "01-asb-by-year",
        section.years,
        columns={"financial_year": "Financial year", "count": "ASB incidents"}
        | YEAR_CHANGE_LABELS
        | RATE_LABELS
        | {"rank": "Rank of 32 (1 = most)"},
        formats=year_change_formats(),
        caption=(
            f"ASB incidents recorded in {section.borough} by financial year, with the change on the previous year "
            "(exact Poisson test) and the rate against London's."
        ),
        source=source,
        period=f"{section.years['financial_year'].iloc[0]} to {section.years['financial_year'].iloc[-1]}",
    )


def shift_spec(section: AsbSection | BoroughAsb, source: str) -> TableSpec | None:
    """The restriction periods and the first pandemic year against the expected level (``shift_table``) as
    published (None without the police.uk files or a fitted counterfactual)."""
    if not isinstance(section, BoroughAsb) or not len(section.periods) or section.shift is None:
        return None
    table = shift_table(section)
    columns = {"period": "Period", "months": "Months"} | INTERVAL_LABELS
    columns |= {"excess": "Excess", "pct_difference": "Difference (%)", "outside": "Against the interval"}
    if "london_pct_difference" in table:
        columns["london_pct_difference"] = "London difference (%)"
    formats = {"observed": COUNT, "expected": COUNT, "lower": COUNT, "upper": COUNT, "excess": SIGNED_COUNT}
    formats |= {c: PCT_CHANGE for c in ("pct_difference", "london_pct_difference") if c in columns}
    return TableSpec(
        "01-asb-covid-shift",
        table,
        columns=columns,
        formats=formats,
        caption=(
            f"ASB incidents in {section.borough} in each Covid restriction period and in {section.shift.year}, "
            f"against the level expected without the pandemic ({section.shift.method}), beside London's difference."
        ),
        source=source,
        period=f"Covid restriction periods and {section.shift.year}",
    )


def force_spec(force: ForceAsb, borough: str, source: str) -> TableSpec:
    """The force's ASB incidents by financial year (force-wide, not the borough's) as published."""
    years = force.table["financial_year"]
    return TableSpec(
        "01-force-asb-by-year",
        force.table,
        columns={
            "financial_year": "Financial year",
            "incidents": "ASB incidents (force-wide)",
            "rate_per_1000": "Per 1,000 residents",
            "change": "Change",
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "z_score": "Poisson Z",
        },
        formats={
            "incidents": COUNT,
            "rate_per_1000": RATE,
            "change": SIGNED_COUNT,
            "pct_change": PCT_CHANGE,
            "p_value": P_VALUE,
            "z_score": Z_SCORE,
        },
        caption=(
            f"ASB incidents recorded by the {force.force} force across its whole area (not {borough} alone), with "
            "the change on the previous year (exact Poisson test; none across the recording change of "
            f"{PFA_ASB_COMPARABLE_FROM})."
        ),
        source=source,
        period=f"{years.iloc[0]} to {years.iloc[-1]}",
    )


def calls_spec(calls: LondonCalls, borough: str, source: str) -> TableSpec:
    """London-wide ASB calls in each lockdown month against the same month before the pandemic
    (``lockdown_table``) as published; calls, not incidents, and not the borough's."""
    surge = calls.surge
    return TableSpec(
        "01-london-asb-calls-lockdowns",
        lockdown_table(surge),
        columns={
            "month": "Month",
            "period": "Restrictions",
            "count": "ASB calls",
            "baseline_month": "Same month before the pandemic",
            "baseline": "ASB calls then",
            "pct_change": "Change (%)",
            "rate_ratio": "Ratio",
        },
        formats={"count": COUNT, "baseline": COUNT, "pct_change": PCT_CHANGE, "rate_ratio": RATIO},
        caption=(
            "London-wide ASB calls to the police in each month touched by a national lockdown, against the same "
            f"month of {surge.baseline_calendar_year}. Calls, not incidents; not figures for {borough}."
        ),
        source=source,
        period=f"lockdown months against {surge.baseline_calendar_year}",
    )


# --------------------------------------------------------------------------- the chapter's ASB charts


def incidents_chart(section: AsbSection | BoroughAsb, source: str):
    """The borough's ASB incidents each month, with the expected level where fitted; None without a series."""
    if section.chart is None:
        return None
    return charts.monthly_chart(
        section.chart,
        section.title,
        "Anti-social behaviour incidents per month (police.uk street-level data)",
        "Incidents per month",
        source,
        band=("lower", "upper") if "lower" in section.chart else None,
    )


def side_by_side_chart(section: AsbSection | BoroughAsb, source: str):
    """ASB and all other street-level crime, each against its pre-pandemic level; None without the street files."""
    if not isinstance(section, BoroughAsb) or not len(section.side_by_side):
        return None
    return charts.monthly_chart(
        section.side_by_side,
        section.side_title,
        "Each series as a percentage of its average in the 12 months before the pandemic (= 100); national lockdowns shaded",
        "Per cent of the pre-pandemic level",
        source,
    )


def force_chart(force: ForceAsb, borough: str, source: str):
    """The force's ASB incidents by financial year, whole force area, with the break in recording marked."""
    return charts.annual_chart(
        force.chart,
        force.title,
        f"ASB incidents recorded by the {force.force} force, whole force area (not {borough} alone), by financial year",
        "Incidents per year",
        source,
        break_before=PFA_ASB_COMPARABLE_FROM,
        break_label="Recording changed: earlier years not directly comparable",
    )


def calls_chart(calls: LondonCalls, source: str):
    """London's ASB calls to the police each month (calls, not incidents), the lockdowns shaded."""
    return charts.monthly_chart(
        calls.chart,
        calls.title,
        "Calls about ASB received by the Metropolitan Police, all of London, per month (calls, not incidents); national lockdowns shaded",
        "Calls per month",
        source,
    )
