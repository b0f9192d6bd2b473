"""Sentences about places (wards, LSOAs) inside an area, written from the numbers: concentration, persistence, the
places beyond chance and what the place files cannot place. Key-point sentences carry no method words."""

from __future__ import annotations

from collections.abc import Sequence

from csp_evidence.report import words as f

_NUMBERS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine"}


def _count_word(n: int, capital: bool = True) -> str:
    word = _NUMBERS.get(n, f"{n:,}")
    return word if capital else word.lower()


def names(items: Sequence[str], limit: int = 4) -> str:
    """'A', 'A and B', 'A, B and C', or the first `limit` and 'N others'."""
    items = [str(i) for i in items]
    if len(items) > limit:
        rest = len(items) - limit
        return ", ".join(items[:limit]) + f" and {rest} other{'s' if rest > 1 else ''}"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def concentration_point(top_n: int, wards: int, share: float, year: str, place_word: str = "wards") -> str:
    """'Five of the borough's 20 wards held 38% of its recorded crime in 2025/26.'"""
    return (
        f"{_count_word(top_n)} of the borough's {wards} {place_word} held {share:.0f}% of the recorded crime placed in "
        f"a {place_word[:-1]} in {year}."
    )


def persistence_point(every: Sequence[str], top_n: int, years: Sequence[str], entered: Sequence[str]) -> str:
    """Which places were in the top five in every year of one set of boundaries, and which entered it."""
    top = f"top {_count_word(top_n, capital=False)}"
    if len(years) < 2:
        return f"Only {years[0] if years else 'one year'} is on these ward boundaries, so no ward's place in the {top} can yet be followed."
    span = f"every year from {years[0]} to {years[-1]}"
    if not every:
        text = f"No ward stayed in the {top} in {span}."
    elif len(every) == 1:
        text = f"{every[0]} was in the {top} in {span}."
    else:
        text = f"{_count_word(len(every))} wards were in the {top} in {span}: {names(every)}."
    if entered:
        text += f" {names(entered, 2)} joined it."
    return text


def funnel_point(above: Sequence[str], below: Sequence[str], wards: int, year: str, spread: bool = True) -> str:
    """The wards whose rate per resident stands apart from the borough's beyond chance; with `spread` (the wards vary
    more than chance alone would make them), beyond the usual spread between wards too."""
    allowing = ", even allowing for how much wards usually differ" if spread else ""
    if not above and not below:
        return (
            f"No ward's crime rate in {year} stands apart from the borough's{allowing}."
            if spread
            else f"No ward's crime rate in {year} differs from the borough's by more than chance would explain."
        )
    parts = []
    if above:
        parts.append(f"{names(above, 3)} {'has' if len(above) == 1 else 'have'} a crime rate well above the borough's")
    if below:
        parts.append(f"{names(below, 2)} well below it")
    return f"In {year}, " + "; ".join(parts) + f"{allowing}."


def funnel_title(above: Sequence[str], below: Sequence[str]) -> str:
    """The funnel plot's title, stating its finding in a few words."""
    if above:
        verb = "stands" if len(above) == 1 else "stand"
        return f"{names(above, 2)} {verb} above the borough's crime rate"
    if below:
        return f"{names(below, 2)} {'stands' if len(below) == 1 else 'stand'} below the borough's crime rate"
    return "No ward's crime rate stands apart from the borough's"


def hotspot_point(found: Sequence[tuple[str, str, float, str]], tests: int, year: str | None) -> str:
    """The wards whose change stood out from the rest of the borough's: (ward, measure, change %, since which year)."""
    if year is None:
        return "The ward files hold no two comparable years yet, so no ward's change can be tested."
    if not found:
        return (
            f"No ward's change in {year} stood out from the rest of the borough's once chance across all "
            f"{tests:,} ward and crime-type comparisons is allowed for."
        )
    items = [f"{measure.lower()} in {ward} ({f.pct(change)} on {since})" for ward, measure, change, since in found[:3]]
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return f"In {year}, {names(items, 3)}{more} changed unlike the rest of the borough, beyond chance."


def gap_point(placed_pct: float, year: str) -> str:
    """The share of the borough's recorded offences the ward files place in a ward."""
    return (
        f"The ward files place {placed_pct:.0f}% of the borough's recorded offences in {year} in a ward; the rest "
        "cannot be mapped."
    )


