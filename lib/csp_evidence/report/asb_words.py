"""The sentences of the ASB sections (chapter 01): what the police.uk street files hold, the borough's ASB by
financial year and in the pandemic against the level expected without it and against London, ASB beside the
rest of street-level crime, and the note naming the files when they are not provided. The numbers are
``analysis.asb``'s."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from csp_evidence.analysis.asb import BoroughAsbFigures
from csp_evidence.analysis.covid import LockdownSurge, first_lockdown_label
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.core.values import is_missing
from csp_evidence.data.readers.ons import CITY_OF_LONDON_POLICE, MET
from csp_evidence.data.sources import Source
from csp_evidence.report import words as f

HALFORD_2022 = (
    "Halford, Dixon & Farrell (2022, *Crime Science* 11) found that police-recorded ASB in England and "
    "Wales rose to more than double its expected level early in the pandemic"
)


def missing_source_note(src: Source) -> str:
    """Markdown saying that no ASB source is in the data, naming the official files that would fill the gap."""
    return (
        f"**The borough's own anti-social behaviour incidents are not shown: no borough-level ASB source is in "
        "the data mirror.** The MPS "
        "recorded-crime files count crimes only, and ASB incidents are not crimes. The official open source "
        f"is *{f.md(src.title)}* ({f.md(src.publisher)}, {f.md(src.licence)}), from <{src.page}>: {src.notes} "
        f"The files are kept as `data/raw/{src.month_file('YYYY-MM')}` ({f.md(src.period)}); "
        "`csp fetch --source policeuk` then `csp pack` builds this section. With them, this section "
        "shows the borough's monthly ASB incidents against the level expected from the five pre-pandemic years, "
        f"with its 95% prediction interval: {HALFORD_2022}. The rest of this chapter does not depend on it; the "
        "force-wide and London-wide ASB figures below are context, not the borough's own."
    )


def coverage_sentence(coverage: pd.DataFrame) -> str:
    """What the street files hold and what no borough's figures include: rows with no LSOA, and rows in LSOAs
    outside the 32 boroughs (named), each counted."""
    months = pd.DatetimeIndex(coverage["month"])
    rows, placed = int(coverage["rows"].sum()), int(coverage["placed"].sum())
    no_lsoa, outside = int(coverage["no_lsoa"].sum()), int(coverage["outside"].sum())
    areas: Counter[str] = Counter()
    for month_areas in coverage["outside_areas"]:
        areas.update(month_areas)
    top = sorted(areas.items(), key=lambda kv: -kv[1])[:3]
    where = f" (most in {', '.join(f'{f.md(a)} ({f.number(n)})' for a, n in top)})" if top else ""
    return (
        f"The police.uk street files hold {len(months)} months, {months.min():%B %Y} to {months.max():%B %Y}, "
        f"with {f.number(rows)} rows of crime and ASB recorded by the Metropolitan Police. {f.number(placed)} "
        f"({100 * placed / rows:.1f}%) were placed in one of the 32 boroughs by the name of their LSOA; "
        f"{f.number(no_lsoa)} had no LSOA (police.uk could not place them) and {f.number(outside)} were in LSOAs "
        f"outside the 32 boroughs{where}. Those are counted here and left out of every borough's figures."
    )


def years_sentences(table: pd.DataFrame) -> list[str]:
    """The latest financial year of ASB: its change on the year before, and its rate and rank against London."""
    if not len(table):
        return []
    last, parts = table.iloc[-1], []
    if "previous" in table and not is_missing(last["previous"]):
        parts.append(
            f.change_sentence(
                "ASB incidents",
                last["count"],
                last["previous"],
                last["pct_change"],
                bool(last["significant"]),
                last["p_value"],
                last["financial_year"],
                previous_financial_year(last["financial_year"]),
            )
        )
    parts.append(
        f"In {last['financial_year']} that was {last['rate']:.1f} incidents per 1,000 residents against "
        f"{last['london_rate']:.1f} for London, the "
        f"{'' if int(last['rank']) == 1 else f.ordinal(int(last['rank'])) + ' '}highest count of "
        f"{int(last['ranked'])} boroughs."
    )
    return parts


def pandemic_sentences(figures: BoroughAsbFigures, borough: str) -> list[str]:
    """The first pandemic year against the level expected without it, the borough's and London's, the borough's
    change against the rest of London's, and the first lockdown's excess; none without the whole pandemic year."""
    shift, london, year = figures.shift, figures.london_shift, figures.year
    if shift is None or london is None:
        return []
    fy, lfy = shift.fy, london.fy
    peak = shift.monthly["ratio"].idxmax()
    doubled = shift.monthly["ratio"].max() > 2
    parts = [
        f"In {year}, {f.number(fy['observed'])} ASB incidents were recorded against {f.number(fy['expected'])} "
        f"expected without the pandemic (95% interval {f.number(fy['lower'])} to {f.number(fy['upper'])}), "
        f"{f.pct(fy['pct_difference'])}, {fy['outside']} the interval. "
        f"The expected level comes from {shift.method}. "
        f"The largest monthly excess was in {peak:%B %Y}, {shift.monthly.loc[peak, 'ratio']:.1f} times the "
        f"expected level{'; ' if doubled else ' (never more than double; '}"
        + (f"{HALFORD_2022}, and {f.md(borough)} saw the same." if doubled else f"{HALFORD_2022})."),
        f"London as a whole (the 32 boroughs) recorded {f.pct(lfy['pct_difference'])} against its expected level "
        f"in {year} ({f.number(lfy['observed'])} against {f.number(lfy['expected'])}, 95% interval "
        f"{f.number(lfy['lower'])} to {f.number(lfy['upper'])}).",
    ]
    if figures.relative is not None:
        parts.append(relative_sentence(figures))
    lockdown = figures.periods[figures.periods["period"] == "First lockdown"]
    if len(lockdown):
        r = lockdown.iloc[0]
        parts.append(
            f"In the first lockdown ({first_lockdown_label()}) the excess was {f.number(r['excess'])} incidents "
            f"({r['ratio']:.1f} times the expected {f.number(r['expected'])}); lockdown-breach reports were "
            "recorded as ASB, which explains much of it."
        )
    return parts


def relative_sentence(figures: BoroughAsbFigures) -> str:
    """The borough's change into the first pandemic year against the rest of London's, with its test."""
    relative = figures.relative
    assert relative is not None
    beyond = "beyond" if relative.p_value < 0.05 else "within"
    return (
        f"From {figures.before} to {figures.year} the borough's ASB changed by a factor of {relative.borough_ratio:.2f} and the "
        f"rest of London's by {relative.rest_ratio:.2f}: the borough's shift was {relative.ratio_of_ratios:.2f} times "
        f"London's (95% interval {relative.low:.2f} to {relative.high:.2f}), a difference {beyond} what "
        f"chance alone would produce ({f.p_value(relative.p_value)}; counts treated as Poisson, which "
        "understates the variation of police counts)."
    )


def borough_title(figures: BoroughAsbFigures, borough: str) -> str:
    """The incidents chart's title: how the first pandemic year stood against the expected level, when fitted."""
    if figures.shift is None or figures.london_shift is None:
        return f"Anti-social behaviour incidents in {borough}"
    return f"ASB incidents in {borough} {f.interval_words(figures.shift.fy['outside'], 'moved')} the expected level in {figures.year}"


