"""Charts of places in the pack's house style (``charts``): ward maps, the funnel plot and the concentration curve.

Maps are drawn with matplotlib from the boundary polygons (British National Grid, metres: equal scale on both axes,
no web tiles, no projection library), each place shaded by the fifth of the measure it falls in, with a legend of
the five ranges and a note where the shapes are approximate (wards built from LSOAs). Places without a value are
hatched grey and named in the legend as such.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from afcharts.af_colours import get_af_colours
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from csp_evidence.report import charts

SEQUENTIAL = list(reversed(get_af_colours("sequential", number_of_colours=5)))  # light (low) to dark (high)
NO_VALUE = "#E6E6E6"


def _path(shape) -> MplPath:
    """A matplotlib path of a shapely Polygon or MultiPolygon, holes included."""
    vertices, codes = [], []
    polygons = getattr(shape, "geoms", [shape])
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            vertices.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
    return MplPath(np.concatenate(vertices), np.concatenate(codes))


def classes(values: pd.Series, n: int = 5, fmt: str = "{:,.1f}") -> tuple[pd.Series, list[str]]:
    """Each value's class (0 = lowest) among `n` equal-count groups (quantiles; fewer when values repeat), and the
    legend label of each class ('12.0 to 15.5')."""
    clean = values.dropna()
    if clean.empty:
        return pd.Series(np.nan, index=values.index), []
    edges = np.unique(np.quantile(clean, np.linspace(0, 1, n + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    index = pd.Series(np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2), index=values.index)
    index[values.isna()] = np.nan
    labels = [f"{fmt.format(edges[i])} to {fmt.format(edges[i + 1])}" for i in range(len(edges) - 1)]
    return index, labels


def _draw(ax, shapes: Mapping[str, Any], values: pd.Series, n: int = 5) -> list[Patch]:
    shown = values.reindex(list(shapes))
    whole = bool(((shown.dropna() % 1) == 0).all())  # counts: no decimals in the legend
    klass, labels = classes(shown, n, "{:,.0f}" if whole else "{:,.1f}")
    palette = SEQUENTIAL if len(labels) == n else SEQUENTIAL[-len(labels) :] if labels else []
    for code, shape in shapes.items():
        k = klass.get(code, np.nan)
        colour = NO_VALUE if pd.isna(k) else palette[int(k)]
        ax.add_patch(
            PathPatch(
                _path(shape), facecolor=colour, edgecolor="white", linewidth=0.6, hatch=None if not pd.isna(k) else "//"
            )
        )
    bounds = np.array([shape.bounds for shape in shapes.values()])
    ax.set_xlim(bounds[:, 0].min(), bounds[:, 2].max())
    ax.set_ylim(bounds[:, 1].min(), bounds[:, 3].max())
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [Patch(facecolor=palette[i], label=label) for i, label in enumerate(labels)]
    if klass.isna().any():
        handles.append(Patch(facecolor=NO_VALUE, hatch="//", label="no figure (too few or no residents)"))
    return handles


def place_map(
    shapes: Mapping[str, Any],
    values: pd.Series,
    title: str,
    subtitle: str,
    legend_title: str,
    source: str,
    approximate: bool = False,
    labels: Mapping[str, str] | None = None,
):
    """One map: each place (code -> shapely polygon) shaded by its fifth of `values` (indexed by code); `labels`
    writes a few places' names on the map (code -> name); `approximate` says the shapes are approximate."""
    with plt.style.context(charts.STYLE):
        fig, ax = plt.subplots(figsize=(10, 8), layout="constrained")
    fig.suptitle(title, x=0.01, ha="left", fontsize=15, fontweight="bold")
    ax.set_title(subtitle, loc="left", fontsize=11, color=charts.GREY)
    note = (
        " Ward shapes are approximate: each ward drawn as the 2021 LSOAs best fitted to it (ONS lookup)."
        if approximate
        else ""
    )
    fig.text(
        0.01, -0.01, textwrap.fill(f"Source: {source}.{note}", 140), ha="left", va="top", fontsize=9, color=charts.GREY
    )
    handles = _draw(ax, shapes, values)
    for code, name in (labels or {}).items():
        if code in shapes:
            point = shapes[code].representative_point()
            ax.annotate(
                textwrap.fill(name, 14),
                (point.x, point.y),
                ha="center",
                va="center",
                fontsize=8,
                color="black",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.7, "linewidth": 0},
            )
    ax.legend(
        handles=handles, title=legend_title, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9
    )
    return fig


