"""Hate crime for the chapter on plan priority 2, by strand, from the MPS hate crime or special crime dashboard file.

The strands (`priorities.HATE_STRANDS`: racist and religious, faith, Islamophobic, antisemitic, homophobic,
transgender, disability) are flags an offence carries, so they overlap and are never added up. For each strand
and financial year: the count, the change on the year before with its exact Poisson test and Z-score, the rate
per 1,000 residents against London's and the borough's rank of 32 by rate (`summaries.measure_table`). The
small-number rule: a strand with fewer than `threshold` offences in a year, or the year before, is shown as
counts only (no change test, rate or ranking). Years past the data (the file ends in May 2021) are marked, not
read as zero. The Covid-era shift in racist and religious hate crime is the first pandemic year and summer 2020
against the level expected from the five pre-pandemic years (`covid.covid_effects`), and Islamophobic and
antisemitic hate crime are charted by month.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from csp_evidence.analysis import covid, plan_audit
from csp_evidence.analysis.priorities import HATE_STRANDS, RACIST_AND_RELIGIOUS, Measure, measure_rows
from csp_evidence.analysis.priority_table import CHANGE_FIGURES
from csp_evidence.analysis.stats import timeseries as ts
from csp_evidence.analysis.summaries import complete_financial_years, measure_table, monthly_series, year_in_data
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.core.values import is_missing
from csp_evidence.data.sources import MPS_HATE_SPECIAL
from csp_evidence.report import plan_words
from csp_evidence.report import words as f
from csp_evidence.report.headlines import HateHeadlines
from csp_evidence.report.key_points import KeyPoint, checked, section_id
from csp_evidence.report.tables import COUNT, P_VALUE, PCT_CHANGE, SIGNED_COUNT, TableSpec

STRANDS: tuple[Measure, ...] = HATE_STRANDS
MONTHLY_STRANDS = ("Islamophobic hate crime", "Antisemitic hate crime")
SUMMER_2020 = pd.date_range("2020-06-01", "2020-08-01", freq="MS")  # the months after the first lockdown eased
HOME_OFFICE_2020 = (
    "The Home Office (*Hate crime, England and Wales, 2019 to 2020*, October 2020) found racially or religiously "
    "aggravated offences in England and Wales a third higher in June 2020 than a year before, and high again in "
    "July, and judged the rise likely to be related to the Black Lives Matter protests and far-right "
    "counter-protests that followed the death of George Floyd"
)
# Columns a small-number row does not show: no test, no rate, no ranking.
_TESTED = ["pct_change", "p_value", "significant", "z_score", "signal", "rate", "rate_rank", "rank"]
BY_YEAR_COLUMNS = [
    "strand",
    "financial_year",
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
    "rate_rank",
    "rank",
    "ranked",
    "small",
    "status",
]


def data_months(table: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last month of a tidy table."""
    return pd.Timestamp(table["month"].min()), pd.Timestamp(table["month"].max())


def data_note(table: pd.DataFrame, year_note: str = "") -> str:
    """Markdown: what the file is, that the strands overlap, and where its months end."""
    first, last = data_months(table)
    return (
        "The Metropolitan Police publish offences flagged as hate crime, by strand, borough and month, in the *MPS "
        "hate crime or special crime dashboard data* (London Datastore). The pack uses the extract of about June "
        f"2021, covering {first:%B %Y} to {last:%B %Y}: financial years after that are marked *past the data*, never "
        "counted as zero, and the most recent months were still open to revision. A strand is a flag on an offence, "
        "so the strands overlap: an offence can be racist and religious and faith hate crime at once, and Islamophobic "
        "and antisemitic offences are faith hate crime too. The strands are therefore shown one by one and never "
        "added up. The airports unit (Aviation Security, SO18) is left out of London's totals and the ranks, and "
        "the City of London has its own police force. " + year_note
    ).strip()