def side_by_side_words(side: pd.DataFrame, borough: str, covid_start: str) -> tuple[str, str]:
    """The sentence (empty without the month) and the chart title of ASB beside other crime in the first April of
    the pandemic."""
    april = pd.Timestamp(f"{pd.Timestamp(f'{covid_start}-01').year}-04-01")
    if not len(side) or april not in side.index:
        return "", f"ASB and other crime in {borough}"
    a, o = side.loc[april]
    return (
        f"In {april:%B %Y} ASB stood at {a:.0f}% of its level in the 12 months before the pandemic, and all "
        f"other crime in the same files at {o:.0f}%.",
        f"In {april:%B %Y} ASB in {borough} was at {a:.0f}% of its pre-pandemic level, other crime at {o:.0f}%",
    )


E_AND_W = "ENGLAND AND WALES (exc. BTP)"


def force_text(
    pfa: pd.DataFrame,
    categories: pd.DataFrame | None,
    table: pd.DataFrame,
    force: str,
    what: str,
    borough: str,
    since: str,
    src: Source,
) -> str:
    """The force-wide ASB section's words: whose figures these are (not the borough's), the latest change, the
    change since recording last changed (`since`), London's and England and Wales's figures beside them, and the
    kinds of incident. `table` is ``analysis.asb.force_asb_table``'s, `what` names the force ('the Metropolitan
    Police')."""
    by_year = table.set_index("financial_year")
    last, first = table.iloc[-1], by_year.loc[since]
    year = last["financial_year"]
    span_pct = 100 * (last["incidents"] / first["incidents"] - 1)
    low = by_year.loc[by_year.index >= since, "incidents"].idxmin()
    area = (
        "which polices the 32 London boroughs together (the City of London has its own force)"
        if force == MET
        else "which polices the City of London alone"
    )
    text = (
        f"**Force-wide figures, not figures for {f.md(borough)}.** These are the ASB incidents recorded by {what}, "
        f"{area}, from the *{f.md(src.title)}* ({f.md(src.publisher)}). The tables have no borough "
        f"breakdown, and the latest edition in the data ends in {year}. "
    )
    if last["previous"] is not None:
        text += (
            f.change_sentence(
                f"ASB incidents recorded by {what}",
                last["incidents"],
                last["previous"],
                last["pct_change"],
                bool(last["significant"]),
                last["p_value"],
                year,
                previous_financial_year(year),
            )
            + " With counts this large even a small change is beyond chance in a Poisson test, which also ignores "
            "the extra variation of police counts: read the size of the change. "
        )
    direction = "fell" if span_pct < 0 else "rose"
    text += (
        f"Since {since}, the first year recorded on the current basis (earlier years are not "
        f"directly comparable), the force's ASB incidents {direction} from {f.number(first['incidents'])} to "
        f"{f.number(last['incidents'])} ({f.pct(span_pct)}); the lowest year was {low} "
        f"({f.number(by_year.at[low, 'incidents'])})."
    )
    return text + _force_context(pfa, categories, last, force, year)


