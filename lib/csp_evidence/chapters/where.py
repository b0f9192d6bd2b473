"""Chapter "Where: areas of focus": which wards carry the borough's recorded crime, whether they are the same places
year after year, and which stand out beyond chance.

``ward_figures`` turns the MPS ward extracts (``datasets.ward_crime``) into one table per measure and financial year
(``analysis.places``: each year whole from one extract, shares, ranks, the small-number rule) and the changes on the
year before (only within one series and one set of wards). ``view`` composes everything the page shows: the latest
year's concentration, the persistence of the top five, the funnel plot of rates against the borough's, the list of
wards whose change stood out (false discovery rate controlled across every ward and measure tested), the wards'
deprivation, the gap between the ward sums and the borough totals, and the shapes for the map. ``key_points`` writes
the sentences a board reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csp_evidence.analysis import places, ward_shapes
from csp_evidence.analysis.priorities import NEIGHBOURHOOD, TOTAL, VIOLENCE, Measure, in_series
from csp_evidence.analysis.stats.change import financial_year_totals
from csp_evidence.analysis.ward_shapes import WardShapes
from csp_evidence.core.paths import output_prefix
from csp_evidence.core.periods import previous_financial_year
from csp_evidence.data import datasets
from csp_evidence.report import place_words, tables
from csp_evidence.report.headlines import WhereHeadlines
from csp_evidence.report.key_points import KeyPoint, checked, section_id
from csp_evidence.report.tables import TableSpec

_BY_NAME = {m.name: m for m in (*NEIGHBOURHOOD, *VIOLENCE)}
# The priority measures a ward view covers: all recorded crime, the neighbourhood crimes and the main violence measures
MEASURES: tuple[Measure, ...] = (
    TOTAL,
    *(
        _BY_NAME[n]
        for n in (
            "Violence against the person",
            "Violence with injury",
            "Sexual offences",
            "Robbery",
            "Burglary",
            "Theft",
            "Vehicle offences",
            "Criminal damage and arson",
            "Drug trafficking",
            "Possession of drugs",
            "Possession of weapons",
        )
    ),
)

SECTIONS = {
    "concentration": "Where crime is concentrated",
    "persistence": "The same places year after year",
    "funnel": "Beyond chance: ward rates against the borough's",
    "hotspots": "Beyond chance: changes on the year before",
    "deprivation": "Crime beside deprivation",
    "map": "Map",
    "gap": "What the ward files cannot place",
}


def _series_rows(rows: pd.DataFrame, measure: Measure, known: dict[str, set[str]]) -> pd.DataFrame:
    """The ward rows (of one borough) a measure counts, each series by its own definition of the measure (a measure a
    series cannot count has no rows there). `known`: level -> every category the ward files hold, London-wide; a
    measure none of whose categories is there is an error naming it."""
    parts = []
    for series, part in rows.groupby("series", observed=True):
        defined = in_series(measure, str(series))
        if defined is None:
            continue
        if defined.categories:
            if not set(defined.categories) & known[defined.level]:
                raise ValueError(
                    f"measure {measure.name!r}: none of its {series} categories {list(defined.categories)} are in "
                    "the ward files"
                )
            part = part[part[defined.level].isin(defined.categories)]
        parts.append(part)
    return pd.concat(parts) if parts else rows.iloc[0:0]


def ward_figures(
    ward_crime: pd.DataFrame,
    borough: str,
    extracts: Sequence[str],
    threshold: int,
    measures: Sequence[Measure] = MEASURES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every measure's ward figures by financial year (measure, safeguarding, and ``places.with_shares``' columns) and
    its changes (measure, safeguarding, and ``places.changes``' columns): on the year before, and over the latest run of
    years of one series and one set of wards (``places.span_change``; `since` tells them apart)."""
    years, changes = [], []
    known = {level: set(map(str, ward_crime[level].unique())) for level in ("major_category", "minor_category")}
    rows = ward_crime[ward_crime["borough"] == borough]
    for measure in measures:
        table = places.place_years(_series_rows(rows, measure, known), extracts, universe=rows)
        if table.empty:
            continue
        shares = places.with_shares(table, threshold)
        shares.insert(0, "measure", measure.name)
        shares.insert(1, "safeguarding", measure.safeguarding)
        years.append(shares)
        change = pd.concat([places.changes(table, threshold), places.span_change(table, threshold)], ignore_index=True)
        change.insert(0, "measure", measure.name)
        change.insert(1, "safeguarding", measure.safeguarding)
        changes.append(change)
    if not years:
        raise ValueError(f"no ward figures for {borough!r}: the ward files hold no complete financial year for it")
    return pd.concat(years, ignore_index=True), pd.concat(changes, ignore_index=True)


