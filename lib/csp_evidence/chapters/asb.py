"""Anti-social behaviour (ASB) incidents for the neighbourhood chapter, from the data.police.uk street files.

ASB incidents are not crimes, so they are not in the MPS recorded-crime files; the official open source is the
police.uk street-level data (crime type 'Anti-social behaviour'), registered as the optional source
``policeuk_street_asb``. While it is not provided, ``asb_section(None, ...)`` says so plainly and names the
file that would fill the gap. When it is, the section holds the borough's monthly ASB series and, if the
series covers the five pre-pandemic years, the Covid counterfactual of ``stats.timeseries.covid_counterfactual``
(the design of Halford, Dixon & Farrell 2022, Crime Science 11:7, who found police-recorded ASB in England and
Wales more than doubled against its expected level early in the pandemic).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from csp_evidence.analysis.covid import first_pandemic_year
from csp_evidence.analysis.stats import timeseries as ts
from csp_evidence.data.readers.policeuk import asb_monthly
from csp_evidence.data.sources import Source
from csp_evidence.report import words as f

PRE_YEARS = 5
HALFORD_2022 = (
    "Halford, Dixon & Farrell (2022, *Crime Science* 11) found that police-recorded ASB in England and "
    "Wales rose to more than double its expected level early in the pandemic"
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


def missing_source_note(src: Source) -> str:
    """Markdown saying that no ASB source is in the data, naming the official file that would fill the gap."""
    return (
        f"**Anti-social behaviour incidents are not shown: no ASB source is in the data mirror.** The MPS "
        "recorded-crime files count crimes only, and ASB incidents are not crimes. The official open source "
        f"is *{f.md(src.title)}* ({f.md(src.publisher)}, {f.md(src.licence)}), from <{src.page}>: {src.notes} "
        f"The combined file must be saved as `data/raw/{src.file}` ({f.md(src.period)}). With it, this section "
        "shows the borough's monthly ASB incidents against the level expected from the five pre-pandemic years, "
        f"with its 95% prediction interval: {HALFORD_2022}. The rest of this chapter does not depend on it."
    )


def asb_series(tidy: pd.DataFrame, borough: str) -> pd.Series:
    """Monthly ASB incidents for a borough from the tidy police.uk table; months must be contiguous."""
    series = asb_monthly(tidy, borough)
    full = pd.date_range(series.index.min(), series.index.max(), freq="MS")
    missing = full.difference(series.index)
    if len(missing):
        raise ValueError(
            f"police.uk street data for {borough} lack {len(missing)} month(s), first "
            f"{missing[0]:%Y-%m}: add those monthly files (a missing month is unknown, not zero)"
        )
    return series


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
    effect = {
        "year": year,
        "observed": int(fy["observed"]),
        "expected": float(fy["expected"]),
        "lower": float(fy["lower"]),
        "upper": float(fy["upper"]),
        "outside": fy["outside"],
        "pct_difference": float(fy["pct_difference"]),
    }
    peak = cf.monthly["ratio"].idxmax()
    chart = pd.DataFrame({"Observed": series.loc[since:].astype(float)}).join(
        cf.monthly[["expected", "lower", "upper"]].rename(columns={"expected": "Expected without the pandemic"})
    )
    where = {"above": "above the 95% interval", "below": "below the 95% interval", "within": "within the 95% interval"}
    text = (
        f"The police.uk street files record {f.number(effect['observed'])} ASB incidents in {f.md(borough)} in "
        f"{year}, against {f.number(effect['expected'])} expected from the pre-pandemic pattern (95% interval "
        f"{f.number(effect['lower'])} to {f.number(effect['upper'])}), {f.pct(effect['pct_difference'])}, "
        f"{where[effect['outside']]}. The largest monthly excess was in {peak:%B %Y}, "
        f"{cf.monthly.loc[peak, 'ratio']:.1f} times the expected level. For comparison, {HALFORD_2022}."
    )
    verb = {"above": "rose above", "below": "fell below", "within": "stayed within"}[effect["outside"]]
    return AsbSection(True, text, f"ASB incidents in {borough} {verb} the expected level in {year}", chart, effect)