def _force_context(pfa: pd.DataFrame, categories: pd.DataFrame | None, last: pd.Series, force: str, year: str) -> str:
    """London's total with the City of London Police, the rate against England and Wales, the kinds of incident."""
    text = ""
    city = pfa[(pfa["area"] == CITY_OF_LONDON_POLICE) & (pfa["area_type"] == "force") & (pfa["financial_year"] == year)]
    region = pfa[(pfa["area"] == "London") & (pfa["area_type"] == "region") & (pfa["financial_year"] == year)]
    if force == MET and len(city) and len(region):
        text += (
            f" With the City of London Police's {f.number(city['incidents'].iloc[0])}, London as a whole recorded "
            f"{f.number(region['incidents'].iloc[0])} in {year}."
        )
    ew = pfa[(pfa["area"] == E_AND_W) & (pfa["financial_year"] == year)]
    if not is_missing(last["rate_per_1000"]) and len(ew):
        text += (
            f" In {year} that was {last['rate_per_1000']:.1f} incidents per 1,000 residents, against "
            f"{ew['rate_per_1000'].iloc[0]:.1f} for England and Wales (excluding British Transport Police)."
        )
    if categories is not None:
        shares = categories[(categories["area"] == force) & (categories["area_type"] == "force")]
        if len(shares):
            pct = shares.set_index("category")["percent"]
            text += (
                f" Of the force's incidents in {shares['financial_year'].iloc[0]}, {pct['Nuisance']:.1f}% were "
                f"nuisance, {pct['Personal']:.1f}% personal (aimed at a person or group) and "
                f"{pct['Environmental']:.1f}% environmental."
            )
    return text


def calls_text(surge: LockdownSurge, years: pd.Series, borough: str, src: Source) -> str:
    """London's ASB calls section's words: London-wide calls, not incidents and not the borough's, from a secondary
    source; the pandemic year against the year before, the lockdown months' surge and its peak, and the latest
    financial year (`years`: calls by complete financial year)."""
    change = surge.year_change
    peak = surge.peak
    months_words = month_runs(pd.DatetimeIndex(surge.months["month"]))
    secondary = f", a secondary source compiled by the GLA from the {f.md(src.original)}" if src.secondary else ""
    text = (
        f"**London-wide calls, not incidents, and not figures for {f.md(borough)}.** These are calls about anti-social "
        f"behaviour received by the Metropolitan Police across London, from the *{f.md(src.title)}* "
        f"({f.md(src.publisher)}){secondary}. A call is not a recorded incident (one incident can prompt several "
        "calls, and some calls record none), so these counts are not comparable with the ONS incident counts "
        "above, and there is no borough breakdown. "
        f"London's ASB calls rose from {f.number(change.previous)} in {surge.baseline_year} to "
        f"{f.number(change.current)} in {surge.year} ({f.pct(change.pct_change)}; rate ratio "
        f"{change.rate_ratio:.2f}, 95% interval {change.ratio_low:.2f} to {change.ratio_high:.2f}). "
        f"The surge came in the lockdowns: in the {len(surge.months)} months they touched ({months_words}) there "
        f"were {f.number(surge.lockdown_total)} calls against {f.number(surge.lockdown_baseline)} in the same "
        f"months of {surge.baseline_calendar_year} ({f.pct(surge.lockdown_pct_change)}), and in "
        f"{peak['month']:%B %Y} {f.number(peak['count'])} calls, {peak['rate_ratio']:.1f} times the "
        f"{f.number(peak['baseline'])} of {peak['baseline_month']:%B %Y}. Reports of breaches of the Covid-19 "
        f"rules were recorded as ASB, and account for much of the rise. {HALFORD_2022}."
    )
    last = years.index[-1]
    if last != surge.year and surge.baseline_year in years.index:
        text += (
            f" By {last} calls were {f.number(years[last])}, "
            f"{f.change_words(100 * (years[last] / years[surge.baseline_year] - 1), 'than')} in {surge.baseline_year}."
        )
    return text


def month_runs(months: pd.DatetimeIndex) -> str:
    """Months as runs in words: 'March to June 2020 and November 2020 to March 2021'."""
    runs: list[list[pd.Timestamp]] = []
    for m in months.sort_values():
        if runs and m == runs[-1][-1] + pd.DateOffset(months=1):
            runs[-1].append(m)
        else:
            runs.append([m])

    def words(run: list[pd.Timestamp]) -> str:
        a, b = run[0], run[-1]
        if a == b:
            return f"{a:%B %Y}"
        return f"{a:%B} to {b:%B %Y}" if a.year == b.year else f"{a:%B %Y} to {b:%B %Y}"

    parts = [words(r) for r in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