@dataclass(frozen=True)
class WardView:
    """What the chapter shows for one borough."""

    borough: str
    latest_year: str
    years: pd.DataFrame  # ward figures by measure and year (``ward_figures``)
    changes: pd.DataFrame  # changes on the year before
    wards: int  # wards in the latest year
    redrawn: bool  # the years shown use more than one set of wards
    run: list[str]  # the latest run of years with one set of wards
    concentration: dict[str, places.Concentration]  # measure -> latest year's concentration
    curves: dict[str, pd.DataFrame]  # measure -> concentration curve (latest year)
    persistence: places.Persistence  # all recorded crime
    hotspots: pd.DataFrame  # changes beyond chance in the latest comparable year, FDR across wards and measures
    hotspot_year: str | None
    tests: int  # the number of change tests behind the hotspot list
    funnel: pd.DataFrame | None  # all recorded crime, latest year; None without ward populations
    deprivation: pd.DataFrame | None  # place, name, rate, mean_decile, most_deprived_pct, covered_pct
    deprivation_rho: float | None  # Spearman's rank correlation of rate and mean decile
    gap: pd.DataFrame  # financial_year, series, places, area, gap, gap_pct
    shapes: WardShapes = field(default_factory=WardShapes)

    def latest(self, measure: str = TOTAL.name) -> pd.DataFrame:
        """One measure's ward figures in the latest year, most offences first."""
        rows = self.years[(self.years["measure"] == measure) & (self.years["financial_year"] == self.latest_year)]
        return rows.sort_values(["count", "place"], ascending=[False, True], ignore_index=True)

    def name(self, code: str) -> str:
        names = self.years.drop_duplicates("place").set_index("place")["name"]
        return str(names.get(code, code))


def _gap(years: pd.DataFrame, borough_totals: dict[str, pd.DataFrame], borough: str) -> pd.DataFrame:
    total = years[years["measure"] == TOTAL.name]
    frames = []
    for series, crime in borough_totals.items():
        ward_sum = total[total["series"] == series].groupby("financial_year")["count"].sum()
        fy = financial_year_totals(crime[crime["borough"] == borough], by=("borough",))
        gap = places.gap_by_year(ward_sum, fy.set_index("financial_year")["count"])
        gap.insert(1, "series", series)
        frames.append(gap)
    return pd.concat(frames, ignore_index=True).sort_values("financial_year", ignore_index=True)