def map_panels(
    shapes: Mapping[str, Any],
    table: pd.DataFrame,
    title: str,
    subtitle: str,
    source: str,
    approximate: bool = False,
    ncols: int = 3,
):
    """Small multiples: one map per column of `table` (indexed by place code), each shaded by its own fifths."""
    names = list(table.columns)
    nrows = -(-len(names) // ncols)
    height = 4.4 * nrows + 2.2
    with plt.style.context(charts.STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(12, height), squeeze=False)
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 1.15 / height, bottom=1.6 / height, hspace=0.5, wspace=0.05)
    fig.text(0.01, 1 - 0.25 / height, title, ha="left", va="top", fontsize=15, fontweight="bold")
    fig.text(0.01, 1 - 0.62 / height, subtitle, ha="left", va="top", fontsize=11, color=charts.GREY)
    note = " Ward shapes approximate (2021 LSOAs best fitted to each ward)." if approximate else ""
    fig.text(
        0.01, 0.0, textwrap.fill(f"Source: {source}.{note}", 170), ha="left", va="top", fontsize=9, color=charts.GREY
    )
    for ax, name in zip(axes.flat, names, strict=False):
        handles = _draw(ax, shapes, table[name])
        ax.set_title(textwrap.fill(str(name), 34), loc="left", fontsize=11)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0), frameon=False, fontsize=7, ncols=2)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    return fig


def funnel_chart(points: pd.DataFrame, curves: Mapping[str, pd.DataFrame], title: str, subtitle: str, source: str):
    """The funnel plot: each place's rate per 1,000 against its residents, the area's rate, and the limits (`curves`:
    label -> population, low, high). Places found beyond chance (column beyond_chance) are marked and named."""
    fig, ax = charts._figure(title, subtitle, source)  # the house figure: title, subtitle, source line
    with plt.style.context(charts.STYLE):
        styles = [("--", charts.GREY), (":", charts.DARK_PINK)]
        for (label, curve), (dash, colour) in zip(curves.items(), styles, strict=False):
            ax.plot(curve["population"], curve["low"], dash, color=colour, linewidth=1.4, label=label)
            ax.plot(curve["population"], curve["high"], dash, color=colour, linewidth=1.4)
        ax.axhline(float(points["area_rate"].iloc[0]), color=charts.DARK_BLUE, linewidth=1.2, label="Borough rate")
        found = points["beyond_chance"] != ""
        ax.scatter(
            points.loc[~found, "population"], points.loc[~found, "rate"], color="#A7B4C2", s=40, zorder=3, label="Ward"
        )
        ax.scatter(
            points.loc[found, "population"],
            points.loc[found, "rate"],
            color=charts.ORANGE,
            s=55,
            zorder=4,
            label="Ward beyond chance (false discovery rate 5%)",
        )
        for _, row in points[found].iterrows():
            ax.annotate(
                str(row["name"]),
                (row["population"], row["rate"]),
                xytext=(5, 3),
                textcoords="offset points",
                fontsize=8,
            )
        ax.set_xlabel("Residents (Census 2021)")
        ax.set_ylabel("Offences per 1,000 residents")
        ax.set_ylim(bottom=0)
        charts._style_axes(ax)
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.legend(loc="upper right", frameon=False, fontsize=9)
    return fig


def concentration_chart(
    curves: Mapping[str, pd.DataFrame], title: str, subtitle: str, source: str, places: str = "wards"
):
    """Concentration curves (label -> places_pct, offences_pct), with the line of equal shares; `places` names them."""
    fig, ax = charts._figure(title, subtitle, source)
    with plt.style.context(charts.STYLE):
        ax.plot(
            [0, 100], [0, 100], color=charts.GREY, linewidth=1, linestyle="--", label=f"Every {places[:-1]} the same"
        )
        for colour, (label, curve) in zip(charts.COLOURS, curves.items(), strict=False):
            ax.plot(curve["places_pct"], curve["offences_pct"], color=colour, linewidth=2, label=label)
        ax.set_xlabel(f"Share of {places}, most offences first (%)")
        ax.set_ylabel("Share of offences (%)")
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        charts._style_axes(ax)
        ax.legend(loc="lower right", frameon=False, fontsize=9)
    return fig