def strand_year(table: pd.DataFrame, headline_year: str) -> tuple[str, str]:
    """The year the strand figures describe: the headline year when the data hold it and the year before, else the
    latest such year, with a sentence saying so (empty when the headline year is used)."""
    year = year_in_data(table, headline_year)
    if year == headline_year:
        return year, ""
    first, last = data_months(table)
    return year, (
        f"The headline year {headline_year} lies outside this file, which runs from {first:%B %Y} to {last:%B %Y}, "
        f"so the strand figures describe {year}, the latest financial year it holds with the year before."
    )


def strands_by_year(
    special: pd.DataFrame, borough: str, years: Sequence[str], threshold: int, strands: Sequence[Measure] = STRANDS
) -> pd.DataFrame:
    """One row per strand and financial year: count, change on the year before (exact test, Z), rate, London's rate,
    rank of 32 by rate (and by count), small and status.

    A year the file does not hold with the year before is a row with status 'past the data ...' (or 'before the
    data') and no values. Small-number rows (count or previous under `threshold`) keep their counts only.
    Columns: BY_YEAR_COLUMNS.
    """
    held = complete_financial_years(special)
    first, last = data_months(special)
    rows = []
    for fy in years:
        if fy in held and previous_financial_year(fy) in held:
            table = measure_table(special, borough, fy, strands, threshold).rename(columns={"measure": "strand"})
            table[_TESTED] = table[_TESTED].astype(object)
            table.loc[table["small"].to_numpy(), _TESTED] = np.nan
            rows.append(table.assign(financial_year=fy, status=""))
        else:
            where = f"past the data (the file ends {last:%B %Y})" if fy > held[-1] else "before the data"
            rows.append(pd.DataFrame({"strand": [m.name for m in strands], "financial_year": fy, "status": where}))
    out = pd.concat(rows, ignore_index=True).reindex(columns=BY_YEAR_COLUMNS)
    out["order"] = out["strand"].map({m.name: i for i, m in enumerate(strands)})
    return out.sort_values(["order", "financial_year"]).drop(columns="order").reset_index(drop=True)


def year_rows(by_year: pd.DataFrame, year: str) -> pd.DataFrame:
    """The rows of one financial year, one per strand, in the strands' order."""
    return by_year[by_year["financial_year"] == year].reset_index(drop=True)


def strand_findings(by_year: pd.DataFrame, borough: str, year: str, threshold: int) -> str:
    """A Markdown bullet per strand: the year against the one before (with the test), rate against London and rank;
    counts only for a strand under the small-number threshold."""
    before = previous_financial_year(year)
    bullets = []
    for r in year_rows(by_year, year).itertuples():
        counts = f"{f.number(r.count)} in {year} against {f.number(r.previous)} in {before}"
        if r.small:
            bullets.append(
                f"- **{f.md(r.strand)}**: {counts}. Fewer than {threshold} offences in a year, so counts only: no "
                "change test, rate or ranking."
            )
            continue
        verdict = "beyond chance" if r.significant else "within chance"
        side = "above" if r.rate > r.london_rate else "below"
        bullets.append(
            f"- **{f.md(r.strand)}**: {counts} ({f.pct(r.pct_change)}, {verdict}, {f.p_value(r.p_value)}). "
            f"{r.rate:.2f} per 1,000 residents, {side} London's {r.london_rate:.2f}: the "
            f"{f.ordinal(int(r.rate_rank))} highest rate of {int(r.ranked)} boroughs."
        )
    return (
        f"Offences flagged with each hate crime strand in {f.md(borough)}. The strands overlap (an offence can be both "
        "racist and religious and faith hate crime; Islamophobic and antisemitic offences are faith hate crime too), so "
        "they are never added up.\n\n" + "\n".join(bullets)
    )


def london_index(by_year: pd.DataFrame, year: str) -> pd.DataFrame:
    """Each strand's rate as a percentage of London's (London = 100) in `year`, small-number strands left out:
    index, rate, london_rate, rank (by rate), ranked; indexed by strand."""
    rows = year_rows(by_year, year)
    rows = rows[~rows["small"].astype(bool)].set_index("strand")
    out = rows[["rate", "london_rate", "rate_rank", "ranked"]].astype(float).rename(columns={"rate_rank": "rank"})
    out["index"] = 100 * out["rate"] / out["london_rate"]
    return out