def view(
    ward_crime: pd.DataFrame,
    borough: str,
    extracts: Sequence[str],
    threshold: int,
    borough_totals: dict[str, pd.DataFrame],
    population: pd.Series | None = None,
    deprivation: pd.DataFrame | None = None,
    shapes: WardShapes | None = None,
    measures: Sequence[Measure] = MEASURES,
) -> WardView:
    """Everything the chapter shows for `borough`. `borough_totals`: series -> the borough-level tidy crime table
    of that series (for the gap); `population`: residents by ward code (for the funnel plot; None: no funnel);
    `deprivation`: ``places.place_deprivation``'s table (None: none shown)."""
    years, changes = ward_figures(ward_crime, borough, extracts, threshold, measures)
    latest_year = str(years["financial_year"].max())
    total = years[years["measure"] == TOTAL.name]
    latest_total = total[total["financial_year"] == latest_year]
    concentration, curves = {}, {}
    for measure, rows in years[years["financial_year"] == latest_year].groupby("measure", sort=False):
        counts = rows.set_index("place")["count"]
        if counts.sum() >= threshold:
            concentration[str(measure)] = places.concentration(counts)
            curves[str(measure)] = places.concentration_curve(counts)
    tested = changes[changes["comparable"].astype(bool)]
    hotspot_year = str(tested["financial_year"].max()) if not tested.empty else None
    latest_changes = changes[changes["financial_year"] == hotspot_year] if hotspot_year else changes.iloc[0:0]
    hot = places.hotspots(latest_changes)
    n_tests = int((latest_changes["relative_p"].notna()).sum())
    funnel = None
    if population is not None:
        counts = latest_total.set_index("place")["count"]
        pop = population.reindex(counts.index)
        if pop.notna().sum() >= 3:
            funnel = places.funnel(counts, pop, threshold)
            funnel["name"] = [latest_total.set_index("place").at[p, "name"] for p in funnel.index]
    dep, rho = None, None
    if deprivation is not None and funnel is not None:
        dep = deprivation.merge(funnel[["rate", "name"]], left_on="place", right_index=True)
        both = dep.dropna(subset=["rate", "mean_decile"])
        if len(both) >= 5:
            rho = float(stats.spearmanr(both["rate"], both["mean_decile"]).statistic)
    return WardView(
        borough=borough,
        latest_year=latest_year,
        years=years,
        changes=changes,
        wards=int(latest_total["place"].nunique()),
        redrawn=total["wards_key"].nunique() > 1,
        run=places.comparable_run(total),
        concentration=concentration,
        curves=curves,
        persistence=places.persistence(total, threshold),
        hotspots=hot,
        hotspot_year=hotspot_year,
        tests=n_tests,
        funnel=funnel,
        deprivation=dep,
        deprivation_rho=rho,
        gap=_gap(years, borough_totals, borough),
        shapes=shapes or WardShapes(),
    )


def key_points(v: WardView) -> list[KeyPoint]:
    """Three to five sentences a board reads: concentration, persistence, the wards beyond chance (rates and changes),
    and what the ward files cannot place."""
    latest = v.latest()
    top_n = min(5, v.wards)
    points = [
        KeyPoint(
            place_words.concentration_point(top_n, v.wards, float(latest.head(top_n)["share"].sum()), v.latest_year),
            section_id(SECTIONS["concentration"]),
        ),
        KeyPoint(
            place_words.persistence_point(
                [v.name(c) for c in v.persistence.every_year],
                v.persistence.n,
                v.persistence.years,
                [v.name(c) for c in v.persistence.entered],
            ),
            section_id(SECTIONS["persistence"]),
        ),
    ]
    if v.funnel is not None:
        above = v.funnel.loc[v.funnel["beyond_chance"] == "above", "name"].tolist()
        below = v.funnel.loc[v.funnel["beyond_chance"] == "below", "name"].tolist()
        spread = float(v.funnel["dispersion"].iloc[0]) > 1
        points.append(
            KeyPoint(
                place_words.funnel_point(above, below, v.wards, v.latest_year, spread), section_id(SECTIONS["funnel"])
            )
        )
    unique = v.hotspots.drop_duplicates(["place", "measure"])  # a ward and measure found on the year and over the run
    found = [(str(r.name), str(r.measure), float(r.pct_change), str(r.since)) for r in unique.itertuples()]
    points.append(KeyPoint(place_words.hotspot_point(found, v.tests, v.hotspot_year), section_id(SECTIONS["hotspots"])))
    if not v.gap.empty and len(points) < 5:
        last = v.gap.iloc[-1]
        points.append(
            KeyPoint(
                place_words.gap_point(100 - float(last["gap_pct"]), str(last["financial_year"])),
                section_id(SECTIONS["gap"]),
            )
        )
    return checked(points)


def ward_table(v: WardView, threshold: int) -> pd.DataFrame:
    """All recorded crime by ward: one column per financial year, the latest year's share and rank, and the change on
    the year before with its test (blank where the years are of different series or wards, or the counts small)."""
    total = v.years[v.years["measure"] == TOTAL.name]
    wide = total.pivot_table(index=["place", "name"], columns="financial_year", values="count", aggfunc="sum")
    latest = v.latest().set_index("place")
    change = v.changes[
        (v.changes["measure"] == TOTAL.name)
        & (v.changes["financial_year"] == v.latest_year)
        & (v.changes["since"] == previous_financial_year(v.latest_year))
    ]
    change = change.set_index("place")
    out = wide.reset_index()
    out.columns.name = None
    out["share"] = out["place"].map(latest["share"])
    out["rank"] = out["place"].map(latest["rank"])
    for column in ("pct_change", "p_value", "relative", "relative_p"):
        out[column] = out["place"].map(change[column]) if column in change else np.nan
    return out.sort_values("share", ascending=False, ignore_index=True)


