"""The area a pack is built for, and where each LSOA lies: any CSP of England and Wales.

An area is a Community Safety Partnership (one or more local authorities: Dartford and Gravesham is two), named
in the params by the CSP's name or ONS code, or by a London borough's name as before. Its comparison groups are
the CSPs of its police force area, of its region (Wales is its own) and of England and Wales; a London borough
also has London (the 32 boroughs the Metropolitan Police covers), its default.

Rows of a source are placed by their LSOA code through the ONS lookup of that code's own vintage (2011 or 2021
LSOAs; ``datasets.lsoa_geography``), never by the force that reported them and never by cutting the LSOA's name
(authorities merged in 2019-2023 keep their old names there). A code in no lookup is an error naming the file,
line and code.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from csp_evidence.data import datasets, geo, lsoa_places
from csp_evidence.data.readers.ons_geography import UNDECIDED, VINTAGES

ENGLAND_AND_WALES = "K04000001"  # the ONS code of England and Wales together
LONDON, FORCE, REGION, ENGLAND_WALES = "london", "force", "region", "england_and_wales"
GROUP_KINDS = (LONDON, FORCE, REGION, ENGLAND_WALES)

PLACE_COLUMNS = lsoa_places.PLACE_COLUMNS  # the columns `place_lsoas` adds to a table of LSOA codes


@dataclass(frozen=True)
class Authority:
    """A local authority district (December 2023): ONS code and name."""

    code: str
    name: str


@dataclass(frozen=True)
class ComparisonGroup:
    """The CSPs an area is set against: its force area, region, England and Wales, or London."""

    kind: str  # one of GROUP_KINDS
    code: str  # ONS code of the force area, region or country; E23000001 (the Met) for London
    name: str
    csps: tuple[str, ...]  # CSP codes, sorted

    def __len__(self) -> int:
        return len(self.csps)


@dataclass(frozen=True)
class Area:
    """One CSP: its authorities, force area, region, comparison groups, and (a London borough) its MPS name."""

    csp: str  # ONS code, E22... or W14...
    name: str  # the CSP's name as ONS writes it
    authorities: tuple[Authority, ...]
    force: str
    force_name: str
    region: str  # an English region, or Wales (W92000004)
    region_name: str
    country: str
    country_name: str
    borough: str | None  # the London borough's name as the MPS files write it; None outside the 32 boroughs
    # authorities of the area that the CSP lookup also gives to other CSPs (a merged authority), and how many of their
    # LSOA codes (both vintages) the lookups held cannot place in one of those CSPs: such rows cannot be counted here
    shared_authorities: tuple[Authority, ...]
    undecided_lsoas: int
    groups: tuple[ComparisonGroup, ...]
    default_group: str  # the kind of the group the pack compares with unless the params choose another

    @property
    def lad_codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.authorities)

    def group(self, kind: str | None = None) -> ComparisonGroup:
        """The comparison group of this kind (default: `default_group`); a KeyError lists the area's kinds."""
        kind = kind or self.default_group
        for g in self.groups:
            if g.kind == kind:
                return g
        raise KeyError(f"{self.name} has no comparison group {kind!r}; its groups: {[g.kind for g in self.groups]}")


def _key(name: str) -> str:
    """A name as compared: case and spacing ignored, '&' read as 'and'."""
    return " ".join(re.sub(r"\s*&\s*", " and ", str(name)).casefold().split())


@functools.cache
def _csp_places() -> pd.DataFrame:
    """One row per (CSP, authority): csp, csp_name, lad, lad_name, pfa, pfa_name, region, region_name, country,
    country_name."""
    lookup = datasets.csp_lookup()
    wards = datasets.ward_lookup()
    region = wards.groupby("lad")[["region", "region_name", "country", "country_name"]].first()
    return lookup.join(region, on="lad")


@functools.cache
def _borough_csps() -> dict[str, str]:
    """The CSP code of each of the 32 MPS boroughs (by its ONS authority code), keyed by the borough's name."""
    codes = datasets.borough_lookup().set_index("name")["code"]
    by_lad = _csp_places().drop_duplicates("lad").set_index("lad")["csp"]
    return {name: by_lad[codes[name]] for name in geo.mps_boroughs()}


def csp_names() -> dict[str, str]:
    """Every CSP of England and Wales: code -> name (December 2023, 314 CSPs)."""
    places = _csp_places().drop_duplicates("csp").sort_values("csp_name")
    return dict(zip(places["csp"], places["csp_name"], strict=True))