def index_title(index: pd.DataFrame, borough: str, year: str) -> str:
    """'Tower Hamlets was above London's rate on 5 of 6 hate crime strands in 2019/20'."""
    above = int((index["index"] > 100).sum())
    return f"{borough} was above London's rate on {above} of {len(index)} hate crime strands in {year}"


# --------------------------------------------------------------------------- the Covid-era shift


def racist_covid(
    special: pd.DataFrame, borough: str, covid_start: str
) -> tuple[pd.Series, ts.Counterfactual | None, pd.Series | None]:
    """Racist and religious hate crime against its pre-pandemic expectation: the covid_effects row (first pandemic
    year, first lockdown), the fitted counterfactual (None when too few offences to model) and summer 2020
    (June to August: observed, expected, lower, upper, outside, pct_difference, and same_months_2017_2019, the
    mean of June to August in the three years before; None when not modelled)."""
    effects, fits = covid.covid_effects(special, borough, [RACIST_AND_RELIGIOUS], covid_start)
    fit = fits.get(RACIST_AND_RELIGIOUS.name)
    summer = None
    if fit is not None and SUMMER_2020.isin(fit.monthly.index).all():
        summer = ts.counterfactual_for_months(fit, SUMMER_2020, "Summer 2020 (June to August)")
        series = monthly_series(measure_rows(special, RACIST_AND_RELIGIOUS), borough)
        before = [series.loc[SUMMER_2020 - pd.DateOffset(years=k)].sum() for k in (1, 2, 3)]
        summer["same_months_2017_2019"] = float(np.mean(before))
    return effects.iloc[0], fit, summer


def summer_sentence(effect: pd.Series, fit: ts.Counterfactual | None, summer: pd.Series | None, borough: str) -> str:
    """The answer to 'did racist and religious hate crime rise in summer 2020?', with the first pandemic year."""
    if fit is None or summer is None:
        note = effect.get("note") or "the counterfactual does not cover summer 2020"
        return f"Racist and religious hate crime in {f.md(borough)} is not modelled: {note}."
    months = fit.monthly.loc[SUMMER_2020]
    peak = months["ratio"].idxmax()
    year = (
        f" Over {effect['year']} as a whole, {f.number(effect['observed'])} were recorded against "
        f"{f.number(effect['expected'])} expected (95% interval {f.number(effect['lower'])} to "
        f"{f.number(effect['upper'])}), {f.pct(effect['pct_difference'])}, {f.interval_words(effect['outside'], 'interval predicts').split(':')[0]}."
    )
    return (
        f"In summer 2020 (June to August), as the first lockdown eased, {f.md(borough)} recorded "
        f"{f.number(summer['observed'])} racist and religious hate crimes against {f.number(summer['expected'])} "
        f"expected from the five pre-pandemic years (95% interval {f.number(summer['lower'])} to "
        f"{f.number(summer['upper'])}), {f.pct(summer['pct_difference'])}, {f.interval_words(summer['outside'], 'interval predicts')}; the same months "
        f"of 2017 to 2019 averaged {f.number(summer['same_months_2017_2019'])}. The highest "
        f"month was {peak:%B %Y}, {months.loc[peak, 'ratio']:.1f} times its expected level."
        + year
        + f" {HOME_OFFICE_2020}."
    )


def summer_title(summer: pd.Series | None, borough: str) -> str:
    """A chart title stating the summer 2020 finding."""
    if summer is None:
        return f"Racist and religious hate crime in {borough} by month"
    word = f.interval_words(summer["outside"], "moved")
    return f"Racist and religious hate crime in {borough} {word} the expected range in summer 2020"


