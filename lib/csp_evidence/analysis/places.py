"""Where crime is inside an area: counts by place (ward or LSOA) and financial year, concentration, persistence, and
which places stand out beyond chance.

Every function takes plain tables and returns plain data. A *place table* has one row per place and financial year:
financial_year, series, extract, wards_key, place, name, count (``place_years``). Rules the functions keep:

- A financial year of place figures is taken whole from one extract: the latest (in the order given) whose months
  cover all twelve. Two extracts are never pieced together, since later extracts restate earlier months (and the MPS
  restated them in the May 2022 wards).
- A change is only ever between consecutive years of one series (never CRIS against CONNECT) and one set of places
  (``wards_key``: the same place codes in both years, so never a ward of one boundary set against another).
- The small-number rule: a place with fewer than `threshold` offences in a year has no rank, no change and no test
  for that year (``small``); the chapter shows such counts as "fewer than N" for safeguarding measures.
- Beyond chance: a place's level is set against the area's rate on a funnel plot (exact Poisson limits, widened for
  over-dispersion where the places vary more than Poisson counts would, as Spiegelhalter (2005) recommends for
  performance indicators), and a place's change against the rest of the area's (the ratio of rate ratios,
  ``stats.change.relative_change``, its z-score scaled the same way). Any list of "significant" places controls the
  false discovery rate (Benjamini-Hochberg, ``fdr``) across every test behind the list.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from csp_evidence.analysis.stats.change import compare_counts, relative_change
from csp_evidence.core.periods import financial_years, next_financial_year, previous_financial_year

LEVELS = (0.95, 0.998)  # the funnel plot's limits
WINSOR = 0.1  # z-scores winsorised at the 10th and 90th percentiles for the over-dispersion estimate
FDR_ALPHA = 0.05
TOP_SHARES = (0.1, 0.2)


def wards_key(codes: Sequence[str]) -> str:
    """A short key naming a set of place codes: two years share it only when they have exactly the same places."""
    joined = ",".join(sorted(map(str, codes)))
    return hashlib.sha256(joined.encode()).hexdigest()[:10]


def place_years(
    rows: pd.DataFrame,
    extracts: Sequence[str],
    place: str = "ward_code",
    name: str = "ward",
    universe: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Financial-year counts by place from monthly rows (series, extract, month, `place`, `name`, count) of one area.

    Each financial year comes whole from the latest extract (in `extracts`, oldest first) whose months cover all
    twelve; years no extract covers are left out. `universe` (the area's rows of every category, same columns) gives
    each extract's months and its places: a place with no row of this measure counts 0, and the set of places
    (``wards_key``) is the extract's, not the measure's. Returns financial_year, series, extract, wards_key, place,
    name, count; sorted by year and place.
    """
    columns = ["financial_year", "series", "extract", "wards_key", "place", "name", "count"]
    universe = rows if universe is None else universe
    if universe.empty:
        return pd.DataFrame(columns=columns)
    unknown = sorted(set(universe["extract"].astype(str)) - set(extracts))
    if unknown:
        raise ValueError(f"extract(s) {unknown} are not in the order given: {', '.join(extracts)}")

    def text(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[["series", "extract", "month", place, name, *(["count"] if "count" in frame else [])]].copy()
        for column in ("series", "extract", place, name):
            out[column] = out[column].astype(str)
        out["financial_year"] = financial_years(out["month"]).to_numpy()
        return out

    every = text(universe)
    months = every.groupby(["extract", "financial_year"])["month"].nunique()
    complete = months[months == 12].reset_index()[["extract", "financial_year"]]
    complete["order"] = complete["extract"].map({e: i for i, e in enumerate(extracts)})
    chosen = complete.sort_values("order").groupby("financial_year").tail(1)[["extract", "financial_year"]]
    grid = every.drop_duplicates(["extract", place]).merge(chosen[["extract"]].drop_duplicates(), on="extract")
    keys = {e: wards_key(g[place].unique()) for e, g in grid.groupby("extract")}
    grid = grid[["series", "extract", place, name]].merge(chosen, on="extract")  # every place of each chosen year
    frame = text(rows).merge(chosen, on=["extract", "financial_year"])
    counts = frame.groupby(["financial_year", "extract", place], as_index=False)["count"].sum()
    out = grid.merge(counts, on=["financial_year", "extract", place], how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out = out.rename(columns={place: "place", name: "name"})
    out["wards_key"] = out["extract"].map(keys)
    return out[columns].sort_values(["financial_year", "place"], ignore_index=True)


def with_shares(years: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Add each place's share of the year's total (per cent of the offences placed in the area's places), its rank
    (1 = most; none for a small count) and `small` (fewer than `threshold` offences)."""
    out = years.copy()
    total = out.groupby("financial_year")["count"].transform("sum")
    out["share"] = np.where(total > 0, 100.0 * out["count"] / total.where(total > 0, 1), np.nan)
    out["small"] = out["count"] < threshold
    ranked = out["count"].where(~out["small"])
    out["rank"] = ranked.groupby(out["financial_year"]).rank(ascending=False, method="min").astype("Int64")
    return out


def _winsorised_dispersion(z: np.ndarray) -> float:
    """The over-dispersion factor among places: the mean square of their z-scores winsorised at `WINSOR` and
    1 - `WINSOR` (Spiegelhalter 2005), divided by what that mean square is for standard normal z-scores (0.68 at 10%),
    so that it is 1 when the places vary as chance alone would make them. At least 1 (never narrower than Poisson)."""
    z = np.asarray(z, dtype=float)
    z = z[np.isfinite(z)]
    if len(z) < 3:
        return 1.0
    low, high = np.quantile(z, [WINSOR, 1 - WINSOR])
    return max(1.0, float(np.mean(np.clip(z, low, high) ** 2)) / _WINSOR_NORMAL)


def _normal_winsorised_square(share: float) -> float:
    """E[clip(Z, -q, q)^2] for a standard normal Z winsorised at its `share` and 1 - `share` quantiles."""
    q = stats.norm.ppf(1 - share)
    return float((1 - 2 * share) - 2 * q * stats.norm.pdf(q) + 2 * share * q**2)


_WINSOR_NORMAL = _normal_winsorised_square(WINSOR)


def _scaled_p(z: pd.Series | np.ndarray, dispersion: float, places: int) -> np.ndarray:
    """Two-sided p-values of z-scores scaled by sqrt(dispersion): against the normal when there is no
    over-dispersion, else against Student's t on places - 1 degrees of freedom (the factor is itself estimated from
    the places, as in a quasi-Poisson model)."""
    scaled = np.abs(np.asarray(z, dtype=float)) / math.sqrt(dispersion)
    if dispersion > 1 and places > 2:
        return 2 * stats.t.sf(scaled, places - 1)
    return 2 * stats.norm.sf(scaled)


def fdr(p_values: Sequence[float] | pd.Series, alpha: float = FDR_ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg false discovery rate control over a list of p-values (statsmodels' multipletests): which are
    discoveries at `alpha`, and the adjusted p-values (q-values). NaN p-values are left out and never discoveries."""
    p = np.asarray(p_values, dtype=float)
    rejected = np.zeros(len(p), dtype=bool)
    q = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        reject, adjusted, _, _ = multipletests(p[ok], alpha=alpha, method="fdr_bh")
        rejected[ok], q[ok] = reject, adjusted
    return rejected, q


CHANGE_COLUMNS = [
    "financial_year",
    "since",
    "series",
    "place",
    "name",
    "previous",
    "count",
    "change",
    "pct_change",
    "p_value",
    "significant",
    "relative",
    "relative_low",
    "relative_high",
    "relative_z",
    "relative_p",
    "dispersion",
    "comparable",
    "small",
]


def _compare_years(current: pd.DataFrame, before: pd.DataFrame, fy: str, since: str, threshold: int) -> pd.DataFrame:
    """Each place's change from year `since` (`before`, indexed by place) to `fy` (`current`): see ``changes``."""
    comparable = (
        current["series"].iloc[0] == before["series"].iloc[0]
        and current["wards_key"].iloc[0] == before["wards_key"].iloc[0]
    )
    year_rows = []
    area_now, area_before = int(current["count"].sum()), int(before["count"].sum())
    for place, row in current.iterrows():
        base = {"financial_year": fy, "since": since, "series": row["series"], "place": place, "name": row["name"]}
        if not comparable or place not in before.index:
            year_rows.append(base | {"comparable": False, "small": False})
            continue
        prev, cur = int(before.at[place, "count"]), int(row["count"])
        small = prev < threshold or cur < threshold
        entry = base | {"previous": prev, "count": cur, "change": cur - prev, "comparable": True, "small": small}
        if not small:
            change = compare_counts(prev, cur)
            entry |= {"pct_change": change.pct_change, "p_value": change.p_value, "significant": change.significant}
            rel = relative_change(prev, cur, area_before - prev, area_now - cur)
            if rel is not None:
                entry |= {
                    "relative": rel.ratio_of_ratios,
                    "relative_low": rel.low,
                    "relative_high": rel.high,
                    "relative_z": rel.z,
                }
        year_rows.append(entry)
    frame = pd.DataFrame(year_rows)
    if "relative_z" in frame:
        zs = frame["relative_z"].to_numpy(dtype=float)
        phi = _winsorised_dispersion(zs)
        frame["relative_p"] = _scaled_p(zs, phi, int(np.isfinite(zs).sum()))
        frame["dispersion"] = phi
        # the interval widened the same way
        width = np.log(frame["relative_high"] / frame["relative"]) * math.sqrt(phi)
        frame["relative_low"] = frame["relative"] * np.exp(-width)
        frame["relative_high"] = frame["relative"] * np.exp(width)
    return frame.reindex(columns=CHANGE_COLUMNS)


def changes(years: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Each place's change on the year before, only between consecutive financial years of one series and one set of
    places, with its exact Poisson test (``stats.change.compare_counts``) and its change against the rest of the area
    (ratio of rate ratios, ``relative_change``), the latter's z-score and interval scaled for over-dispersion among the
    places (Spiegelhalter's winsorised factor, at least 1).

    Returns financial_year, since (the year before), series, place, name, previous, count, change, pct_change,
    p_value, significant, relative (ratio of rate ratios), relative_low, relative_high, relative_z, relative_p,
    dispersion, comparable (False where the years differ in series or places: no figures then) and small (either year
    under `threshold`: no test). A first year, or one after a gap, has no row.
    """
    frames = []
    by_year = {fy: group.set_index("place") for fy, group in years.groupby("financial_year")}
    for fy, current in by_year.items():
        since = previous_financial_year(fy)
        if since in by_year:
            frames.append(_compare_years(current, by_year[since], fy, since, threshold))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CHANGE_COLUMNS)


def span_change(years: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Each place's change over the latest run of years of one series and one set of places, first year to last
    (``changes``' columns; `since` is the first year), when the run spans at least three years (over two, it is the
    change on the year before). Empty otherwise."""
    run = comparable_run(years, same_series=True)
    if len(run) < 3:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    by_year = {fy: group.set_index("place") for fy, group in years.groupby("financial_year")}
    return _compare_years(by_year[run[-1]], by_year[run[0]], run[-1], run[0], threshold)


@dataclass(frozen=True)
class Concentration:
    """How concentrated an area's offences are in its places."""

    places: int
    total: int
    top_places: dict[float, int]  # share of places (0.1, 0.2) -> how many places that is (rounded up)
    top_share: dict[float, float]  # share of places -> per cent of the offences they hold
    gini: float  # 0: every place the same; towards 1: all in one place

    def as_dict(self) -> dict:
        return asdict(self)


def concentration(counts: pd.Series, shares: Sequence[float] = TOP_SHARES) -> Concentration:
    """The per cent of offences in the top 10% and 20% of places (by count; the number of places rounded up, so 2 and 4
    of 20 wards) and the Gini coefficient of the counts."""
    values = np.sort(np.asarray(counts, dtype=float))[::-1]
    if len(values) == 0 or (values < 0).any():
        raise ValueError("concentration needs at least one place and no negative count")
    total = float(values.sum())
    top_places = {s: max(1, math.ceil(len(values) * s - 1e-9)) for s in shares}
    top_share = {s: (100.0 * values[:k].sum() / total if total else float("nan")) for s, k in top_places.items()}
    ascending = values[::-1]
    n = len(ascending)
    gini = float((2 * np.arange(1, n + 1) - n - 1) @ ascending / (n * total)) if total and n > 1 else 0.0
    return Concentration(n, int(total), top_places, top_share, gini)


def concentration_curve(counts: pd.Series) -> pd.DataFrame:
    """The concentration curve: places from the most offences down, with the cumulative per cent of places and of
    offences (starting at 0, 0). Index: the place (empty for the origin)."""
    ordered = counts.sort_values(ascending=False, kind="stable")
    total = float(ordered.sum())
    curve = pd.DataFrame(
        {
            "places_pct": 100.0 * np.arange(1, len(ordered) + 1) / len(ordered),
            "offences_pct": 100.0 * ordered.cumsum().to_numpy() / total if total else np.nan,
        },
        index=ordered.index,
    )
    origin = pd.DataFrame({"places_pct": [0.0], "offences_pct": [0.0]}, index=pd.Index([""], name=ordered.index.name))
    return pd.concat([origin, curve])


def comparable_run(years: pd.DataFrame, same_series: bool = False) -> list[str]:
    """The latest run of consecutive financial years with one set of places (`wards_key`), and with `same_series` of
    one series too, oldest first. Without it series may differ within the run (a ranking is within one year)."""
    first = years.drop_duplicates("financial_year").set_index("financial_year").sort_index()
    keys = first["wards_key"] + ("|" + first["series"] if same_series else "")
    if keys.empty:
        return []
    run = [keys.index[-1]]
    for fy in reversed(keys.index[:-1].tolist()):
        if keys[fy] != keys[run[0]] or next_financial_year(fy) != run[0]:
            break
        run.insert(0, fy)
    return run


@dataclass(frozen=True)
class Persistence:
    """The places in the area's top `n` over a run of years of one set of places."""

    years: list[str]
    n: int
    top: dict[str, list[str]]  # year -> places in the top n, most first
    every_year: list[str]  # in the top n in every year of the run
    entered: list[str]  # in the last year's top n but not the first's
    left: list[str]  # in the first year's top n but not the last's

    def as_dict(self) -> dict:
        return asdict(self)


def persistence(years: pd.DataFrame, threshold: int, n: int = 5) -> Persistence:
    """The top `n` places by count in each year of the latest run of one set of places (``comparable_run``), those in
    it every year, and those that entered or left between the first and last year. Places with fewer than `threshold`
    offences are never ranked (a top five of tiny counts is not a pattern)."""
    run = comparable_run(years)
    top: dict[str, list[str]] = {}
    for fy in run:
        year = years[(years["financial_year"] == fy) & (years["count"] >= threshold)]
        ordered = year.sort_values(["count", "place"], ascending=[False, True])
        top[fy] = ordered["place"].head(n).tolist()
    if not run:
        return Persistence([], n, {}, [], [], [])
    every = [p for p in top[run[-1]] if all(p in top[fy] for fy in run)]
    entered = [p for p in top[run[-1]] if p not in top[run[0]]] if len(run) > 1 else []
    left = [p for p in top[run[0]] if p not in top[run[-1]]] if len(run) > 1 else []
    return Persistence(run, n, top, every, entered, left)


def funnel_limits(
    expected: np.ndarray | pd.Series, level: float, dispersion: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Limits of a count around its expected value E: exact Poisson (the chi-squared form of the exact interval),
    widened by sqrt(dispersion) about E when the places are over-dispersed."""
    e = np.asarray(expected, dtype=float)
    a = 1 - level
    low = np.where(e > 0, stats.chi2.ppf(a / 2, 2 * np.maximum(e, 1e-12)) / 2, 0.0)
    high = stats.chi2.ppf(1 - a / 2, 2 * (e + 1)) / 2
    if dispersion > 1:
        root = math.sqrt(dispersion)
        low, high = e - (e - low) * root, e + (high - e) * root
    return np.maximum(low, 0.0), high


def funnel(counts: pd.Series, population: pd.Series, threshold: int, levels: Sequence[float] = LEVELS) -> pd.DataFrame:
    """Each place's rate per 1,000 residents against the area's: expected count at the area's rate, z-score, whether
    it lies outside the funnel's limits at each level, and its p-value and false-discovery-controlled verdict.

    `counts` and `population` are indexed by place; places without a population are left out. The limits are exact
    Poisson, widened for over-dispersion when the places' winsorised z-scores show more spread than chance (the factor
    is in `dispersion`, 1 when none). Columns: count, population, rate, area_rate, expected, z, dispersion,
    low_95, high_95, low_998, high_998, outside_95, outside_998, p_value, q_value, beyond_chance ('above', 'below' or
    ''), small. Small counts are shown but never called beyond chance.
    """
    frame = pd.DataFrame({"count": counts, "population": population}).dropna()
    frame = frame[frame["population"] > 0]
    if frame.empty:
        raise ValueError("funnel needs at least one place with a population")
    area_rate = frame["count"].sum() / frame["population"].sum()
    frame["rate"] = 1000.0 * frame["count"] / frame["population"]
    frame["area_rate"] = 1000.0 * area_rate
    frame["expected"] = area_rate * frame["population"]
    frame["z"] = (frame["count"] - frame["expected"]) / np.sqrt(frame["expected"])
    phi = _winsorised_dispersion(frame["z"].to_numpy())
    frame["dispersion"] = phi
    for level in levels:
        tag = f"{level * 100:g}".replace(".", "")
        low, high = funnel_limits(frame["expected"], level, phi)
        frame[f"low_{tag}"], frame[f"high_{tag}"] = low, high
        frame[f"outside_{tag}"] = (frame["count"] < low) | (frame["count"] > high)
    frame["small"] = frame["count"] < threshold
    frame["p_value"] = _scaled_p(frame["z"], phi, len(frame))
    frame.loc[frame["small"], "p_value"] = np.nan
    found, q = fdr(frame["p_value"])
    frame["q_value"] = q
    frame["beyond_chance"] = np.where(found, np.where(frame["z"] > 0, "above", "below"), "")
    return frame


def funnel_curve(area_rate_per_1000: float, populations: pd.Series, level: float, dispersion: float) -> pd.DataFrame:
    """The funnel's limits as rates per 1,000 along a grid of populations from the smallest place's to the largest's,
    for drawing: population, low, high."""
    lo, hi = float(populations.min()), float(populations.max())
    grid = np.linspace(max(lo * 0.8, 1.0), hi * 1.1, 60)
    expected = area_rate_per_1000 / 1000.0 * grid
    low, high = funnel_limits(expected, level, dispersion)
    return pd.DataFrame({"population": grid, "low": 1000.0 * low / grid, "high": 1000.0 * high / grid})


def hotspots(changes_table: pd.DataFrame, alpha: float = FDR_ALPHA) -> pd.DataFrame:
    """The places whose change on the year before differs from the rest of the area's beyond chance, the false
    discovery rate controlled at `alpha` across every comparable, non-small test in the table (all places, measures
    and years given): the rows found, with q_value, sorted by it. Add a `measure` column first when the table holds
    several measures."""
    tested = changes_table[changes_table["comparable"].astype(bool) & ~changes_table["small"].astype(bool)].copy()
    tested = tested[tested["relative_p"].notna()]
    if tested.empty:
        return tested.assign(q_value=pd.Series(dtype=float))
    found, q = fdr(tested["relative_p"].to_numpy(), alpha)
    tested["q_value"] = q
    return tested[found].sort_values("q_value", ignore_index=True)


def place_population(lsoa_population: pd.DataFrame, lookup: pd.DataFrame, lsoa: str, place: str) -> pd.Series:
    """Residents of each place, summing its LSOAs' population through a best-fit lookup (`lookup`: `lsoa` -> `place`).
    `lsoa_population` has columns `lsoa` and population. LSOAs not in the lookup are left out."""
    joined = lsoa_population.merge(lookup[[lsoa, place]], on=lsoa, how="inner")
    return joined.groupby(place)["population"].sum()


def place_deprivation(
    lsoa_deciles: pd.DataFrame, lsoa_population: pd.DataFrame, lookup: pd.DataFrame, lsoa: str, place: str
) -> pd.DataFrame:
    """Each place's deprivation from its LSOAs' IMD deciles (1 = the most deprived tenth of England's LSOAs):
    the population-weighted mean decile, the per cent of residents in the most deprived fifth (deciles 1 and 2), and
    the per cent of the place's residents whose LSOA has a decile (the rest: LSOAs with no IMD, e.g. Welsh or redrawn).

    `lsoa_deciles`: `lsoa`, decile; `lsoa_population`: `lsoa`, population; `lookup`: `lsoa` -> `place`.
    Columns: place, mean_decile, most_deprived_pct, covered_pct.
    """
    frame = lsoa_population.merge(lookup[[lsoa, place]], on=lsoa).merge(lsoa_deciles, on=lsoa, how="left")
    frame["with"] = frame["population"].where(frame["decile"].notna(), 0)
    frame["weighted"] = frame["decile"].fillna(0) * frame["with"]
    frame["deprived"] = frame["with"].where(frame["decile"] <= 2, 0)
    grouped = frame.groupby(place)[["population", "with", "weighted", "deprived"]].sum()
    out = pd.DataFrame(
        {
            "mean_decile": grouped["weighted"] / grouped["with"].where(grouped["with"] > 0),
            "most_deprived_pct": 100.0 * grouped["deprived"] / grouped["with"].where(grouped["with"] > 0),
            "covered_pct": 100.0 * grouped["with"] / grouped["population"],
        }
    )
    return out.rename_axis("place").reset_index()


def gap_by_year(place_totals: pd.Series, area_totals: pd.Series) -> pd.DataFrame:
    """What the place files cannot place: by financial year, the sum over places, the area's total from its own file,
    the gap and the gap in per cent of the area total. Both Series are indexed by financial year; years in both only."""
    frame = pd.DataFrame({"places": place_totals, "area": area_totals}).dropna()
    frame["gap"] = frame["area"] - frame["places"]
    frame["gap_pct"] = 100.0 * frame["gap"] / frame["area"]
    return frame.rename_axis("financial_year").reset_index()