def measures_table(v: WardView, threshold: int) -> pd.DataFrame:
    """The latest year's count by ward (rows) and measure (columns); a safeguarding measure's count below `threshold`
    is shown as None (the page says 'fewer than N')."""
    rows = v.years[v.years["financial_year"] == v.latest_year].copy()
    hide = rows["safeguarding"] & rows["small"]
    rows["shown"] = rows["count"].where(~hide)
    wide = rows.pivot(index="place", columns="measure", values="shown")
    order = [m.name for m in MEASURES if m.name in wide.columns]
    out = wide[order].reset_index()
    out.columns.name = None
    out.insert(1, "name", out["place"].map(rows.drop_duplicates("place").set_index("place")["name"]))
    return out.sort_values(TOTAL.name, ascending=False, ignore_index=True)


def map_values(v: WardView, measures: Sequence[str]) -> pd.DataFrame:
    """What the maps shade: each ward's rate per 1,000 residents (or its count where there are no populations) in the
    latest year, one column per measure, indexed by ward code. Small counts are left blank."""
    rows = v.years[(v.years["financial_year"] == v.latest_year) & v.years["measure"].isin(measures)].copy()
    rows["value"] = rows["count"].where(~rows["small"]).astype(float)
    if v.funnel is not None:
        population = v.funnel["population"]
        rows["value"] = 1000.0 * rows["value"] / rows["place"].map(population)
    wide = rows.pivot(index="place", columns="measure", values="value")
    return wide[[m for m in measures if m in wide.columns]]


def headlines(v: WardView, points: Sequence[KeyPoint]) -> WhereHeadlines:
    """The chapter's headline figures: the latest year, the top wards, concentration and the wards beyond chance."""
    latest = v.latest()
    conc = v.concentration.get(TOTAL.name)
    figures: dict[str, Any] = {
        "borough": v.borough,
        "key_points": tuple(points),
        "ward_year": v.latest_year,
        "wards": v.wards,
        "top_wards": [
            {"code": r.place, "name": r.name, "count": int(r.count), "share": float(r.share)}
            for r in latest.head(5).itertuples()
        ],
        "top5_share": float(latest.head(5)["share"].sum()),
        "top10pct_share": conc.top_share[0.1] if conc else None,
        "top20pct_share": conc.top_share[0.2] if conc else None,
        "top_five_every_year": [v.name(c) for c in v.persistence.every_year],
        "persistence_years": v.persistence.years,
        "above_borough_rate": (
            [str(n) for n in v.funnel.loc[v.funnel["beyond_chance"] == "above", "name"]]
            if v.funnel is not None
            else None
        ),
        "hotspots": [
            {
                "ward": str(r.name),
                "measure": str(r.measure),
                "year": str(r.financial_year),
                "since": str(r.since),
                "change_pct": r.pct_change,
            }
            for r in v.hotspots.itertuples()
        ],
        "wards_redrawn": v.redrawn,
        "map": v.shapes.method,
        "source": citation(),
    }
    return WhereHeadlines(**figures)


# ---- the page: loading for one borough, tables and charts as the notebook shows them --------------------------------

SLUG = output_prefix("00_where", ["00_overview", "00_where"])  # '00w': the overview's files are '00-*'


def ward_sources() -> tuple[str, ...]:
    """The source ids behind the ward figures, oldest extract first."""
    return tuple(sid for sid, _ in datasets.WARD_SOURCES)


def citation() -> str:
    """The source line of the chapter's tables and charts: the ward extracts, named once."""
    ends = [datasets.source(sid).period.rsplit(" to ", 1)[-1].split(";")[0].rstrip(")") for sid in ward_sources()]
    return (
        "Metropolitan Police Service (London Datastore), MPS Ward Level Crime (most recent 24 months), the extracts "
        f"to {', '.join(ends[:-1])} and {ends[-1]} (CRIS era to August 2023, CONNECT era after)"
    )