def covid_figures(effect: pd.Series, summer: pd.Series | None) -> dict:
    """The first pandemic year and summer 2020 for the headline JSON (plain values, None where not modelled)."""
    keys = ["year", "observed", "expected", "lower", "upper", "outside", "pct_difference", "note"]
    year = {k: (None if pd.isna(effect.get(k)) else effect.get(k)) for k in keys}
    season = None
    if summer is not None:
        season = {"period": "2020-06 to 2020-08"} | {
            k: summer[k]
            for k in ("observed", "expected", "lower", "upper", "outside", "pct_difference", "same_months_2017_2019")
        }
    return {"first_pandemic_year": year, "summer_2020": season}


# --------------------------------------------------------------------------- Islamophobic and antisemitic, by month


def monthly_faith_frame(
    special: pd.DataFrame, borough: str, by_year: pd.DataFrame, year: str, since: str = "2017-04-01"
) -> tuple[pd.DataFrame, str]:
    """Monthly Islamophobic and antisemitic hate crime from `since` (chart data), and the area it describes.

    A strand under the small-number threshold in the borough in `year` is not charted for the borough (counts
    that small are never drawn as a trend); when both are, London's monthly counts (the 32 boroughs) are charted.
    """
    rows = year_rows(by_year, year).set_index("strand")
    kept = [s for s in MONTHLY_STRANDS if not bool(rows.loc[s, "small"])]
    by_name = {m.name: m for m in STRANDS}
    if kept:
        area, names = borough, kept
        series = {s: monthly_series(measure_rows(special, by_name[s]), borough) for s in names}
    else:
        area, names = "London", list(MONTHLY_STRANDS)
        series = {s: _london_monthly(special, by_name[s]) for s in names}
    frame = pd.DataFrame(series).loc[since:]
    frame.columns = [c.replace(" hate crime", "") for c in frame.columns]
    return frame, area


def _london_monthly(special: pd.DataFrame, measure: Measure) -> pd.Series:
    rows = measure_rows(special, measure)
    boroughs = rows[~rows["borough"].str.startswith("Aviation")]
    return boroughs.groupby("month")["count"].sum()


def monthly_title(by_year: pd.DataFrame, area: str, borough: str) -> str:
    """'Islamophobic and antisemitic hate crime in Tower Hamlets, 2019/20 to 2020/21: islamophobic 70 to 62, ...'."""
    if area != borough:
        return f"Islamophobic and antisemitic hate crime in London by month ({borough}'s counts are too small to chart)"
    last = by_year.loc[by_year["status"].fillna("") == "", "financial_year"].max()
    parts = []
    for name in MONTHLY_STRANDS:
        row = by_year[(by_year["strand"] == name) & (by_year["financial_year"] == last)].iloc[0]
        parts.append(f"{name.split()[0]} {f.number(row['previous'])} to {f.number(row['count'])}")
    return f"Hate crime in {borough}, {previous_financial_year(last)} to {last}: " + ", ".join(parts)


def monthly_sentence(frame: pd.DataFrame, area: str) -> str:
    """The highest month of each charted strand, and the total over the charted months."""
    parts = []
    for col in frame.columns:
        peak = frame[col].idxmax()
        parts.append(
            f"{col} hate crime: {f.number(frame[col].sum())} offences, the most in {peak:%B %Y} "
            f"({f.number(frame.loc[peak, col])})"
        )
    span = f"{frame.index.min():%B %Y} to {frame.index.max():%B %Y}"
    return f"In {f.md(area)} from {span}, " + "; ".join(parts) + "."


# --------------------------------------------------------------------------- the plan's figures


def plan_rows(borough: str) -> list[dict]:
    """The hate crime strand changes the borough's plan quotes, beside the data, as the plan audit reads and judges
    them (rows of ``report.plan_words.row``); empty when the borough has no plan table."""
    strands = tuple(m.name for m in STRANDS)
    return [plan_words.row(c) for c in plan_audit.comparisons(borough, "change", (MPS_HATE_SPECIAL,), strands)]


