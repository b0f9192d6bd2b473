"""ONS geography lookups (LSOA -> ward -> local authority -> CSP -> police force area -> region) and Census 2021
population by LSOA, read and checked, and joined into one table placing every LSOA of England and Wales.

Files (ONS Open Geography Portal, Open Government Licence v3.0; see shared/data/geo/SOURCES.md):

* LSOA (2021) to Ward to LAD (May 2022) best fit: ``ObjectId,LSOA21CD,LSOA21NM,WD22CD,WD22NM,WD22NMW,LTLA22CD,...``.
  This edition calls the authority ``LTLA22CD``/``LTLA22NM``; later versions of the service ``LAD22CD``/``LAD22NM``:
  both are read. UTF-8 with a BOM.
* LSOA (2021) to Electoral Ward (2023) to LAD (2023) best fit: ``LSOA21CD,...,WD23CD,WD23NM,...,LAD23CD,...,ObjectId``.
  Some Welsh ward names are garbled (``Pen draw Ll┼Àn``), so only its codes and LSOA names are kept: ward names come
  from the ward lookup. A best-fit file drops wards no LSOA is fitted to (20 of the City of London's 25).
* Ward to LAD to County to Region to Country (May 2023), UK: the complete ward list, and each authority's region.
  Wales has no regions: its ``RGN23CD`` is the country, Wales.
* LSOA (2011) to Ward (2019): ``FID,LSOA11CD,LSOA11NM,WD19CD,WD19NM,LAD19CD,LAD19NM`` (a re-saved derivative, no BOM).
  Its 2019 authorities are those before the 2020-2023 mergers, so it gives the old district of a 2011 LSOA.
* LSOA (2011) to Electoral Ward (2021) to LAD (2021), V2 (xlsx, sheet ``LSOA11_WD21_LAD21_EW_LU``).
* LAD to Community Safety Partnership to Police Force Area, December 2023 and December 2019: ``LADyyCD,LADyyNM,
  CSPyyCD,CSPyyNM,PFAyyCD,PFAyyNM``. One row per (authority, CSP): an authority formed by a merger (Buckinghamshire,
  the Northamptonshires, Cumberland, Westmorland and Furness, Bournemouth Christchurch and Poole, East Suffolk) is
  listed once for each CSP of its former districts, so the authority alone does not say an LSOA's CSP.
* Census 2021 TS007A by LSOA (Nomis bulk layout): ``date,geography,geography code,Age: Total,...``; ``Age: Total``
  is the usual resident population on 21 March 2021.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from csp_evidence.data.readers.errors import (
    SourceFormatError,
    read_csv_text,
    schema_failures,
    validation_summary,
    whole_counts,
)

LSOA_CODE = r"^[EW]01\d{6}$"
WARD_CODE = r"^([EW]05|S13|N08)\d{6}$"  # Scotland's wards are S13, Northern Ireland's N08
LAD_CODE = r"^([EW]0[6789]|S12|N09)\d{6}$"
CSP_CODE = r"^(E22|W14)\d{6}$"  # Welsh CSPs are W14
PFA_CODE = r"^(E23|W15)\d{6}$"
REGION_CODE = r"^(E12\d{6}|[EWSN]92\d{6})$"  # an English region, or a country (Wales, Scotland, Northern Ireland)
COUNTRY_CODE = r"^[EWSN]92\d{6}$"
ENGLAND, WALES = "E92000001", "W92000004"

VINTAGES = (2011, 2021)  # the LSOA sets: police.uk used the 2011 LSOAs, then the 2021 ones

LSOA11_WARD21_SHEET = "LSOA11_WD21_LAD21_EW_LU"


class GeographyFormatError(SourceFormatError):
    """An ONS lookup or population file that does not have the expected layout or values."""


def _text(pattern: str | None = None, nullable: bool = False) -> pa.Column:
    checks = [pa.Check.str_matches(pattern)] if pattern else [pa.Check.str_length(min_value=1)]
    return pa.Column(str, checks, nullable=nullable)


def _lsoa_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "lsoa": _text(LSOA_CODE),
            "lsoa_name": _text(),
            "ward": _text(WARD_CODE),
            "ward_name": _text(nullable=True),
            "lad": _text(LAD_CODE),
            "lad_name": _text(),
        },
        unique=["lsoa"],
        strict=True,
    )


def _read(path: Path, columns: Mapping[str, str | tuple[str, ...]], *, sheet: str | None = None) -> pd.DataFrame:
    """The file's columns renamed to tidy names; `columns` maps tidy name -> the file's column (or alternatives)."""
    path = Path(path)
    if sheet is None:
        raw = read_csv_text(path, [], GeographyFormatError)
    else:
        if not path.is_file() or path.stat().st_size == 0:
            raise GeographyFormatError(path, "file is missing or empty")
        try:
            raw = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False)
        except ValueError as exc:
            raise GeographyFormatError(path, f"cannot read the sheet ({exc})", sheet=sheet) from exc
        except Exception as exc:  # a truncated xlsx raises zipfile/openpyxl errors of several types
            raise GeographyFormatError(path, f"not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
        raw.columns = [str(c).strip() for c in raw.columns]
    out = {}
    for tidy, names in columns.items():
        options = (names,) if isinstance(names, str) else names
        found = next((n for n in options if n in raw.columns), None)
        if found is None:
            wanted = " or ".join(repr(n) for n in options)
            raise GeographyFormatError(
                path, f"missing column {wanted}; found {list(raw.columns)[:12]}", column=options[0], sheet=sheet
            )
        out[tidy] = raw[found].str.strip().replace("", pd.NA)
    return pd.DataFrame(out)


def _validated(path: Path, frame: pd.DataFrame, schema: pa.DataFrameSchema, columns, *, sheet=None) -> pd.DataFrame:
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        names = {k: (v if isinstance(v, str) else v[0]) for k, v in columns.items()}
        if sheet is not None:
            raise GeographyFormatError(path, validation_summary(err, names), sheet=sheet) from None
        raise GeographyFormatError(path, schema_failures(path, err, f"{path}: invalid ONS lookup", names)) from None


def _lsoa_lookup(path: Path | str, columns: dict, *, sheet: str | None = None) -> pd.DataFrame:
    path = Path(path)
    frame = _read(path, columns, sheet=sheet)
    return _validated(path, frame, _lsoa_schema(), columns, sheet=sheet).reset_index(drop=True)


def read_lsoa21_ward22(path: Path | str) -> pd.DataFrame:
    """LSOA (2021) -> ward (May 2022) -> local authority (May 2022), best fit: lsoa, lsoa_name, ward, ward_name,
    lad, lad_name (the file's ``LTLA22CD``, or ``LAD22CD`` in later versions)."""
    columns = {
        "lsoa": "LSOA21CD",
        "lsoa_name": "LSOA21NM",
        "ward": "WD22CD",
        "ward_name": "WD22NM",
        "lad": ("LTLA22CD", "LAD22CD"),
        "lad_name": ("LTLA22NM", "LAD22NM"),
    }
    return _lsoa_lookup(path, columns)


def read_lsoa21_ward23(path: Path | str) -> pd.DataFrame:
    """LSOA (2021) -> electoral ward (2023) -> local authority (2023), best fit: lsoa, lsoa_name, ward, ward_name,
    lad, lad_name. ``ward_name`` is empty: the file garbles some Welsh names, so names come from the ward lookup."""
    columns = {
        "lsoa": "LSOA21CD",
        "lsoa_name": "LSOA21NM",
        "ward": "WD23CD",
        "lad": "LAD23CD",
        "lad_name": "LAD23NM",
    }
    path = Path(path)
    frame = _read(path, columns)
    frame.insert(3, "ward_name", pd.Series(pd.NA, index=frame.index, dtype=object))
    return _validated(path, frame, _lsoa_schema(), columns).reset_index(drop=True)


def read_lsoa11_ward19(path: Path | str) -> pd.DataFrame:
    """LSOA (2011) -> ward (2019) -> local authority (2019), best fit: lsoa, lsoa_name, ward, ward_name, lad, lad_name.
    The 2019 authorities are those before the 2020-2023 mergers (Aylesbury Vale, Corby, Allerdale ...)."""
    columns = {
        "lsoa": "LSOA11CD",
        "lsoa_name": "LSOA11NM",
        "ward": "WD19CD",
        "ward_name": "WD19NM",
        "lad": "LAD19CD",
        "lad_name": "LAD19NM",
    }
    return _lsoa_lookup(path, columns)


def read_lsoa11_ward21(path: Path | str, sheet: str = LSOA11_WARD21_SHEET) -> pd.DataFrame:
    """LSOA (2011) -> electoral ward (2021) -> local authority (2021), xlsx: lsoa, lsoa_name, ward, ward_name, lad,
    lad_name."""
    columns = {
        "lsoa": "LSOA11CD",
        "lsoa_name": "LSOA11NM",
        "ward": "WD21CD",
        "ward_name": "WD21NM",
        "lad": "LAD21CD",
        "lad_name": "LAD21NM",
    }
    return _lsoa_lookup(path, columns, sheet=sheet)


WARD_SCHEMA = pa.DataFrameSchema(
    {
        "ward": _text(WARD_CODE),
        "ward_name": _text(),
        "lad": _text(LAD_CODE),
        "lad_name": _text(),
        "region": _text(REGION_CODE),
        "region_name": _text(),
        "country": _text(COUNTRY_CODE),
        "country_name": _text(),
    },
    unique=["ward"],
    strict=True,
)


def read_ward23_region(path: Path | str) -> pd.DataFrame:
    """Ward (May 2023) -> local authority -> region -> country, UK, every ward: ward, ward_name, lad, lad_name, region,
    region_name, country, country_name. Where a country has no regions (Wales), the region is the country."""
    path = Path(path)
    columns = {
        "ward": "WD23CD",
        "ward_name": "WD23NM",
        "lad": "LAD23CD",
        "lad_name": "LAD23NM",
        "region": "RGN23CD",
        "region_name": "RGN23NM",
        "country": "CTRY23CD",
        "country_name": "CTRY23NM",
    }
    frame = _read(path, columns)
    frame["region"] = frame["region"].fillna(frame["country"])
    frame["region_name"] = frame["region_name"].fillna(frame["country_name"])
    return _validated(path, frame, WARD_SCHEMA, columns).reset_index(drop=True)


CSP_SCHEMA = pa.DataFrameSchema(
    {
        "lad": _text(LAD_CODE),
        "lad_name": _text(),
        "csp": _text(CSP_CODE),
        "csp_name": _text(),
        "pfa": _text(PFA_CODE),
        "pfa_name": _text(),
    },
    unique=["lad", "csp"],
    strict=True,
)


def read_lad_csp_pfa(path: Path | str, year: int) -> pd.DataFrame:
    """Local authority -> Community Safety Partnership -> police force area (December `year`, 2019 or 2023): lad,
    lad_name, csp, csp_name, pfa, pfa_name, one row per (authority, CSP). A CSP lies in one force area, and an
    authority in one force area (an error names the file otherwise)."""
    path = Path(path)
    yy = f"{year % 100:02d}"
    columns = {
        "lad": f"LAD{yy}CD",
        "lad_name": f"LAD{yy}NM",
        "csp": f"CSP{yy}CD",
        "csp_name": f"CSP{yy}NM",
        "pfa": f"PFA{yy}CD",
        "pfa_name": f"PFA{yy}NM",
    }
    table = _validated(path, _read(path, columns), CSP_SCHEMA, columns).reset_index(drop=True)
    for key in ("csp", "lad"):
        forces = table.groupby(key)["pfa"].nunique()
        if (forces > 1).any():
            raise GeographyFormatError(
                path, f"{key.upper()}{yy}CD {forces[forces > 1].index[0]!r} lies in more than one police force area"
            )
    names = table.groupby("csp")["csp_name"].nunique()
    if (names > 1).any():
        raise GeographyFormatError(path, f"CSP{yy}CD {names[names > 1].index[0]!r} has more than one name")
    return table


POPULATION_SCHEMA = pa.DataFrameSchema(
    {
        "lsoa": _text(LSOA_CODE),
        "lsoa_name": _text(),
        "population": pa.Column("int64", pa.Check.ge(0)),
    },
    unique=["lsoa"],
    strict=True,
)
POPULATION_TOTAL = "Age: Total"


def read_census_lsoa_population(path: Path | str) -> pd.DataFrame:
    """Census 2021 usual residents by LSOA (2021), TS007A ``Age: Total``: lsoa, lsoa_name, population (persons on
    21 March 2021; LSOA cells are perturbed, so they add to an authority's published total only roughly)."""
    path = Path(path)
    columns = {"year": "date", "lsoa_name": "geography", "lsoa": "geography code", "population": POPULATION_TOTAL}
    frame = _read(path, columns)
    years = sorted(frame["year"].dropna().unique())
    if years != ["2021"]:
        raise GeographyFormatError(path, f"expected Census 2021 rows only; column 'date' holds {years[:5]}")
    counts = whole_counts(
        path, frame[["population"]].fillna("").set_axis([POPULATION_TOTAL], axis=1), GeographyFormatError
    )
    tidy = pd.DataFrame(
        {"lsoa": frame["lsoa"], "lsoa_name": frame["lsoa_name"], "population": counts[POPULATION_TOTAL]}
    )
    names = {"lsoa": "geography code", "lsoa_name": "geography", "population": POPULATION_TOTAL}
    return _validated(path, tidy, POPULATION_SCHEMA, names).reset_index(drop=True)


# --------------------------------------------------------------------------- one table placing every LSOA

# How an LSOA's CSP was found (column `csp_method`):
BY_AUTHORITY = "authority"  # its 2023 authority is in one CSP
BY_FORMER_DISTRICT = "former district"  # its authority is split among CSPs; its district before the merger is not
BY_SAME_CODE = "2011 LSOA of the same code"  # a 2021 LSOA whose code (so area) is unchanged since 2011
BY_WARD = "ward"  # a 2021 LSOA whose 2023 ward's other LSOAs, all placed by the above, are in one CSP
UNDECIDED = "undecided"  # the lookups held cannot say which of its authority's CSPs it is in: `csp` is empty
CSP_METHODS = (BY_AUTHORITY, BY_FORMER_DISTRICT, BY_SAME_CODE, BY_WARD, UNDECIDED)

GEOGRAPHY_COLUMNS = (
    "lsoa",
    "vintage",
    "lsoa_name",
    "ward",
    "ward_name",
    "ward_year",
    "lad",
    "lad_name",
    "csp",
    "csp_name",
    "csp_method",
    "pfa",
    "pfa_name",
    "region",
    "region_name",
    "country",
    "country_name",
)

GEOGRAPHY_SCHEMA = pa.DataFrameSchema(
    {
        "lsoa": _text(LSOA_CODE),
        "vintage": pa.Column("int64", pa.Check.isin(list(VINTAGES))),
        "lsoa_name": _text(),
        "ward": _text(WARD_CODE),
        "ward_name": _text(),
        "ward_year": pa.Column("int64", pa.Check.isin([2021, 2023])),
        "lad": _text(LAD_CODE),
        "lad_name": _text(),
        "csp": _text(CSP_CODE, nullable=True),
        "csp_name": _text(nullable=True),
        "csp_method": pa.Column(str, pa.Check.isin(list(CSP_METHODS))),
        "pfa": _text(PFA_CODE),
        "pfa_name": _text(),
        "region": _text(REGION_CODE),
        "region_name": _text(),
        "country": pa.Column(str, pa.Check.isin([ENGLAND, WALES])),
        "country_name": _text(),
    },
    unique=["lsoa", "vintage"],
    strict=True,
    ordered=True,
)


def _one_to_one(frame: pd.DataFrame, key: str, value: str, what: str) -> pd.Series:
    """`frame`'s `value` for each `key`, where each key has one value; a ValueError names a key with several."""
    many = frame.groupby(key)[value].nunique()
    if (many > 1).any():
        raise ValueError(f"{what}: {key} {many[many > 1].index[0]!r} has more than one {value}")
    return frame.drop_duplicates(key).set_index(key)[value]


def build_lsoa_geography(
    lsoa11_ward21: pd.DataFrame,
    lsoa11_ward19: pd.DataFrame,
    lsoa21_ward22: pd.DataFrame,
    lsoa21_ward23: pd.DataFrame,
    ward23: pd.DataFrame,
    csp23: pd.DataFrame,
    csp19: pd.DataFrame,
) -> pd.DataFrame:
    """Every LSOA of England and Wales, 2011 and 2021 codes (one row per code and `vintage`), in its ward, 2023
    local authority, CSP (December 2023), police force area, region and country (GEOGRAPHY_COLUMNS).

    2021 LSOAs: ward and authority from the 2023 best-fit lookup. 2011 LSOAs: ward from the 2011 -> 2021 ward
    lookup, and the 2021 authority carried to its 2023 successor through the 2021 LSOAs' 2022 and 2023 authorities
    (an authority of 2022 is wholly inside one of 2023). The CSP: the authority's, where it has one; for an authority
    the CSP lookup splits among its former districts' CSPs, the CSP of the LSOA's former district (the 2019 authority
    of a 2011 LSOA, the 2022 authority of a 2021 LSOA), else of the 2011 LSOA with the same code, else (a 2021 LSOA) of the other LSOAs of its
    2023 ward when they are all in one CSP; where none says,
    `csp` is empty and `csp_method` is UNDECIDED. Force area and region follow the authority. Names are never cut.
    """
    ew = ward23[ward23["country"].isin([ENGLAND, WALES])]
    region = ew.groupby("lad")[["region", "region_name", "country", "country_name"]].first()
    _one_to_one(ew, "lad", "region", "ward lookup (May 2023)")
    pfa = _one_to_one(csp23, "lad", "pfa", "CSP lookup (December 2023)")
    authority = csp23.drop_duplicates("lad").set_index("lad")
    csp_count = csp23.groupby("lad")["csp"].nunique()
    csp_names = csp23.drop_duplicates("csp").set_index("csp")["csp_name"]
    if set(lsoa21_ward22["lsoa"]) != set(lsoa21_ward23["lsoa"]) or set(lsoa11_ward19["lsoa"]) != set(
        lsoa11_ward21["lsoa"]
    ):
        raise ValueError("the 2021 LSOA lookups (May 2022, May 2023), or the 2011 ones (2019, 2021), differ in LSOAs")
    pair = lsoa21_ward22[["lsoa", "lad"]].merge(lsoa21_ward23[["lsoa", "lad"]], on="lsoa", suffixes=("_22", "_23"))
    successor = _one_to_one(pair, "lad_22", "lad_23", "2022 -> 2023 authorities of the 2021 LSOAs")

    r21 = lsoa21_ward23[["lsoa", "lsoa_name", "ward", "lad"]].copy()
    r21["vintage"], r21["ward_year"] = 2021, 2023
    r21["ward_name"] = r21["ward"].map(ew.set_index("ward")["ward_name"])
    r21["district"] = r21["lsoa"].map(lsoa21_ward22.set_index("lsoa")["lad"])
    r11 = lsoa11_ward21[["lsoa", "lsoa_name", "ward", "ward_name"]].copy()
    r11["vintage"], r11["ward_year"] = 2011, 2021
    r11["lad"] = lsoa11_ward21["lad"].map(successor)
    if r11["lad"].isna().any():
        code = lsoa11_ward21.loc[r11["lad"].isna(), "lad"].iloc[0]
        raise ValueError(f"2011 LSOA lookup (2021 wards): authority {code!r} is not a 2022 authority of any 2021 LSOA")
    r11["district"] = r11["lsoa"].map(lsoa11_ward19.set_index("lsoa")["lad"])
    table = pd.concat([r11, r21], ignore_index=True)
    missing = table.loc[~table["lad"].isin(csp_count.index) | ~table["lad"].isin(region.index), "lad"]
    if len(missing):
        raise ValueError(f"authority {missing.iloc[0]!r} is in no CSP lookup (December 2023) or ward lookup (May 2023)")
    if table["ward_name"].isna().any():
        ward = table.loc[table["ward_name"].isna(), "ward"].iloc[0]
        raise ValueError(f"ward {ward!r} of the 2023 LSOA lookup is not in the ward lookup (May 2023)")

    single = csp23[csp23["lad"].map(csp_count) == 1].set_index("lad")["csp"]
    table["csp"] = table["lad"].map(single)
    table["csp_method"] = BY_AUTHORITY
    table.loc[table["csp"].isna(), "csp_method"] = UNDECIDED
    # former districts: the 2019 authorities each in one CSP, and that CSP one of the 2023 authority's
    district_csp = csp19[csp19["lad"].map(csp19.groupby("lad")["csp"].nunique()) == 1].set_index("lad")["csp"]
    allowed = set(zip(csp23["lad"], csp23["csp"], strict=True))
    guess = table["district"].map(district_csp)
    fits = pd.Series([(a, c) in allowed for a, c in zip(table["lad"], guess, strict=True)], index=table.index)
    use = table["csp"].isna() & guess.notna() & fits
    table.loc[use, "csp"], table.loc[use, "csp_method"] = guess[use], BY_FORMER_DISTRICT
    decided11 = table[(table["vintage"] == 2011) & table["csp"].notna()].set_index("lsoa")["csp"]
    same = table["csp"].isna() & (table["vintage"] == 2021) & table["lsoa"].isin(decided11.index)
    table.loc[same, "csp"] = table.loc[same, "lsoa"].map(decided11)
    table.loc[same, "csp_method"] = BY_SAME_CODE
    placed21 = table[(table["vintage"] == 2021) & table["csp"].notna()]
    ward_csps = placed21.groupby("ward")["csp"].agg(["nunique", "first"])
    one_csp = ward_csps.loc[ward_csps["nunique"] == 1, "first"]
    by_ward = table["csp"].isna() & (table["vintage"] == 2021) & table["ward"].isin(one_csp.index)
    table.loc[by_ward, "csp"] = table.loc[by_ward, "ward"].map(one_csp)
    table.loc[by_ward, "csp_method"] = BY_WARD

    table["csp_name"] = table["csp"].map(csp_names)
    table["lad_name"] = table["lad"].map(authority["lad_name"])
    table["pfa"] = table["lad"].map(pfa)
    table["pfa_name"] = table["lad"].map(authority["pfa_name"])
    table = table.join(region, on="lad")
    table = table.astype({"vintage": "int64", "ward_year": "int64"})
    table = table.sort_values(["vintage", "lsoa"], ignore_index=True)[list(GEOGRAPHY_COLUMNS)]
    try:
        return GEOGRAPHY_SCHEMA.validate(table, lazy=True)
    except pa.errors.SchemaErrors as err:
        raise ValueError(
            f"the LSOA geography built from the ONS lookups fails its checks: {validation_summary(err)}"
        ) from None