def borough_view(borough: str, threshold: int) -> WardView:
    """The chapter's view of a London borough from the MPS ward extracts, with ward populations, deprivation and
    shapes where the mirror has what they need."""
    crime = datasets.ward_crime()
    totals = {"cris": datasets.recorded_crime(), "connect": datasets.recorded_crime_connect()}
    latest = crime[(crime["borough"] == borough) & (crime["extract"] == ward_sources()[-1])]
    codes = latest["ward_code"].astype(str).unique()  # the wards of the latest extract: the May 2022 wards
    context = ward_context(codes)
    return view(
        crime,
        borough,
        ward_sources(),
        threshold,
        totals,
        population=context.population,
        deprivation=context.deprivation,
        shapes=context.shapes,
    )


@dataclass(frozen=True)
class WardContext:
    """What the mirror gives about a borough's wards beside their crime: residents, deprivation and shapes."""

    population: pd.Series | None  # Census 2021 residents by ward code
    deprivation: pd.DataFrame | None  # ``places.place_deprivation``'s table
    shapes: WardShapes
    note: str = ""  # what could not be had, in words


POPULATION_SOURCES = ("ons_census2021_lsoa_population", "ons_lsoa21_ward22_lad22")


def ward_context(codes: Sequence[str]) -> WardContext:
    """Residents, deprivation and shapes for the ward `codes` (May 2022 wards): Census 2021 residents summed over the
    2021 LSOAs best fitted to each ward; each ward's IMD 2019 from the 2021 LSOAs that kept their 2011 code; the GLA's
    ward boundaries where they hold every ward, else the wards built from the 2021 LSOAs. A ward with no LSOA best
    fitted to it has no population (and is left out of the funnel plot)."""
    lookup = datasets.lsoa21_wards_2022()
    fitted = lookup[lookup["ward"].isin(list(codes))]
    residents = datasets.lsoa_population()[["lsoa", "population"]]
    population = places.place_population(residents, fitted, "lsoa", "ward")
    imd = datasets.imd2019().rename(columns={"lsoa11": "lsoa"})[["lsoa", "decile"]]
    deprivation = places.place_deprivation(imd, residents, fitted, "lsoa", "ward")
    shapes = ward_shapes.ward_shapes(
        codes,
        datasets.ward_boundaries_2018(),
        datasets.lsoa21_boundaries(),
        fitted.rename(columns={"lsoa": "lsoa21", "ward": "ward22"}),
    )
    return WardContext(population if not population.empty else None, deprivation, shapes)


_COUNT, _PCT, _SIGNED = tables.COUNT, "{:.1f}%", tables.PCT_CHANGE


def _years_period(v: WardView) -> str:
    years = sorted(v.years["financial_year"].unique())
    return f"financial years {years[0]} to {years[-1]}"


def ward_table_spec(v: WardView, threshold: int) -> TableSpec:
    """All recorded crime by ward and year, with the latest year's share, rank and change."""
    table = ward_table(v, threshold)
    years = [c for c in table.columns if re_year(c)]
    before = previous_financial_year(v.latest_year)
    return TableSpec(
        f"{SLUG}-wards-by-year",
        table,
        columns={
            "name": "Ward",
            **{y: y for y in years},
            "share": f"Share {v.latest_year}",
            "rank": f"Rank {v.latest_year}",
            "pct_change": f"Change on {before}",
            "p_value": "p-value",
            "relative": "Against rest of borough (ratio)",
            "relative_p": "p-value against rest",
        },
        formats={
            **dict.fromkeys(years, _COUNT),
            "share": _PCT,
            "rank": tables.AS_IS,
            "pct_change": _SIGNED,
            "p_value": tables.P_VALUE,
            "relative": tables.RATIO,
            "relative_p": tables.P_VALUE,
        },
        caption=f"Recorded offences placed in each of {v.borough}'s wards, by financial year; share and rank are of "
        f"{v.latest_year}. A change is shown only between years of one series and one set of wards, and not where "
        f"either year has fewer than {threshold} offences; against the rest of the borough, over-dispersion among "
        "wards is allowed for.",
        source=citation(),
        period=_years_period(v),
    )