def plan_sentences(rows: Sequence[dict]) -> str:
    """The plan's hate crime figures beside the data, from `plan_rows` (those with a plan value)."""
    out = []
    for r in rows:
        if is_missing(r["plan_value"]):
            continue
        verb = "a fall" if r["plan_value"] < 0 else "a rise"
        data = "" if is_missing(r["recomputed"]) else f" The data give {f.pct(r['recomputed'])}"
        out.append(
            f"- **{f.md(r['figure'])}**: the plan ({f.md(r['plan_section'])}) reports {verb} of "
            f"{abs(r['plan_value']):g}%.{data} over {f.md(r['period'])}: **{f.md(r['verdict'])}**. {f.md(r['note'])}"
        )
    return "\n".join(out)


# --------------------------------------------------------------------------- key points (the top of the page)

SECTIONS = {
    "strands": "Hate crime by strand",
    "london": "London comparison",
    "covid": "Racist and religious hate crime and the Covid-19 pandemic",
}


def _strand_words(name: str) -> str:
    """'Homophobic hate crime' -> 'homophobic'; 'Islamophobic hate crime' -> 'Islamophobic' (a proper adjective)."""
    word = name.removesuffix(" hate crime")
    return word if word.split()[0] in ("Islamophobic", "Antisemitic") else word.lower()


def key_points(by_year: pd.DataFrame, borough: str, year: str, summer: pd.Series | None) -> list[KeyPoint]:
    """Chapter 02's key points: London (its first chart), racist and religious hate crime's change, the strands
    that changed beyond chance, and summer 2020 against its expected level (`summer` from racist_covid)."""
    index = london_index(by_year, year)
    rows = year_rows(by_year, year).set_index("strand")
    points = []
    above = int((index["index"] > 100).sum())
    text = f"In {year} {borough} had a higher rate than London on {above} of {len(index)} hate crime strands"
    rr = RACIST_AND_RELIGIOUS.name
    if rr in index.index:
        text += (
            f"; racist and religious hate crime was {index.loc[rr, 'rate']:.2f} per 1,000 residents against "
            f"London's {index.loc[rr, 'london_rate']:.2f}"
        )
    points.append(KeyPoint(text + ".", section_id(SECTIONS["london"])))
    if rr in rows.index and not rows.loc[rr, "small"]:
        r = rows.loc[rr]
        points.append(
            KeyPoint(
                f"Racist and religious hate crime {f.moved(r['pct_change'])} in {year}, to {f.number(r['count'])} "
                f"offences: {f.variation(bool(r['significant']))}.",
                section_id(SECTIONS["strands"]),
            )
        )
    shown = len(points) == 2  # racist and religious hate crime has a point of its own
    tested = rows[~rows["small"].astype(bool)].drop(index=[rr] if shown else [], errors="ignore")
    beyond = tested[tested["significant"].astype(bool)]
    other = "other " if shown else ""
    if len(beyond):
        named = [f"{_strand_words(n)} {f.moved(r['pct_change'])}" for n, r in beyond.iterrows()]
        text = f"{other.capitalize()}strands that changed by more than normal variation in {year}: {f.listing(named)}."
    else:
        text = f"No {other}hate crime strand changed by more than normal year-to-year variation in {year}."
    points.append(KeyPoint(text, section_id(SECTIONS["strands"])))
    if summer is None:
        text = f"Racist and religious hate crime in {borough} is too small a count to set against its expected level."
    else:
        text = (
            f"In summer 2020, as the first lockdown eased, racist and religious hate crime "
            f"{f.interval_words(summer['outside'], 'level')} expected "
            f"without the pandemic: {f.number(summer['observed'])} offences against {f.number(summer['expected'])} expected."
        )
    points.append(KeyPoint(text, section_id(SECTIONS["covid"])))
    return checked(points)


# --------------------------------------------------------------------------- the chapter's tables and headline figures

RATE_3DP = "{:.3f}"  # per 1,000 residents: hate crime rates are small
RANK = "{:.0f}"


def small_note(threshold: int) -> str:
    """What the italic rows of the strand tables mean."""
    return (
        f"Rows in italics have fewer than {threshold} offences in the year or the year before: counts "
        "only, with no change test, rate or ranking."
    )


