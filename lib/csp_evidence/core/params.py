"""Run parameters: one YAML file per run in params/, checked on load.

Errors name the file and the parameter: an unknown key lists the allowed keys, a wrong type says the
type expected, an unknown borough lists the valid names, and a period outside the data says the data's range.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from csp_evidence.core.periods import (
    financial_year_months,
    parse_financial_year,
    previous_financial_year,
)


class ParamsError(ValueError):
    """A params file is malformed or asks for something the data cannot give."""


@dataclass(frozen=True)
class Params:
    """What one evidence pack is built for."""

    borough: str
    headline_year: str  # the financial year the headline figures describe, e.g. '2019/20'
    financial_years: tuple[str, ...]  # the years shown in year-on-year tables
    covid_start: str = "2020-03"  # first month of the pandemic period (YYYY-MM)
    small_number_threshold: int = 10  # counts below this are flagged and never plotted as trends
    title: str = ""  # shown on the site; defaults to '<borough> Community Safety Partnership'
    name: str = field(default="", compare=False)  # the run's name: the params file's stem

    def notebook_parameters(self) -> dict:
        """The values papermill injects into each notebook's parameters cell."""
        values = asdict(self)
        values["financial_years"] = list(self.financial_years)
        values.pop("name")
        values["run_name"] = self.name
        values["title"] = self.display_title
        return values

    @property
    def display_title(self) -> str:
        return self.title or f"{self.borough} Community Safety Partnership"


_TYPES = {
    "borough": str,
    "headline_year": str,
    "financial_years": list,
    "covid_start": str,
    "small_number_threshold": int,
    "title": str,
}
_REQUIRED = ("borough", "headline_year", "financial_years")
# Folders of the outputs folder that are not packs: a run must not be named after them.
FAILED_RUNS = "failed"  # kept failed runs, for debugging
LONDON_INDEX = "london"  # the London index of a batch


def _type_name(t: type) -> str:
    return {str: "text", int: "a whole number", list: "a list"}[t]


def reserved_run_name(name: str) -> bool:
    """A run name that cannot name a pack's folder in the outputs folder: empty, a path rather than a name, or
    one the outputs folder keeps for itself (compared without case: some file systems ignore it)."""
    return (
        not name
        or Path(name).name != name
        or name.casefold() in (FAILED_RUNS, LONDON_INDEX)
        or name.startswith((".", "_"))
    )


def load_params(path: Path | str) -> Params:
    """Read and check a params YAML file (structure, types, period formats); errors name the file and key."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"params file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of parameters, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(_TYPES))
    if unknown:
        raise ParamsError(f"{path}: unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(_TYPES)}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise ParamsError(f"{path}: missing required parameter(s) {', '.join(missing)}")
    for key, value in raw.items():
        want = _TYPES[key]
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise ParamsError(f"{path}: parameter {key!r} must be {_type_name(want)}, got {value!r}")
    if reserved_run_name(path.stem):
        raise ParamsError(
            f"{path}: the run is named after its file, and {path.stem!r} is kept for the outputs "
            f"folder's own use ({FAILED_RUNS}/, {LONDON_INDEX}/, hidden staging folders); rename the file"
        )
    years = raw["financial_years"]
    repeated = sorted({str(y) for y in years if years.count(y) > 1})
    if repeated:
        raise ParamsError(f"{path}: parameter 'financial_years' lists {', '.join(repeated)} more than once")
    for fy in [raw["headline_year"], *years]:
        try:
            parse_financial_year(str(fy))
        except ValueError as exc:
            raise ParamsError(f"{path}: {exc}") from None
    if raw["headline_year"] not in years:
        raise ParamsError(f"{path}: headline_year {raw['headline_year']!r} must be one of financial_years {years}")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(raw.get("covid_start", "2020-03"))):
        raise ParamsError(f"{path}: covid_start must be a month 'YYYY-MM', got {raw.get('covid_start')!r}") from None
    if raw.get("small_number_threshold", 10) < 0:
        raise ParamsError(f"{path}: small_number_threshold must be zero or more")
    return Params(
        **{k: v for k, v in raw.items() if k != "financial_years"},
        financial_years=tuple(sorted(str(y) for y in years)),
        name=path.stem,
    )


def check_against_data(
    params: Params,
    months: pd.Series | pd.DatetimeIndex,
    source: str,
    valid_boroughs: list[str],
    population_years: tuple[int, int] | None = None,
    pre_years: int = 5,
) -> None:
    """Check the borough exists and the periods fit the data.

    Every financial year, and the year before the headline year, must lie wholly inside the data's months;
    every financial year must start within the population estimates' years (`population_years`, first and
    last mid-year; later years use the latest); `covid_start` needs `pre_years` of data before it.
    """
    if params.borough not in valid_boroughs:
        raise ParamsError(
            f"params {params.name!r}: unknown borough {params.borough!r}; valid boroughs: {', '.join(valid_boroughs)}"
        )
    months = pd.DatetimeIndex(months)
    first, last = months.min(), months.max()
    for fy in params.financial_years:
        if population_years and parse_financial_year(fy) < population_years[0]:
            raise ParamsError(
                f"params {params.name!r}: financial year {fy} starts before the population estimates "
                f"(mid-{population_years[0]} to mid-{population_years[1]}), so it has no rate per 1,000"
            )
    for fy in (*params.financial_years, previous_financial_year(params.headline_year)):
        span = financial_year_months(fy)
        if span[0] < first or span[-1] > last:
            raise ParamsError(
                f"params {params.name!r}: financial year {fy} ({span[0]:%Y-%m} to {span[-1]:%Y-%m}) lies outside "
                f"the data: {source} covers {first:%Y-%m} to {last:%Y-%m}"
            )
    covid = pd.Timestamp(params.covid_start + "-01")
    if not first + pd.DateOffset(years=pre_years) <= covid <= last - pd.DateOffset(months=3):
        raise ParamsError(
            f"params {params.name!r}: covid_start {params.covid_start} needs {pre_years} years of data before it "
            f"and 3 months after, inside {source} ({first:%Y-%m} to {last:%Y-%m})"
        )