def resolve_area(name: str) -> Area:
    """The area a params file names: a CSP's name or code, or a London borough's name (case and '&' ignored).

    An unknown name raises a ValueError with the closest CSP and borough names; an authority that is part of a CSP
    of another name ('Dartford') is refused with the CSP to name instead.
    """
    places = _csp_places()
    boroughs = _borough_csps()
    names = csp_names()
    key = _key(name)
    by_key = {_key(code): code for code in names} | {_key(n): code for code, n in names.items()}
    by_key |= {_key(b): code for b, code in boroughs.items()}
    code = by_key.get(key)
    if code is None:
        raise ValueError(_unknown_area(str(name), places, names, boroughs))
    return _area(code)


def _unknown_area(name: str, places: pd.DataFrame, names: dict[str, str], boroughs: dict[str, str]) -> str:
    part_of = places[places["lad_name"].map(_key) == _key(name)]
    if len(part_of):
        csps = ", ".join(f"{n!r} ({c})" for c, n in part_of[["csp", "csp_name"]].drop_duplicates().to_numpy())
        return f"{name!r} is a local authority, not a CSP: name its CSP instead, {csps}"
    choices = sorted({*names.values(), *boroughs})
    close = difflib.get_close_matches(name, choices, n=5, cutoff=0.6)
    close += [c for c in choices if _key(name) and _key(name) in _key(c) and c not in close][: 5 - len(close)]
    hint = f" Closest: {', '.join(repr(c) for c in close)}." if close else ""
    return (
        f"unknown area {name!r}: not the name or ONS code (E22..., W14...) of a Community Safety Partnership in "
        f"England and Wales, nor a London borough.{hint} `csp_evidence.data.geography.csp_names()` lists all "
        f"{len(names)}."
    )


@functools.cache
def _area(code: str) -> Area:
    places = _csp_places()
    rows = places[places["csp"] == code].sort_values("lad_name")
    first = rows.iloc[0]
    authorities = tuple(Authority(c, n) for c, n in rows[["lad", "lad_name"]].to_numpy())
    counts = places.groupby("lad")["csp"].nunique()
    shared = tuple(a for a in authorities if counts[a.code] > 1)
    geography = datasets.lsoa_geography()
    undecided = int((geography["lad"].isin([a.code for a in shared]) & (geography["csp_method"] == UNDECIDED)).sum())
    boroughs = _borough_csps()
    borough = next((b for b, c in boroughs.items() if c == code), None)

    def members(column: str, value: str) -> tuple[str, ...]:
        return tuple(sorted(places.loc[places[column] == value, "csp"].unique()))

    groups = []
    if borough is not None:
        groups.append(ComparisonGroup(LONDON, first["pfa"], "London", tuple(sorted(boroughs.values()))))
    force = ComparisonGroup(FORCE, first["pfa"], first["pfa_name"], members("pfa", first["pfa"]))
    groups.append(force)
    groups.append(ComparisonGroup(REGION, first["region"], first["region_name"], members("region", first["region"])))
    groups.append(
        ComparisonGroup(ENGLAND_WALES, ENGLAND_AND_WALES, "England and Wales", tuple(sorted(set(places["csp"]))))
    )
    default = LONDON if borough is not None else FORCE if len(force) > 1 else REGION
    return Area(
        csp=code,
        name=first["csp_name"],
        authorities=authorities,
        force=first["pfa"],
        force_name=first["pfa_name"],
        region=first["region"],
        region_name=first["region_name"],
        country=first["country"],
        country_name=first["country_name"],
        borough=borough,
        shared_authorities=shared,
        undecided_lsoas=undecided,
        groups=tuple(groups),
        default_group=default,
    )


def force_names(csps: Iterable[str]) -> set[str]:
    """The police force areas (ONS names) of these CSPs."""
    places = _csp_places()
    return set(places.loc[places["csp"].isin(list(csps)), "pfa_name"])


def area_lsoas(area: Area, vintage: int | None = None) -> pd.DataFrame:
    """The LSOAs placed in the area's CSP (rows of ``datasets.lsoa_geography``), of one vintage or both. LSOAs of a
    shared authority whose CSP is undecided (``area.undecided_lsoas``) are not among them."""
    geography = datasets.lsoa_geography()
    rows = geography[geography["csp"] == area.csp]
    if vintage is not None:
        rows = rows[rows["vintage"] == _vintage(vintage)]
    return rows.reset_index(drop=True)