def strands_spec(strands: pd.DataFrame, borough: str, year: str, threshold: int, source: str) -> TableSpec:
    """Each strand in `year` against the year before, with its rate and rank (``year_rows``)."""
    return TableSpec(
        slug="02-strands",
        data=strands,
        columns={
            "strand": "Strand",
            "previous": previous_financial_year(year),
            "count": year,
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "signal": "Signal (|Z| > 3)",
            "rate": "Per 1,000 residents",
            "london_rate": "London per 1,000",
            "rate_rank": "Rank of 32 by rate",
        },
        formats={
            "previous": COUNT,
            "count": COUNT,
            "pct_change": PCT_CHANGE,
            "p_value": P_VALUE,
            "rate": RATE_3DP,
            "london_rate": RATE_3DP,
            "rate_rank": RANK,
        },
        caption=(
            f"Offences flagged with each hate crime strand in {borough}, {year} against the year before (exact Poisson "
            "test of the rate ratio; Poisson Z-score signal), rate per 1,000 residents and rank of the 32 boroughs by "
            f"rate (1 = highest). The strands overlap and are never added up. {small_note(threshold)}"
        ),
        source=f"{source}; ONS mid-year population estimates",
        period=f"financial year {year} against {previous_financial_year(year)}",
        flag=strands["small"].astype(bool),
    )


def by_year_spec(by_year: pd.DataFrame, borough: str, threshold: int, source: str) -> TableSpec:
    """Each strand by financial year (``strands_by_year``); the CSV is the whole table."""
    years = by_year["financial_year"]
    return TableSpec(
        slug="02-strands-by-year",
        data=by_year,
        columns={
            "strand": "Strand",
            "financial_year": "Financial year",
            "count": "Offences",
            "change": "Change",
            "pct_change": "Change (%)",
            "p_value": "p-value",
            "rate": "Per 1,000 residents",
            "rate_rank": "Rank of 32 by rate",
            "status": "Note",
        },
        formats={
            "count": COUNT,
            "change": SIGNED_COUNT,
            "pct_change": PCT_CHANGE,
            "p_value": P_VALUE,
            "rate": RATE_3DP,
            "rate_rank": RANK,
        },
        caption=(
            f"Offences flagged with each hate crime strand in {borough} by financial year (April to March), each against "
            f"the year before. Years the file does not cover are marked, never counted as zero. {small_note(threshold)} "
            "The CSV adds London's rate, the rank by count, the Z-score and the test."
        ),
        source=source,
        period=f"financial years {years.min()} to {years.max()}",
        flag=by_year["small"].fillna(False).astype(bool),
        download=by_year,
    )


_STRAND_FIGURES = (
    *CHANGE_FIGURES,
    "rate_rank",
    "ranked",
    "small",
)


def hate_headlines(
    points: Sequence[KeyPoint],
    special: pd.DataFrame,
    strands: pd.DataFrame,
    pandemic: dict,
    plan: Sequence[dict],
    borough: str,
    headline_year: str,
    year: str,
    threshold: int,
    source: str,
) -> HateHeadlines:
    """Chapter 02's headline figures: each strand in `year`, racist and religious hate crime in the pandemic
    (``covid_figures``) and the plan's figures beside the data (rows with figure_id, plan_value, recomputed, verdict)."""
    return HateHeadlines(
        borough=borough,
        key_points=tuple(points),
        headline_year=headline_year,
        strand_year=year,
        data_months=[f"{m:%Y-%m}" for m in data_months(special)],
        strands={r["strand"]: {k: r[k] for k in _STRAND_FIGURES} for _, r in strands.iterrows()},
        racist_and_religious_covid=pandemic,
        plan={
            r["figure_id"]: {"plan": r["plan_value"], "recomputed": r["recomputed"], "verdict": r["verdict"]}
            for r in plan
        },
        small_number_threshold=threshold,
        source=source,
    )