def deprivation_sentence(rho: float | None, wards: int) -> str:
    """Whether crime rates run with deprivation across the wards (Spearman's rank correlation with the IMD decile)."""
    if rho is None:
        return "Deprivation cannot be set beside the ward rates here (no Indices of Deprivation for these areas)."
    measured = (
        f"(Spearman's rank correlation of the rate with the ward's average IMD 2019 decile, where 1 is the most "
        f"deprived tenth of England: {rho:+.2f})"
    )
    if abs(rho) < 0.1:
        return f"Across the {wards} wards, crime rates show no clear link with deprivation {measured}."
    strength = "strongly " if abs(rho) >= 0.6 else "" if abs(rho) >= 0.3 else "only weakly "
    direction = "the more deprived" if rho < 0 else "the less deprived"
    return (
        f"Across the {wards} wards, crime rates run {strength}higher in {direction} wards {measured}. Town-centre and "
        "night-time-economy wards often have high rates for reasons other than need."
    )


def concentration_sentence(top_places: dict, top_share: dict, places: int, gini: float, year: str, what: str) -> str:
    """'In 2025/26 the top 10% of wards (2 of 20) held 17.8% of ...; the top 20% (4) held 33.4%; Gini 0.24.'"""
    return (
        f"In {year} the top 10% of wards ({top_places[0.1]} of {places}) held {top_share[0.1]:.1f}% of {what} placed "
        f"in a ward, and the top 20% ({top_places[0.2]}) held {top_share[0.2]:.1f}%. The Gini coefficient of the "
        f"wards' counts is {gini:.2f} (0 if every ward had the same count; nearer 1 the more it is held by a few)."
    )


def funnel_method(dispersion: float, wards: int) -> str:
    """How the funnel plot's limits and the list of wards beyond chance were made, for the page."""
    spread = (
        f"Ward counts vary more than chance alone would make them (an over-dispersion factor of {dispersion:.1f}, "
        "from the wards' z-scores winsorised at 10% and 90%, as Spiegelhalter (2005) recommends for comparing "
        f"institutions), so the limits are widened by its square root and p-values read against Student's t on "
        f"{wards - 1} degrees of freedom."
        if dispersion > 1
        else "Ward counts vary no more than chance would make them, so the limits are the Poisson limits."
    )
    return (
        "Each ward's count is set against the count expected at the borough's rate for its residents; the funnel's "
        f"limits (95% and 99.8%) are exact Poisson limits around that expectation. {spread} The list of wards beyond "
        "chance holds the false discovery rate at 5% (Benjamini-Hochberg) across the wards: a ward is named only when "
        "its difference survives that control."
    )


def hotspot_method(tests: int) -> str:
    """How the list of changes beyond chance was made, for the page."""
    return (
        "Each ward's change is set against the rest of the borough's (the ratio of the two rate ratios), so a "
        "borough-wide rise does not make every ward a hotspot; its z-score is scaled for the over-dispersion among "
        "wards (as for the funnel plot). Changes are tested on the year before and over the latest run of years of "
        "one series and one set of ward boundaries, never across the CRIS and CONNECT series or across the May 2022 "
        f"redrawing, and never where a ward has fewer offences than the small-number threshold. Across the {tests:,} "
        "tests the false discovery rate is held at 5% (Benjamini-Hochberg)."
    )


def map_note(method: str, missing: Sequence[str], redrawn: bool) -> str:
    """What the map shows and how its shapes were made."""
    if method == "published":
        return (
            "Ward shapes are the GLA's London ward boundaries (2018): this borough kept those wards in May 2022, so "
            "they are the wards of the ward files."
        )
    if method == "lsoa":
        gone = f" {len(missing)} ward(s) have no LSOA best fitted to them and are not drawn." if missing else ""
        return (
            "No boundaries of the May 2022 wards are in the data mirror, so each ward is drawn, approximately, as the "
            f"2021 LSOAs the ONS best-fit lookup places in it.{gone}"
        )
    return (
        "No ward boundaries for this borough are in the data mirror (and no LSOA lookup to build them), so the "
        "chapter shows the tables and charts without a map."
    )


def boundary_note(redrawn: bool, run: Sequence[str]) -> str:
    """Whether the borough's wards changed in the years shown."""
    if not redrawn:
        return "The borough's wards are the same in every year shown, so every year can be compared."
    return (
        "The borough's wards were redrawn in May 2022: figures on the earlier wards are shown for their year but never "
        f"compared with the new wards, so changes, ranks over time and the top five run from {run[0]}."
    )


def gap_sentence(gap) -> str:
    """The ward sums against the borough totals, for the page (`gap`: ``places.gap_by_year``'s table)."""
    if gap.empty:
        return "No financial year is complete in both the ward and the borough files, so the gap cannot be shown."
    low, high = gap["gap_pct"].min(), gap["gap_pct"].max()
    return (
        f"Not every recorded offence is placed in a ward: between {low:.1f}% and {high:.1f}% of the borough's offences "
        f"in {gap['financial_year'].iloc[0]} to {gap['financial_year'].iloc[-1]} are in no ward's figures. Ward "
        "shares in this chapter are shares of the offences placed in a ward."
    )