UnplacedLsoaError = lsoa_places.UnplacedLsoaError


def _vintage(value: object) -> int:
    return lsoa_places.check_vintage(value)


@functools.cache
def _codes(vintage: int) -> frozenset[str]:
    geography = datasets.lsoa_geography()
    return frozenset(geography.loc[geography["vintage"] == vintage, "lsoa"])


def lsoa_vintage(codes: Iterable[object], path: Path | str) -> int:
    """Which LSOA set a file's codes are from: 2021 if any code is a 2021-only code, 2011 if any is 2011-only; a
    file mixing the two raises naming it. Codes in both sets (most: an unchanged LSOA keeps its code) are placed
    alike by either lookup, so a file of those alone reads as 2021."""
    return lsoa_places.vintage_of(codes, path, {v: _codes(v) for v in VINTAGES})


def place_lsoas(
    rows: pd.DataFrame,
    vintage: int | str,
    *,
    code: str = "lsoa",
    file: str = "file",
    line: str = "line",
) -> pd.DataFrame:
    """`rows` with the PLACE_COLUMNS of each row's LSOA added (ward, authority, CSP, force area, region, country).

    `vintage` is 2011 or 2021 for every row, or the name of a column holding it. A row with no code (an empty or
    missing value: police.uk's 'No Location') gets empty places; a code in no lookup of its vintage raises an
    UnplacedLsoaError naming the row's `file` and `line` and the code. `csp` is empty where the lookups cannot
    decide the CSP (``csp_method`` undecided in ``datasets.lsoa_geography``).
    """
    return lsoa_places.place(rows, vintage, datasets.lsoa_geography(), code=code, file=file, line=line)


def params_area(params: object) -> tuple[Area, ComparisonGroup]:
    """The area a run's params name (`area`, else `borough`) and the comparison group it is set against (the params'
    `comparison`, else the area's default). A name no CSP or borough has, or a group the area has not (London for a
    CSP outside the MPS boroughs), raises a ValueError naming the run and the parameter."""
    run = getattr(params, "name", "") or "params"
    name = getattr(params, "area", "") or getattr(params, "borough", "")
    try:
        area = resolve_area(name)
    except ValueError as exc:
        raise ValueError(f"params {run!r}: parameter 'area': {exc}") from None
    if area.undecided_lsoas:
        shared = ", ".join(a.name for a in area.shared_authorities)
        raise ValueError(
            f"params {run!r}: parameter 'area': {area.name} is one of several CSPs of {shared}, and the ONS lookups "
            f"held cannot say which of that authority's CSPs {area.undecided_lsoas} of its LSOAs lie in, so its "
            f"figures cannot be counted; build the pack for the authority's other CSP names together, or add the "
            f"CSP's own LSOA list"
        )
    kind = getattr(params, "comparison", "") or area.default_group
    try:
        return area, area.group(kind)
    except KeyError:
        kinds = ", ".join(g.kind for g in area.groups)
        raise ValueError(
            f"params {run!r}: parameter 'comparison' {kind!r} is not a group {area.name} belongs to; its groups: {kinds}"
        ) from None


def csps_of(*, force: str | None = None, region: str | None = None) -> list[tuple[str, str]]:
    """The CSPs (code, name) of a police force area or a region, named as the ONS writes it or as police.uk does
    ('Devon & Cornwall', 'devon-and-cornwall'; 'South East', 'Wales'); case ignored. An unknown name raises a
    ValueError listing the names."""
    if (force is None) == (region is None):
        raise ValueError("csps_of: name a force area or a region")
    places = _csp_places()
    column, wanted = ("pfa_name", force) if force is not None else ("region_name", region)

    def key(name: object) -> str:
        return re.sub(r"[^a-z0-9]+", "", _key(str(name)))

    names = sorted(set(places[column]))
    match = [n for n in names if key(n) == key(wanted)]
    if not match and force is not None:  # police.uk's identifiers: 'metropolitan', 'city-of-london'
        slugs = {"metropolitan": "Metropolitan Police", "cityoflondon": "London, City of"}
        match = [n for n in names if n == slugs.get(key(wanted))]
    if not match:
        raise ValueError(
            f"unknown {'force area' if force is not None else 'region'} {wanted!r}; one of: {', '.join(names)}"
        )
    rows = places[places[column] == match[0]].drop_duplicates("csp").sort_values("csp_name")
    return list(zip(rows["csp"], rows["csp_name"], strict=True))