def re_year(column: object) -> bool:
    """A financial-year column label ('2021/22')."""
    text = str(column)
    return len(text) == 7 and text[4] == "/" and text[:4].isdigit()


def measures_table_spec(v: WardView, threshold: int) -> TableSpec:
    """The latest year's count by ward and measure, small safeguarding counts hidden."""
    table = measures_table(v, threshold)
    measures = [c for c in table.columns if c not in ("place", "name")]
    return TableSpec(
        f"{SLUG}-wards-by-measure",
        table,
        columns={"name": "Ward", **{m: m for m in measures}},
        formats=dict.fromkeys(measures, _COUNT),
        caption=f"Recorded offences in {v.latest_year} by ward and priority measure. A dash in a safeguarding "
        f"measure's column (sexual offences) means fewer than {threshold} offences, not none.",
        source=citation(),
        period=f"financial year {v.latest_year}",
    )


def persistence_table_spec(v: WardView) -> TableSpec:
    """The top five wards of each year of the latest run of one set of wards."""
    p = v.persistence
    frame = pd.DataFrame({fy: [v.name(c) for c in codes] + [""] * (p.n - len(codes)) for fy, codes in p.top.items()})
    frame.insert(0, "position", range(1, len(frame) + 1))
    return TableSpec(
        f"{SLUG}-top-five",
        frame,
        columns={"position": "Position", **{fy: fy for fy in p.top}},
        formats={"position": tables.AS_IS},
        caption=f"The {p.n} wards with the most recorded crime in each financial year of one set of ward boundaries "
        f"(wards with fewer offences than the small-number threshold are never ranked).",
        source=citation(),
        period=f"financial years {p.years[0]} to {p.years[-1]}" if p.years else "no complete year",
    )


def hotspot_table_spec(v: WardView) -> TableSpec:
    """The wards and measures whose change stood out from the rest of the borough's, after FDR control."""
    columns = {
        "name": "Ward",
        "measure": "Measure",
        "since": "From",
        "financial_year": "To",
        "previous": "Offences then",
        "count": "Offences now",
        "pct_change": "Change",
        "relative": "Against rest of borough (ratio)",
        "relative_p": "p-value",
        "q_value": "q-value (FDR)",
    }
    return TableSpec(
        f"{SLUG}-hotspots",
        v.hotspots.reindex(columns=list(columns)),
        columns=columns,
        formats={
            "previous": _COUNT,
            "count": _COUNT,
            "pct_change": _SIGNED,
            "relative": tables.RATIO,
            "relative_p": tables.P_VALUE,
            "q_value": tables.P_VALUE,
        },
        caption=f"Wards whose change stood out from the rest of {v.borough}'s beyond chance: {v.tests:,} tests (every "
        "ward and measure, on the year before and over the latest run of years of one series and one set of wards), "
        "the false discovery rate held at 5% (Benjamini-Hochberg). No row: no ward stood out.",
        source=citation(),
        period=f"financial years to {v.hotspot_year}" if v.hotspot_year else _years_period(v),
    )


def gap_table_spec(v: WardView) -> TableSpec:
    """The ward sums against the borough totals by year."""
    return TableSpec(
        f"{SLUG}-ward-gap",
        v.gap,
        columns={
            "financial_year": "Financial year",
            "series": "Series",
            "places": "Sum over wards",
            "area": "Borough total",
            "gap": "Not placed in a ward",
            "gap_pct": "Share not placed",
        },
        formats={"places": _COUNT, "area": _COUNT, "gap": _COUNT, "gap_pct": _PCT},
        caption=f"All recorded crime in {v.borough}: the sum over its wards against the borough total of the same "
        "series (the ward and borough files are different extracts, so revisions add to the gap).",
        source=f"{citation()}; {datasets.citation(*datasets.MAIN_CRIME_SOURCES, *datasets.CONNECT_CRIME_SOURCES)}",
        period=_years_period(v),
    )


