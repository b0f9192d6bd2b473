"""London boroughs: names, ONS codes, inner or outer London, and population for rates."""

from __future__ import annotations

import difflib

import pandas as pd

from csp_evidence.core import memo
from csp_evidence.core.periods import parse_financial_year
from csp_evidence.data import datasets
from csp_evidence.data.readers.mps import AIRPORTS, CITY_OF_LONDON
from csp_evidence.data.readers.mps_hate_special import AVIATION_SECURITY


def mps_boroughs() -> list[str]:
    """The 32 London boroughs the Metropolitan Police covers, in alphabetical order."""
    names = datasets.borough_lookup()["name"]
    return sorted(n for n in names if n != CITY_OF_LONDON)


def check_borough(name: str) -> str:
    """Return the borough name if it is one of the 32 MPS boroughs; otherwise raise listing the valid names."""
    valid = mps_boroughs()
    if name in valid:
        return name
    close = difflib.get_close_matches(str(name), valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if name == CITY_OF_LONDON:
        hint = " The City of London has its own police force and is not in the MPS files."
    if name in (AIRPORTS, AVIATION_SECURITY):
        hint = " The airports are an MPS reporting unit, not a borough."
    raise ValueError(f"unknown borough {name!r}.{hint} Valid boroughs: {', '.join(valid)}")


def borough_profile(name: str) -> dict:
    """ONS code and inner/outer London for a borough."""
    row = datasets.borough_lookup().set_index("name").loc[check_borough(name)]
    return {"name": name, "code": row["code"], "inner_outer": row["inner_outer"]}


def population_by_year(names: list[str] | None = None) -> pd.DataFrame:
    """Mid-year population, one row per (borough, year) for MPS boroughs: borough, code, year, population."""
    return _population_by_year(datasets.population(), datasets.borough_lookup(), tuple(names or mps_boroughs()))


@memo.by_table_identity()
def _population_by_year(population: pd.DataFrame, lookup: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    pop = population.merge(lookup[["code", "name"]], on="code", suffixes=("_ons", ""))
    pop = pop[pop["name"].isin(names)]
    return pop.rename(columns={"name": "borough"})[["borough", "code", "year", "population"]].reset_index(drop=True)


def population_for_financial_year(fy: str, names: list[str] | None = None) -> pd.DataFrame:
    """Population for a financial year: the mid-year estimate of the year it starts in (mid-2019 for 2019/20).

    Financial years after the latest estimate use the latest, and say so in the column `basis`.
    """
    start = parse_financial_year(fy)
    pop = population_by_year(names)
    latest = int(pop["year"].max())
    year = min(start, latest)
    out = pop[pop["year"] == year].copy()
    out["financial_year"] = fy
    out["basis"] = f"ONS mid-{year} estimate" + ("" if year == start else f" (latest available for {fy})")
    return out.reset_index(drop=True)


# The London squares: every borough an equal square in a grid that keeps each one near its neighbours (north at
# the top), the layout London's tile maps commonly use. (row, column), both from 0. The City of London, which has
# its own police force and so no pack, keeps its square between Westminster and Tower Hamlets (CITY_SQUARE) so that
# the map reads as London does.
LONDON_SQUARES: dict[str, tuple[int, int]] = {
    "Enfield": (0, 4),
    "Harrow": (1, 2),
    "Barnet": (1, 3),
    "Haringey": (1, 4),
    "Waltham Forest": (1, 5),
    "Hillingdon": (2, 0),
    "Ealing": (2, 1),
    "Brent": (2, 2),
    "Camden": (2, 3),
    "Islington": (2, 4),
    "Hackney": (2, 5),
    "Redbridge": (2, 6),
    "Havering": (2, 7),
    "Hounslow": (3, 0),
    "Hammersmith and Fulham": (3, 1),
    "Kensington and Chelsea": (3, 2),
    "Westminster": (3, 3),
    "Tower Hamlets": (3, 5),
    "Newham": (3, 6),
    "Barking and Dagenham": (3, 7),
    "Richmond upon Thames": (4, 1),
    "Wandsworth": (4, 2),
    "Lambeth": (4, 3),
    "Southwark": (4, 4),
    "Lewisham": (4, 5),
    "Greenwich": (4, 6),
    "Bexley": (4, 7),
    "Kingston upon Thames": (5, 2),
    "Merton": (5, 3),
    "Croydon": (5, 4),
    "Bromley": (5, 5),
    "Sutton": (6, 3),
}
CITY_SQUARE: tuple[int, int] = (3, 4)


def london_squares() -> dict[str, tuple[int, int]]:
    """The (row, column) of each of the 32 MPS boroughs in the London squares; a ValueError naming any borough the
    grid and the borough list disagree on."""
    boroughs = set(mps_boroughs())
    missing, extra = sorted(boroughs - set(LONDON_SQUARES)), sorted(set(LONDON_SQUARES) - boroughs)
    if missing or extra:
        raise ValueError(f"the London squares and the borough list differ: missing {missing}, not boroughs {extra}")
    return dict(LONDON_SQUARES)
