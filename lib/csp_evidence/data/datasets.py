"""The tidy tables the notebooks ask for. Notebooks never open files by path: they call these.

Each table is read from the locked source files (verified by sha256), tidied and validated by its reader,
and cached as parquet in data/interim/ under a name keyed by the sources' sha256 and the library version,
so the heavy parsing happens once per data refresh, not once per notebook or borough.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from csp_evidence import __version__
from csp_evidence.core.files import atomic_write, sha256_of, source_fingerprint
from csp_evidence.core.paths import PACKAGE, interim_dir
from csp_evidence.data import policeuk_forces
from csp_evidence.data.fetch import locked_months, optional_file, verified_file
from csp_evidence.data.readers import (
    boundaries,
    gla,
    imd,
    moj,
    mopac,
    mps,
    mps_connect,
    mps_ward,
    ons,
    ons_geography,
    policeuk,
)
from csp_evidence.data.readers.mps import CITY_OF_LONDON
from csp_evidence.data.readers.mps_hate_special import read_hate_special_crime
from csp_evidence.data.sources import (
    GLA_BOROUGH_PROFILES,
    GLA_SOL_ASB_CALLS,
    GLA_SOL_REOFFENDING,
    MHCLG_IMD2019,
    MOJ_PROVEN_REOFFENDING,
    MOJ_PROVEN_REOFFENDING_TOOL,
    MOPAC_PAS,
    MPS_BOROUGH_CONNECT_HISTORICAL,
    MPS_BOROUGH_CONNECT_RECENT_2025_02,
    MPS_BOROUGH_CONNECT_RECENT_2025_12,
    MPS_BOROUGH_EXTRACT_2020_07,
    MPS_BOROUGH_HISTORICAL,
    MPS_BOROUGH_RECENT,
    MPS_HATE_SPECIAL,
    MPS_WARD_CONNECT_2025_03,
    MPS_WARD_CONNECT_2026_03,
    MPS_WARD_CRIS_2022_08,
    MPS_WARD_CRIS_2023_08,
    ONS_CENSUS2021_LSOA_POPULATION,
    ONS_PFA_ASB,
    ONS_POPULATION,
    POLICEUK_STREET_ASB,
    month_entry,
    source,
)

MAIN_CRIME_SOURCES = (MPS_BOROUGH_HISTORICAL, MPS_BOROUGH_RECENT)


# The code that reads, checks and tidies the source files: this module, the readers and what they import.
CACHE_CODE = ("data/datasets.py", "data/lsoa_places.py", "data/readers", "core/values.py")


@functools.cache
def _readers_fingerprint(package: Path = PACKAGE) -> str:
    """sha256 over CACHE_CODE's source: a change to how a file is read or checked rebuilds the cached tables,
    so a new check is never skipped by a table cached before it."""
    return source_fingerprint(package, CACHE_CODE)


def _cached(name: str, source_ids: tuple[str, ...], build: Callable[[list[Path]], pd.DataFrame]) -> pd.DataFrame:
    files = [verified_file(sid) for sid in source_ids]
    key = hashlib.sha256(
        "|".join([__version__, _readers_fingerprint(), name, *(sha for _, sha in files)]).encode()
    ).hexdigest()[:16]
    target = interim_dir() / f"{name}-{key}.parquet"
    if target.is_file():
        try:
            return pd.read_parquet(target)
        except Exception:  # a damaged cache file is rebuilt, never trusted
            target.unlink(missing_ok=True)
    table = build([path for path, _ in files])
    atomic_write(target, lambda tmp: table.to_parquet(tmp, index=False))
    return table


@functools.cache
def borough_lookup() -> pd.DataFrame:
    """London local authorities: code, name, inner_outer (GLA borough profiles)."""
    return _cached("borough_lookup", (GLA_BOROUGH_PROFILES,), lambda p: gla.read_borough_lookup(p[0]))


@functools.cache
def population() -> pd.DataFrame:
    """ONS mid-year population by local authority: code, name, geography, year, population."""
    return _cached("population", (ONS_POPULATION,), lambda p: ons.read_population(p[0]))


# The ONS lookups behind `lsoa_geography`, in the order `readers.ons_geography.build_lsoa_geography` takes them.
GEOGRAPHY_SOURCES = (
    "ons_lsoa11_ward21_lad21",
    "ons_lsoa11_ward19",
    "ons_lsoa21_ward22_lad22",
    "ons_lsoa21_ward23_lad23",
    "ons_ward23_lad23_region",
    "ons_lad23_csp23_pfa23",
    "ons_lad19_csp19_pfa19",
)


def _geography_tables(paths: list[Path]) -> list[pd.DataFrame]:
    files = dict(zip(GEOGRAPHY_SOURCES, paths, strict=True))
    return [
        ons_geography.read_lsoa11_ward21(files["ons_lsoa11_ward21_lad21"]),
        ons_geography.read_lsoa11_ward19(files["ons_lsoa11_ward19"]),
        ons_geography.read_lsoa21_ward22(files["ons_lsoa21_ward22_lad22"]),
        ons_geography.read_lsoa21_ward23(files["ons_lsoa21_ward23_lad23"]),
        ons_geography.read_ward23_region(files["ons_ward23_lad23_region"]),
        ons_geography.read_lad_csp_pfa(files["ons_lad23_csp23_pfa23"], 2023),
        ons_geography.read_lad_csp_pfa(files["ons_lad19_csp19_pfa19"], 2019),
    ]


@functools.cache
def lsoa_geography() -> pd.DataFrame:
    """Every LSOA of England and Wales (2011 and 2021 codes, `vintage`) in its ward, 2023 local authority, CSP
    (December 2023), police force area, region and country: the columns of ``ons_geography.GEOGRAPHY_COLUMNS``."""
    return _cached(
        "lsoa_geography", GEOGRAPHY_SOURCES, lambda p: ons_geography.build_lsoa_geography(*_geography_tables(p))
    )


@functools.cache
def csp_lookup() -> pd.DataFrame:
    """Local authority -> CSP -> police force area, December 2023: lad, lad_name, csp, csp_name, pfa, pfa_name (one
    row per authority and CSP: a merged authority has a row for each of its former districts' CSPs)."""
    return _cached("csp_lookup", ("ons_lad23_csp23_pfa23",), lambda p: ons_geography.read_lad_csp_pfa(p[0], 2023))


@functools.cache
def ward_lookup() -> pd.DataFrame:
    """Every ward of May 2023 (UK) in its authority, region and country: ward, ward_name, lad, lad_name, region,
    region_name, country, country_name (Wales's region is Wales)."""
    return _cached("ward_lookup", ("ons_ward23_lad23_region",), lambda p: ons_geography.read_ward23_region(p[0]))


@functools.cache
def lsoa21_wards_2022() -> pd.DataFrame:
    """2021 LSOAs in their May 2022 wards and authorities (best fit; the wards of the MPS ward files): lsoa,
    lsoa_name, ward, ward_name, lad, lad_name."""
    return _cached("lsoa21_wards_2022", ("ons_lsoa21_ward22_lad22",), lambda p: ons_geography.read_lsoa21_ward22(p[0]))


@functools.cache
def lsoa_population() -> pd.DataFrame:
    """Census 2021 usual residents of each 2021 LSOA: lsoa, lsoa_name, population."""
    return _cached(
        "lsoa_population",
        (ONS_CENSUS2021_LSOA_POPULATION,),
        lambda p: ons_geography.read_census_lsoa_population(p[0]),
    )


def _mps_borough_names() -> tuple[list[str], list[str]]:
    """London's local authority names, and those the Metropolitan Police covers (all but the City of London)."""
    names = borough_lookup()["name"].tolist()
    return names, [n for n in names if n != CITY_OF_LONDON]


@functools.cache
def recorded_crime() -> pd.DataFrame:
    """MPS recorded crime, one continuous CRIS-era monthly series 2010-04 to 2024-01: tidy long table."""
    names, policed = _mps_borough_names()  # from the GLA file: its bytes are part of the key
    return _cached(
        "recorded_crime",
        (*MAIN_CRIME_SOURCES, GLA_BOROUGH_PROFILES),
        lambda p: mps.read_borough_crime(p[:-1], names, policed),
    )


@functools.cache
def recorded_crime_extract_2020() -> pd.DataFrame:
    """MPS recorded crime as published in July 2020 (2018-07 to 2020-06): for showing later revisions."""
    names, policed = _mps_borough_names()
    return _cached(
        "recorded_crime_2020_07",
        (MPS_BOROUGH_EXTRACT_2020_07, GLA_BOROUGH_PROFILES),
        lambda p: mps.read_borough_crime(p[:-1], names, policed),
    )


# The CONNECT-era extracts, oldest first: each month is taken from the latest extract that holds it.
CONNECT_CRIME_SOURCES = (
    MPS_BOROUGH_CONNECT_HISTORICAL,
    MPS_BOROUGH_CONNECT_RECENT_2025_02,
    MPS_BOROUGH_CONNECT_RECENT_2025_12,
)


@functools.cache
def _connect_tables(files: tuple[tuple[Path, str], ...]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The CONNECT-era extracts (path, sha256) read once a process: the joined series, the revisions and each
    month's extract (new bytes at the same path are read again)."""
    names, policed = _mps_borough_names()
    tidy, revised, holder = mps_connect.read_connect_crime([path for path, _ in files], names, policed)
    holder_frame = holder.rename_axis("month").reset_index()
    holder_frame["source_id"] = holder_frame["extract"].map(
        {Path(source(sid).file).name: sid for sid in CONNECT_CRIME_SOURCES}
    )
    return tidy, revised, holder_frame


def _connect(part: int) -> Callable[[list[Path]], pd.DataFrame]:
    """Build one of `_connect_tables` (the last path, the borough lookup, only keys the cache)."""
    return lambda paths: _connect_tables(tuple((path, sha256_of(path)) for path in paths[:-1]))[part]


@functools.cache
def recorded_crime_connect() -> pd.DataFrame:
    """MPS recorded crime, the CONNECT-era series 2010-04 to 2025-12 (borough where the offence happened): the tidy
    long table of `recorded_crime`'s columns, each month from the latest extract that holds it. A separate series
    from `recorded_crime` (CRIS era): never mix the two in one table, chart or change. Its boroughs include
    'Unknown' and the airports, which are not ranked."""
    return _cached("recorded_crime_connect", (*CONNECT_CRIME_SOURCES, GLA_BOROUGH_PROFILES), _connect(0))


@functools.cache
def connect_revisions() -> pd.DataFrame:
    """The CONNECT-era months held by two extracts: month, borough, earlier_extract, earlier, latest_extract, latest,
    revision (all categories together)."""
    return _cached("recorded_crime_connect_revisions", (*CONNECT_CRIME_SOURCES, GLA_BOROUGH_PROFILES), _connect(1))


@functools.cache
def connect_vintages() -> pd.DataFrame:
    """Which CONNECT-era extract each month of `recorded_crime_connect` comes from: month, extract (file name),
    source_id."""
    return _cached("recorded_crime_connect_vintages", (*CONNECT_CRIME_SOURCES, GLA_BOROUGH_PROFILES), _connect(2))


HATE_SPECIAL_SOURCE = MPS_HATE_SPECIAL


@functools.cache
def hate_special_crime() -> pd.DataFrame:
    """MPS hate crime strands, domestic abuse, knife and gun crime and homicide by borough and month, 2010-04 to
    2021-05 (CRIS era): the tidy long table of `recorded_crime`'s columns; strands overlap, never add them up."""
    names, policed = _mps_borough_names()
    return _cached(
        "hate_special_crime",
        (HATE_SPECIAL_SOURCE, GLA_BOROUGH_PROFILES),
        lambda p: read_hate_special_crime(p[0], names, policed),
    )


# The ward extracts, oldest first in each series: (source id, series). A financial year of ward figures is always
# taken whole from one extract (``analysis.places``), never pieced together from two.
WARD_SOURCES = (
    (MPS_WARD_CRIS_2022_08, "cris"),
    (MPS_WARD_CRIS_2023_08, "cris"),
    (MPS_WARD_CONNECT_2025_03, "connect"),
    (MPS_WARD_CONNECT_2026_03, "connect"),
)


def _ward_table(paths: list[Path]) -> pd.DataFrame:
    names, policed = _mps_borough_names()
    parts = []
    for (sid, series), path in zip(WARD_SOURCES, paths[:-1], strict=True):
        part = mps_ward.read_ward_file(path, series, names, policed)
        part.insert(0, "extract", sid)
        part.insert(0, "series", series)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    for column in ("series", "extract", "borough", "ward_code", "ward", "major_category", "minor_category"):
        table[column] = table[column].astype("category")
    return table


@functools.cache
def ward_crime() -> pd.DataFrame:
    """MPS recorded crime by ward and month from every ward extract held: series ('cris' or 'connect'), extract (its
    source id), month, borough, ward_code, ward, major_category, minor_category, count. Extracts overlap and restate
    months (later CRIS-era extracts in the May 2022 wards): never add two extracts' months together; a stub first
    month is already dropped. Ward sums fall short of the borough totals (not every offence is placed in a ward)."""
    ids = tuple(sid for sid, _ in WARD_SOURCES)
    return _cached("ward_crime", (*ids, GLA_BOROUGH_PROFILES), _ward_table)


WARDS_2018_SOURCES = tuple(f"geo_london_wards_2018_{part}" for part in ("tab", "map", "dat", "id"))
LSOA21_SOURCES = tuple(f"geo_london_lsoa21_{part}" for part in ("shp", "shx", "dbf"))


@functools.cache
def ward_boundaries_2018() -> pd.DataFrame:
    """London's wards as at 2018 (GLA, the City's wards merged into one): code, name, parent (local authority code),
    wkb (British National Grid). The wards before May 2022, and the wards of the boroughs not redrawn then."""
    return _cached(
        "ward_boundaries_2018",
        WARDS_2018_SOURCES,
        lambda p: boundaries.read_boundaries(p[0], "GSS_CODE", "NAME", "LAGSSCODE", r"E05\d{6}"),
    )


@functools.cache
def lsoa21_boundaries() -> pd.DataFrame:
    """London's 2021 LSOAs (ONS, generalised to 20 m): code, name, parent (local authority code), wkb (British
    National Grid)."""
    return _cached(
        "lsoa21_boundaries",
        LSOA21_SOURCES,
        lambda p: boundaries.read_boundaries(p[0], "LSOA21CD", "LSOA21NM", "LAD22CD", r"E01\d{6}"),
    )


IMD_SOURCE = MHCLG_IMD2019


@functools.cache
def imd2019() -> pd.DataFrame:
    """The Index of Multiple Deprivation 2019 by 2011 LSOA, England only: lsoa11, lad19, rank (1 = most deprived of
    32,844), decile (1 = the most deprived tenth)."""
    return _cached("imd2019", (IMD_SOURCE,), lambda p: imd.read_imd2019(p[0]))


@functools.cache
def public_attitudes() -> pd.DataFrame:
    """MOPAC Public Attitude Survey by borough and quarter: quarter_end, borough, measure, proportion, london."""
    return _cached("public_attitudes", (MOPAC_PAS,), lambda p: mopac.read_pas(p[0]))


@functools.cache
def proven_reoffending() -> pd.DataFrame | None:
    """MoJ proven reoffending by local authority and cohort, or None until a data-tool file is provided and locked.

    The CSV of a release (``moj_proven_reoffending``) and, when added, an earlier release's Excel data tool
    (``moj_proven_reoffending_tool``) for cohorts the CSV does not hold."""
    have = [sid for sid in (MOJ_PROVEN_REOFFENDING, MOJ_PROVEN_REOFFENDING_TOOL) if optional_file(sid) is not None]
    if not have:
        return None

    def build(paths: list[Path]) -> pd.DataFrame:
        tables = dict(zip(have, paths, strict=True))
        csv = moj.read_proven_reoffending(tables[MOJ_PROVEN_REOFFENDING]) if MOJ_PROVEN_REOFFENDING in tables else None
        tool = (
            moj.read_data_tool(tables[MOJ_PROVEN_REOFFENDING_TOOL]) if MOJ_PROVEN_REOFFENDING_TOOL in tables else None
        )
        if csv is None or tool is None:
            return csv if csv is not None else tool
        return moj.combine_releases(csv, tool)

    return _cached("proven_reoffending", tuple(have), build)


STREET_SOURCE = POLICEUK_STREET_ASB


@functools.cache
def _street_table() -> pd.DataFrame | None:
    months = locked_months(STREET_SOURCE)
    if not months:
        return None
    _, policed = _mps_borough_names()
    ids = tuple(month_entry(STREET_SOURCE, m) for m in months)
    return _cached(
        "policeuk_street",
        (*ids, GLA_BOROUGH_PROFILES, *GEOGRAPHY_SOURCES),
        lambda p: policeuk.read_street_months(
            dict(zip(months, p[: len(months)], strict=True)), policed, lsoa_geography()
        ),
    )


def asb_incidents() -> pd.DataFrame | None:
    """police.uk street-level crime and ASB of the 32 MPS boroughs by month (month, borough, crime_type, count), or
    None until monthly files are fetched and locked (`csp fetch --source policeuk`). Only the months locked are in
    it: check them with `street_coverage` (a month missing is unknown, never zero)."""
    table = _street_table()
    if table is None:
        return None
    placed = table[table["placed"]].rename(columns={"area": "borough"})
    return placed[["month", "borough", "crime_type", "count"]].reset_index(drop=True)


def street_coverage() -> pd.DataFrame | None:
    """Per locked month of police.uk street data: rows, rows placed in a borough, rows with no LSOA, rows outside
    the boroughs and where (``readers.policeuk.street_coverage``); None until files are locked."""
    table = _street_table()
    return None if table is None else policeuk.street_coverage(table)


def citation(*source_ids: str) -> str:
    """A source line naming publisher, title and period of each source, for charts and tables; a secondary
    source says so and names the original publisher."""
    parts = []
    for sid in source_ids:
        src = source(sid)
        secondary = f", a secondary source compiled from the {src.original}" if src.secondary else ""
        parts.append(f"{src.publisher}, {src.title} ({src.period}){secondary}")
    return "; ".join(parts)


CRIME_CITATION_IDS = MAIN_CRIME_SOURCES


@functools.cache
def pfa_asb_incidents() -> pd.DataFrame:
    """ASB incidents by police force area and financial year 2007/08-2018/19 (ONS PFA tables, Table P7):
    area, area_type, financial_year, incidents, rate_per_1000. Force-wide: no borough breakdown."""
    return _cached("pfa_asb_incidents", (ONS_PFA_ASB,), lambda p: ons.read_pfa_asb_incidents(p[0]))


@functools.cache
def pfa_asb_categories() -> pd.DataFrame:
    """ASB incidents by category (personal, nuisance, environmental) and police force area, 2018/19, in per cent
    (ONS PFA tables, Table P8): area, area_type, financial_year, category, percent."""
    return _cached("pfa_asb_categories", (ONS_PFA_ASB,), lambda p: ons.read_pfa_asb_categories(p[0]))


@functools.cache
def london_asb_calls() -> pd.DataFrame:
    """London-wide ASB calls to the MPS by month, 2019-01 to 2024-03: month, calls. A secondary source (GLA State
    of London, from the MOPAC crime dashboard): calls, not incidents."""
    return _cached("london_asb_calls", (GLA_SOL_ASB_CALLS,), lambda p: gla.read_sol_asb_calls(p[0]))


@functools.cache
def london_reoffending_rate() -> pd.DataFrame:
    """London's proven reoffending rate by year, 2013-2023: year, area, rate (proportion). A secondary source (GLA
    State of London dashboard, from MoJ proven reoffending statistics)."""
    return _cached("london_reoffending_rate", (GLA_SOL_REOFFENDING,), lambda p: gla.read_sol_london_reoffending(p[0]))


@functools.cache
def area_street() -> pd.DataFrame | None:
    """police.uk street-level crime and ASB of every force held, month by month, reduced by LSOA and crime type and
    placed by LSOA code (``readers.policeuk.place_reduced``: ward, authority, CSP, force area, region), with the
    reporting force; None until `csp fetch --source policeuk --params PARAMS` has locked reduced months."""
    months = policeuk_forces.locked_reduced_months()
    if not months:
        return None
    ids = tuple(policeuk_forces.reduced_entry(m) for m in months)

    def build(paths: list[Path]) -> pd.DataFrame:
        reduced = pd.concat([policeuk.read_reduced(p) for p in paths[: len(ids)]], ignore_index=True)
        return policeuk.place_reduced(reduced, lsoa_geography())

    return _cached("policeuk_area_street", (*ids, *GEOGRAPHY_SOURCES), build)


def csp_residents(csp: str) -> int:
    """Census 2021 usual residents of a CSP: the sum over its 2021 LSOAs."""
    geography = lsoa_geography()
    lsoas = geography.loc[(geography["vintage"] == 2021) & (geography["csp"] == csp), "lsoa"]
    people = lsoa_population().set_index("lsoa")["population"]
    return int(people.reindex(lsoas).fillna(0).sum())