def funnel_table_spec(v: WardView) -> TableSpec | None:
    """Ward rates against the borough's (the funnel plot's data)."""
    if v.funnel is None:
        return None
    frame = v.funnel.sort_values("rate", ascending=False).reset_index(drop=True)
    return TableSpec(
        f"{SLUG}-ward-rates",
        frame,
        columns={
            "name": "Ward",
            "count": "Offences",
            "population": "Residents (Census 2021)",
            "rate": "Per 1,000",
            "expected": "Expected at borough rate",
            "z": "z",
            "p_value": "p-value",
            "q_value": "q-value (FDR)",
            "beyond_chance": "Beyond chance",
        },
        formats={
            "count": _COUNT,
            "population": _COUNT,
            "rate": tables.RATE,
            "expected": _COUNT,
            "z": tables.Z_SCORE,
            "p_value": tables.P_VALUE,
            "q_value": tables.P_VALUE,
        },
        caption=f"All recorded crime per 1,000 residents in each ward, {v.latest_year}, against the borough's rate. "
        "Residents are Census 2021 counts summed over the 2021 LSOAs best fitted to each ward.",
        source=f"{citation()}; {datasets.citation(*POPULATION_SOURCES)}",
        period=f"financial year {v.latest_year}; residents at March 2021",
    )


CURVE_MEASURES = (TOTAL.name, "Violence against the person", "Theft", "Burglary", "Robbery", "Possession of drugs")
MAP_MEASURES = (
    TOTAL.name,
    "Violence against the person",
    "Theft",
    "Burglary",
    "Robbery",
    "Criminal damage and arson",
)


def curves_frame(curves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The concentration curves as one long table (measure, place, places_pct, offences_pct) for the chart's CSV."""
    frames = [c.rename_axis("place").reset_index().assign(measure=m) for m, c in curves.items()]
    return pd.concat(frames, ignore_index=True)[["measure", "place", "places_pct", "offences_pct"]]


def funnel_curves(v: WardView) -> dict[str, pd.DataFrame]:
    """The funnel's limits for drawing, by label."""
    if v.funnel is None:
        return {}
    rate = float(v.funnel["area_rate"].iloc[0])
    phi = float(v.funnel["dispersion"].iloc[0])
    widened = " (widened for over-dispersion)" if phi > 1 else ""
    return {
        f"{level:.1%} limits{widened}".replace(".0%", "%"): places.funnel_curve(
            rate, v.funnel["population"], level, phi
        )
        for level in places.LEVELS
    }


def beyond_chance_names(v: WardView) -> tuple[list[str], list[str]]:
    """The wards whose rate is above, and below, the borough's beyond chance."""
    if v.funnel is None:
        return [], []
    f = v.funnel
    return f.loc[f["beyond_chance"] == "above", "name"].tolist(), f.loc[f["beyond_chance"] == "below", "name"].tolist()


def deprivation_table_spec(v: WardView) -> TableSpec | None:
    """Each ward's rate beside its deprivation."""
    if v.deprivation is None:
        return None
    return TableSpec(
        f"{SLUG}-deprivation",
        v.deprivation.sort_values("mean_decile", ignore_index=True),
        columns={
            "name": "Ward",
            "rate": f"Offences per 1,000 ({v.latest_year})",
            "mean_decile": "Average IMD decile (1 = most deprived)",
            "most_deprived_pct": "Residents in England's most deprived 20%",
            "covered_pct": "Residents with an IMD decile",
        },
        formats={
            "rate": tables.RATE,
            "mean_decile": "{:.1f}",
            "most_deprived_pct": "{:.0f}%",
            "covered_pct": "{:.0f}%",
        },
        caption="Each ward's recorded crime rate beside its deprivation: the residents-weighted average IMD 2019 "
        "decile of its LSOAs. The IMD is published for 2011 LSOAs: a 2021 LSOA that kept its 2011 code carries its "
        "decile, those split or merged in 2021 have none (the last column). England only.",
        source=f"{datasets.citation(datasets.IMD_SOURCE, *POPULATION_SOURCES)}; {citation()}",
        period=f"IMD 2019; residents at March 2021; crime in {v.latest_year}",
    )
