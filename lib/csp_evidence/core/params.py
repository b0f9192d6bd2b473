"""Run parameters: one YAML file per run in params/, checked on load.

Errors name the file and the parameter: an unknown key lists the allowed keys, a wrong type says the
type expected, an unknown borough lists the valid names, and a period outside the data says the data's range.
A params file is small, UTF-8 YAML without aliases (``*name``: a few bytes of nested aliases can expand to
gigabytes) or repeated keys; values are checked for type and size before any is quoted in a message.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from csp_evidence.core.periods import (
    financial_year_months,
    parse_financial_year,
    period_months,
    previous_financial_year,
)


class ParamsError(ValueError):
    """A params file is malformed or asks for something the data cannot give."""


@dataclass(frozen=True)
class Params:
    """What one evidence pack is built for."""

    borough: str  # a London borough as the MPS files name it; empty when the params name an `area` instead
    headline_year: str  # the financial year the headline figures describe, e.g. '2019/20' (empty: headline_period)
    financial_years: tuple[str, ...]  # the years shown in year-on-year tables
    covid_start: str = "2020-03"  # first month of the pandemic period (YYYY-MM)
    small_number_threshold: int = 10  # counts below this are flagged and never plotted as trends
    title: str = ""  # shown on the site; defaults to '<borough> Community Safety Partnership'
    # The recorded-crime series for figures past the CRIS era (the plan-period chapter): 'connect' (the MPS's
    # CONNECT-era extracts, to December 2025) or 'cris' (the CRIS-era extracts the other chapters use, to January 2024).
    latest_series: str = "connect"
    # The area as data (issue 21): a CSP of England and Wales by name or ONS code, or a London borough; the group it
    # is compared with (AREA_COMPARISONS; empty: the area's default, London for a borough, else its force area or
    # region); and, for police.uk areas, periods that need not be financial years (``core.periods.period_months``).
    area: str = ""
    comparison: str = ""
    headline_period: str = ""  # e.g. '12 months to 2025-12', set against the 12 months before
    periods: tuple[str, ...] = ()  # the periods shown in period-on-period tables
    name: str = field(default="", compare=False)  # the run's name: the params file's stem

    def notebook_parameters(self) -> dict:
        """The values papermill injects into each notebook's parameters cell (the area fields only when set, so a
        borough's params inject exactly what they did before those fields existed)."""
        values = asdict(self)
        values["financial_years"] = list(self.financial_years)
        values["periods"] = list(self.periods)
        for key in AREA_FIELDS:
            if not values[key]:
                values.pop(key)
        values.pop("name")
        values["run_name"] = self.name
        values["title"] = self.display_title
        return values

    @property
    def display_title(self) -> str:
        return self.title or f"{self.borough or self.area} Community Safety Partnership"

    @property
    def area_name(self) -> str:
        """What the params name as the area: `area`, else the borough."""
        return self.area or self.borough


_TYPES = {
    "borough": str,
    "headline_year": str,
    "financial_years": list,
    "covid_start": str,
    "small_number_threshold": int,
    "title": str,
    "latest_series": str,
    "area": str,
    "comparison": str,
    "headline_period": str,
    "periods": list,
}
CRIME_SERIES = ("connect", "cris")  # the values of latest_series
_REQUIRED = ("borough", "headline_year", "financial_years")
AREA_FIELDS = ("area", "comparison", "headline_period", "periods")
# The comparison groups a params file may choose (``data.geography.GROUP_KINDS``).
AREA_COMPARISONS = ("force", "region", "england_and_wales", "london")
# Folders of the outputs folder that are not packs: a run must not be named after them.
FAILED_RUNS = "failed"  # kept failed runs, for debugging
LONDON_INDEX = "london"  # the London index of a batch
SCRATCH = "scratch"  # where a notebook opened in JupyterLab writes with its default parameters


