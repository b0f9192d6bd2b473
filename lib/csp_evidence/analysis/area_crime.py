"""Crime and ASB of any CSP from police.uk: one tidy table (area, month, measure, count) and its comparison group.

The input is police.uk's street-level rows reduced and placed by LSOA code (``readers.policeuk.place_reduced``):
every row counts in the CSP its LSOA lies in, whichever force reported it. From it:

* ``tidy_counts``: per CSP, month and measure (the police.uk categories mapped to the plan priorities, MEASURES),
  the count and how many were charged or summonsed, or closed with no suspect identified;
* ``period_changes``: a period against the one before (exact Poisson test, ``stats.change.compare_counts``), with
  the outcome shares of the period;
* ``group_changes``: the same change in the comparison group's other CSPs, whether the area's change differs from
  theirs (ratio of rate ratios, ``stats.change.relative_change``) and the rank of the area's change among the
  group's CSPs. Never a rank of rates: a CSP with few residents and many visitors (the City of London) would top it;
  rates per 1,000 residents are given beside a plain caveat (``rates``);
* ``force_rows_elsewhere``: the rows of the area's own force placed in other authorities (counted there, never in
  the area), and those with no LSOA.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from csp_evidence.analysis.stats.change import compare_counts, relative_change

ALL_CRIME = "All crime (excluding ASB)"
# police.uk categories -> the priority measures; 'Other theft' is theft other than shoplifting, bicycle theft and
# theft from the person, each of which is its own measure.
MEASURES: dict[str, tuple[str, ...]] = {
    "Anti-social behaviour": ("Anti-social behaviour",),
    "Violence and sexual offences": ("Violence and sexual offences",),
    "Burglary": ("Burglary",),
    "Robbery": ("Robbery",),
    "Theft (other)": ("Other theft",),
    "Shoplifting": ("Shoplifting",),
    "Bicycle theft": ("Bicycle theft",),
    "Theft from the person": ("Theft from the person",),
    "Vehicle crime": ("Vehicle crime",),
    "Criminal damage and arson": ("Criminal damage and arson",),
    "Drugs": ("Drugs",),
    "Public order": ("Public order",),
    "Possession of weapons": ("Possession of weapons",),
    "Other crime": ("Other crime",),
}
_MEASURE_OF = {c: m for m, cats in MEASURES.items() for c in cats}
TIDY_COLUMNS = ("area", "area_name", "month", "measure", "count", "charged", "no_suspect")
SMALL_RESIDENT_POPULATION = 20_000  # below this, rates per resident mislead: said plainly beside them


def tidy_counts(placed: pd.DataFrame) -> pd.DataFrame:
    """The tidy table of every CSP in `placed`: area (CSP code), area_name, month, measure, count, charged,
    no_suspect; the measures of MEASURES and ALL_CRIME (every category but ASB). Rows with no CSP (no LSOA, or an
    LSOA whose CSP the lookups cannot decide) are left out: see ``force_rows_elsewhere``. A category outside
    MEASURES (the pre-2013 ones) is a ValueError naming it."""
    rows = placed[placed["csp"] != ""]
    unknown = sorted(set(rows["crime_type"]) - set(_MEASURE_OF))
    if unknown:
        raise ValueError(f"police.uk categories with no measure: {unknown}; the pack reads files from May 2013 on")
    rows = rows.assign(measure=rows["crime_type"].map(_MEASURE_OF), month=pd.to_datetime(rows["month"], format="%Y-%m"))
    keys = ["csp", "csp_name", "month", "measure"]
    by = rows.groupby(keys, sort=True)[["count", "charged", "no_suspect"]].sum().reset_index()
    crimes = by[by["measure"] != "Anti-social behaviour"]
    total = crimes.groupby(["csp", "csp_name", "month"], sort=True)[["count", "charged", "no_suspect"]].sum()
    total = total.reset_index().assign(measure=ALL_CRIME)
    tidy = pd.concat([by, total], ignore_index=True).rename(columns={"csp": "area", "csp_name": "area_name"})
    for c in ("count", "charged", "no_suspect"):
        tidy[c] = tidy[c].astype("int64")
    return tidy[list(TIDY_COLUMNS)].sort_values(["area", "measure", "month"], ignore_index=True)


def _months_of(tidy: pd.DataFrame, months: pd.DatetimeIndex, what: str) -> None:
    held = set(pd.DatetimeIndex(tidy["month"].unique()))
    gone = [m for m in months if m not in held]
    if gone:
        raise ValueError(
            f"{what}: no police.uk figures for {', '.join(f'{m:%Y-%m}' for m in gone[:6])}"
            f"{' ...' if len(gone) > 6 else ''}; a month missing is never read as zero: fetch it"
        )


def _totals(tidy: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    """Count, charged, no_suspect per area and measure over `months` (0 where an area had none of a measure)."""
    sel = tidy[tidy["month"].isin(months)]
    sums = sel.groupby(["area", "measure"])[["count", "charged", "no_suspect"]].sum()
    full = pd.MultiIndex.from_product(
        [sorted(tidy["area"].unique()), list(MEASURES) + [ALL_CRIME]], names=sums.index.names
    )
    return sums.reindex(full, fill_value=0)


def period_changes(
    tidy: pd.DataFrame, area: str, current: pd.DatetimeIndex, previous: pd.DatetimeIndex
) -> pd.DataFrame:
    """Each measure of `area` in the `current` months against the `previous` ones: previous, current, change,
    pct_change, p_value, significant, signal, and of the current period's crimes the shares charged
    (share_charged) and with no suspect identified (share_no_suspect); NaN for ASB (incidents have no outcome)."""
    _months_of(tidy, current.append(previous), "period_changes")
    now, before = _totals(tidy, current), _totals(tidy, previous)
    rows = []
    for measure in [ALL_CRIME, *MEASURES]:
        cur, prev = now.loc[(area, measure)], before.loc[(area, measure)]
        change = compare_counts(int(prev["count"]), int(cur["count"]))
        asb = measure == "Anti-social behaviour"
        rows.append(
            {
                "measure": measure,
                "previous": change.previous,
                "current": change.current,
                "change": change.change,
                "pct_change": change.pct_change,
                "p_value": change.p_value,
                "significant": change.significant,
                "signal": change.signal,
                "share_charged": np.nan if asb or not cur["count"] else 100 * cur["charged"] / cur["count"],
                "share_no_suspect": np.nan if asb or not cur["count"] else 100 * cur["no_suspect"] / cur["count"],
            }
        )
    return pd.DataFrame(rows)


def group_changes(
    tidy: pd.DataFrame, area: str, group: Sequence[str], current: pd.DatetimeIndex, previous: pd.DatetimeIndex
) -> pd.DataFrame:
    """Each measure of the comparison group's other CSPs over the same periods: rest_previous, rest_current,
    rest_pct_change, ratio_of_ratios (the area's rate ratio over the rest's), its p_value and significant, and the
    rank of the area's change among the group's CSPs (rank 1 = the largest rise; `ranked` of them). CSPs of the
    group with no police.uk rows at all are left out of it and counted in `csps_without_data`."""
    _months_of(tidy, current.append(previous), "group_changes")
    now, before = _totals(tidy, current), _totals(tidy, previous)
    have = set(tidy["area"])
    members = [c for c in group if c in have]
    rest = [c for c in members if c != area]
    rows = []
    for measure in [ALL_CRIME, *MEASURES]:
        cur = now.xs(measure, level="measure")["count"].reindex(members, fill_value=0)
        prev = before.xs(measure, level="measure")["count"].reindex(members, fill_value=0)
        r0, r1 = int(prev[rest].sum()), int(cur[rest].sum())
        rel = relative_change(int(prev.get(area, 0)), int(cur.get(area, 0)), r0, r1) if rest else None
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = (100 * (cur - prev) / prev).replace([np.inf, -np.inf], np.nan).dropna()
        rank = int(pct.rank(ascending=False, method="min")[area]) if area in pct.index and len(pct) > 1 else None
        rows.append(
            {
                "measure": measure,
                "rest_previous": r0,
                "rest_current": r1,
                "rest_pct_change": 100 * (r1 - r0) / r0 if r0 else np.nan,
                "ratio_of_ratios": rel.ratio_of_ratios if rel else np.nan,
                "relative_p_value": rel.p_value if rel else np.nan,
                "relative_significant": bool(rel.significant) if rel else False,
                "rank": rank,
                "ranked": len(pct) if rank else 0,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["csps_without_data"] = len(group) - len(members)
    return out


def rates(counts: pd.Series, residents: int) -> tuple[pd.Series, str]:
    """Counts per 1,000 residents, and the caveat to print beside them ('' for most CSPs): a CSP with fewer than
    SMALL_RESIDENT_POPULATION residents is said to have rates inflated by the people who work in or visit it. No
    rank of rates is ever made from them."""
    if residents <= 0:
        raise ValueError(f"rates: {residents} residents")
    per = 1000 * counts / residents
    caveat = (
        f"The area has {residents:,} residents (Census 2021) and many more people who work in or visit it: rates per "
        "1,000 residents divide crimes against all of them by the residents alone, so they read far higher than the "
        "risk to a resident and are not compared with other areas' rates or ranked."
        if residents < SMALL_RESIDENT_POPULATION
        else ""
    )
    return per, caveat


def force_rows_elsewhere(placed: pd.DataFrame, force: str, csp: str, months: pd.DatetimeIndex) -> pd.DataFrame:
    """The rows of `force`'s files in `months` that are not counted in the CSP: by authority (lad_name; 'no LSOA'
    for rows police.uk could not place, 'CSP undecided' where the lookups cannot decide the CSP), rows, most first."""
    wanted = {f"{m:%Y-%m}" for m in months}
    sel = placed[(placed["force"] == force) & placed["month"].isin(wanted) & (placed["csp"] != csp)]
    where = (
        sel["lad_name"]
        .where(sel["lsoa"] != "", "no LSOA")
        .where((sel["csp"] != "") | (sel["lsoa"] == ""), "CSP undecided")
    )
    out = sel.groupby(where)["count"].sum().sort_values(ascending=False, kind="stable")
    return out.rename_axis("authority").rename("rows").reset_index()


def forces_held(placed: pd.DataFrame, months: pd.DatetimeIndex) -> dict[str, list[str]]:
    """Per month (YYYY-MM), the forces whose street files the reduced tables hold."""
    wanted = [f"{m:%Y-%m}" for m in months]
    held = placed[placed["month"].isin(wanted)].groupby("month")["force"].unique()
    return {m: sorted(held.get(m, [])) for m in wanted}