MAX_PARAMS_BYTES = 64 * 1024  # a params file is a few lines
MAX_TEXT = 200  # characters in a text parameter
MAX_YEARS = 50  # financial years in one pack
MAX_RUN_NAME = 100  # characters in a run's name: it names files and folders with prefixes and suffixes
MAX_DEPTH = 10  # how deep a params file nests: a mapping of lists is two; 30,000 would exhaust Python's stack
MAX_SMALL_NUMBER = 1000  # small_number_threshold: counts below it are flagged; above this every count would be
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone UTF-16 half (YAML's "\ud800"): no text can be written with it


class _Refused(yaml.YAMLError):
    """A params file uses YAML that params files must not (an alias, a repeated key)."""


class _ParamsLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing aliases (expanded, a few nested ones make a file of gigabytes) and keys given
    twice (YAML would keep the last silently)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _Refused(f"line {mark.line + 1}: values nested more than {MAX_DEPTH} deep; params are flat")
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                f"line {event.start_mark.line + 1}: a YAML alias (*{str(event.anchor)[:40]}); params files write each "
                "value out in full"
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if isinstance(key, Hashable):
                if key in seen:
                    raise _Refused(f"parameter {_shown(key)} is given twice (lines {seen[key]} and {line})")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _shown(value: object) -> str:
    """A value as an error message may quote it: short text and numbers as written, else what it is."""
    if isinstance(value, str):
        value = _SURROGATE.sub("\N{REPLACEMENT CHARACTER}", value)
        return repr(value) if len(value) <= 60 else f"{value[:40]!r}... ({len(value)} characters)"
    if isinstance(value, bool | int | float) or value is None:
        text = repr(value)
        return text if len(text) <= 60 else f"a number of {len(text)} digits"
    if isinstance(value, list | tuple | dict):
        return f"a {'mapping' if isinstance(value, dict) else 'list'} of {len(value)} item(s)"
    return f"a value of type {type(value).__name__}"


def _type_name(t: type) -> str:
    return {str: "text", int: "a whole number", list: "a list"}[t]


def reserved_run_name(name: str) -> bool:
    """A run name that cannot name a pack's folder in the outputs folder: empty, a path rather than a name, or
    one the outputs folder keeps for itself (compared without case: some file systems ignore it)."""
    return (
        not name
        or len(name) > MAX_RUN_NAME
        or Path(name).name != name
        or name.casefold() in (FAILED_RUNS, LONDON_INDEX, SCRATCH)
        or name.startswith((".", "_"))
    )


def load_params(path: Path | str) -> Params:
    """Read and check a params YAML file (structure, types, period formats); errors name the file and key."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ParamsError(f"params file {path} does not exist")
        if path.stat().st_size > MAX_PARAMS_BYTES:
            raise ParamsError(f"{path}: {path.stat().st_size} bytes is too large for a params file")
        data = path.read_bytes()
    except OSError as exc:  # unreadable, or a name too long for the file system
        raise ParamsError(f"params file {path} cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(
            f"{path}: not UTF-8 text (byte {exc.start} is {data[exc.start : exc.start + 1]!r}); save it as UTF-8"
        ) from None
    try:
        raw = yaml.load(text, Loader=_ParamsLoader)  # a SafeLoader, refusing aliases and repeated keys
    except _Refused as exc:
        raise ParamsError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML ({str(exc)[:500]})") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of parameters, got {type(raw).__name__}")
    unknown = sorted(
        k if isinstance(k, str) and len(k) <= 60 and not _SURROGATE.search(k) else _shown(k)
        for k in raw
        if k not in _TYPES
    )
    if unknown:
        raise ParamsError(f"{path}: unknown parameter(s) {', '.join(unknown[:10])}; allowed: {', '.join(_TYPES)}")
    missing = [k for k in _required(raw) if k not in raw]
    if missing:
        raise ParamsError(f"{path}: missing required parameter(s) {', '.join(missing)}")
    for key, value in raw.items():
        want = _TYPES[key]
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise ParamsError(f"{path}: parameter {key!r} must be {_type_name(want)}, got {_shown(value)}")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ParamsError(f"{path}: parameter {key!r} is {len(value)} characters long; at most {MAX_TEXT}")
        for n, text in enumerate(value if isinstance(value, list) else [value], 1):
            if isinstance(text, str) and _SURROGATE.search(text):
                where = f"item {n} of parameter {key!r}" if isinstance(value, list) else f"parameter {key!r}"
                raise ParamsError(
                    f"{path}: {where} holds a lone surrogate (an escape like \\ud800 that is half of a character); "
                    "write the character itself"
                )
    _check_name_and_threshold(path, raw)
    if any(k in raw for k in AREA_FIELDS):
        return _area_params(path, raw)
    years = raw["financial_years"]
    if len(years) > MAX_YEARS:
        raise ParamsError(f"{path}: parameter 'financial_years' lists {len(years)} years; at most {MAX_YEARS}")
    for n, year in enumerate(years, 1):
        if not isinstance(year, str) or len(year) > 20:
            raise ParamsError(
                f"{path}: parameter 'financial_years' item {n} must be a financial year as text like '2019/20', "
                f"got {_shown(year)}"
            )
    if len(path.stem) > MAX_RUN_NAME:
        raise ParamsError(
            f"{path}: the run is named after its file, and a name of {len(path.stem)} characters is too long "
            f"for the outputs folder (at most {MAX_RUN_NAME}); rename the file"
        )
    if reserved_run_name(path.stem):
        raise ParamsError(
            f"{path}: the run is named after its file, and {path.stem!r} is kept for the outputs "
            f"folder's own use ({FAILED_RUNS}/, {LONDON_INDEX}/, {SCRATCH}/, hidden staging folders); rename the file"
        )
    repeated = sorted({y for y in years if years.count(y) > 1})
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
    if raw.get("latest_series", "connect") not in CRIME_SERIES:
        raise ParamsError(
            f"{path}: parameter 'latest_series' must be one of {', '.join(CRIME_SERIES)} (the MPS's CONNECT-era or "
            f"CRIS-era recorded-crime series), got {_shown(raw['latest_series'])}"
        )
    return Params(
        **{k: v for k, v in raw.items() if k != "financial_years"},
        financial_years=tuple(sorted(str(y) for y in years)),
        name=path.stem,
    )


def _required(raw: dict) -> tuple[str, ...]:
    """The parameters a file must give: a borough's as before; with `area` (or a borough with a headline period), a
    headline year or period."""
    place = () if "area" in raw else ("borough",)
    if not any(k in raw for k in AREA_FIELDS):
        return _REQUIRED
    return place + (() if "headline_period" in raw else ("headline_year", "financial_years"))


def _check_name_and_threshold(path: Path, raw: dict) -> None:
    """Checks of every params file, by borough or by area: a file name that is UTF-8, a threshold in range."""
    if _SURROGATE.search(path.stem):
        raise ParamsError(
            f"{_SURROGATE.sub('?', str(path))}: the run is named after its file, and this file name is not UTF-8 "
            "text; rename the file"
        )
    if not 0 <= raw.get("small_number_threshold", 10) <= MAX_SMALL_NUMBER:
        raise ParamsError(
            f"{path}: small_number_threshold must be from 0 to {MAX_SMALL_NUMBER} (counts below it are flagged as "
            f"too small for a trend; the usual value is 10), got {_shown(raw['small_number_threshold'])}"
        )


def _area_params(path: Path, raw: dict) -> Params:
    """The params of a file giving an area field (types already checked): the area or borough, its comparison group
    and periods."""
    if "borough" in raw and "area" in raw:
        raise ParamsError(
            f"{path}: give 'area' or 'borough', not both (a London borough may be named by either: 'area: "
            f"{raw['borough']}')"
        )
    if "area" in raw and not raw["area"].strip():
        raise ParamsError(f"{path}: parameter 'area' is empty; name a CSP (or its ONS code) or a London borough")
    comparison = raw.get("comparison", "")
    if comparison and comparison not in AREA_COMPARISONS:
        raise ParamsError(
            f"{path}: parameter 'comparison' must be one of {', '.join(AREA_COMPARISONS)} (or left out for the "
            f"area's default), got {_shown(comparison)}"
        )
    periods = raw.get("periods", [])
    years = raw.get("financial_years", [])
    for key, items in (("periods", periods), ("financial_years", years)):
        if len(items) > MAX_YEARS:
            raise ParamsError(f"{path}: parameter {key!r} lists {len(items)} periods; at most {MAX_YEARS}")
        for n, item in enumerate(items, 1):
            if not isinstance(item, str) or len(item) > 30:
                raise ParamsError(f"{path}: parameter {key!r} item {n} must be a period as text, got {_shown(item)}")
        repeated = sorted({y for y in items if items.count(y) > 1})
        if repeated:
            raise ParamsError(f"{path}: parameter {key!r} lists {', '.join(repeated)} more than once")
    for fy in [*([raw["headline_year"]] if "headline_year" in raw else []), *years]:
        try:
            parse_financial_year(str(fy))
        except ValueError as exc:
            raise ParamsError(f"{path}: {exc}") from None
    if "headline_year" in raw and raw["headline_year"] not in years:
        raise ParamsError(f"{path}: headline_year {raw['headline_year']!r} must be one of financial_years {years}")
    headline = raw.get("headline_period", "")
    for label in [*([headline] if headline else []), *periods]:
        try:
            period_months(label)
        except ValueError as exc:
            raise ParamsError(
                f"{path}: parameter {'headline_period' if label == headline else 'periods'}: {exc}"
            ) from None
    if headline and periods and headline not in periods:
        raise ParamsError(f"{path}: headline_period {headline!r} must be one of periods {periods}")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(raw.get("covid_start", "2020-03"))):
        raise ParamsError(f"{path}: covid_start must be a month 'YYYY-MM', got {raw.get('covid_start')!r}")
    if raw.get("latest_series", "connect") not in CRIME_SERIES:
        raise ParamsError(f"{path}: parameter 'latest_series' must be one of {', '.join(CRIME_SERIES)}")
    if raw.get("small_number_threshold", 10) < 0:
        raise ParamsError(f"{path}: small_number_threshold must be zero or more")
    if reserved_run_name(path.stem):
        raise ParamsError(f"{path}: the run is named after its file, and {path.stem!r} cannot name a run; rename it")
    ordered = sorted(periods, key=lambda p: period_months(p)[-1])
    return Params(
        borough=raw.get("borough", ""),
        headline_year=raw.get("headline_year", ""),
        financial_years=tuple(sorted(str(y) for y in years)),
        covid_start=raw.get("covid_start", "2020-03"),
        small_number_threshold=raw.get("small_number_threshold", 10),
        title=raw.get("title", ""),
        latest_series=raw.get("latest_series", "connect"),
        area=raw.get("area", "").strip(),
        comparison=comparison,
        headline_period=headline,
        periods=tuple(ordered or ([headline] if headline else [])),
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
