"""One house style for the pack's charts and tables, on the Analysis Function's afcharts style.

Every chart has a title that states the finding, a statistical subtitle, axis labels with units and a
source line; the data behind it is written as CSV beside the PNG and linked under it. Tables are shown as
HTML (text escaped) with a download link to the same CSV. Alt text and captions go on the notebook cell
(`#| fig-alt:` and `#| fig-cap:`), where Quarto and the pure-Python renderer both read them.
"""

from __future__ import annotations

import html
import textwrap
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen on CI or servers; the notebook shows the saved figure
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from afcharts.af_colours import get_af_colours  # noqa: E402
from IPython.display import Image, Markdown, display  # noqa: E402

from csp_evidence.core.files import atomic_write  # noqa: E402
from csp_evidence.core.periods import LOCKDOWNS  # noqa: E402
from csp_evidence.report.tables import P_VALUE, table_html, write_and_show  # noqa: E402, F401  (P_VALUE: deprecated)

STYLE = str(resources.files("afcharts") / "afcharts.mplstyle")
COLOURS = get_af_colours("categorical", number_of_colours=6)
DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, GREY, PURPLE = COLOURS
FIGSIZE = (10, 5.2)


def _figure(title: str, subtitle: str, source: str):
    with plt.style.context(STYLE):
        fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    fig.suptitle(title, x=0.01, ha="left", fontsize=15, fontweight="bold")
    ax.set_title(subtitle, loc="left", fontsize=11, color=GREY)
    fig.text(0.01, -0.02, textwrap.fill(f"Source: {source}", 150), ha="left", va="top", fontsize=9, color=GREY)
    return fig, ax


def _style_axes(ax) -> None:
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.grid(axis="y", color="0.85")
    ax.set_axisbelow(True)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))


def monthly_chart(
    data: pd.DataFrame,
    title: str,
    subtitle: str,
    ylabel: str,
    source: str,
    band: tuple[str, str] | None = None,
    lockdowns: bool = True,
):
    """Line chart of monthly series (one line per column of `data`, indexed by month); lockdowns shaded.

    `band` names two columns drawn as a shaded interval (lower, upper) instead of lines.
    """
    fig, ax = _figure(title, subtitle, source)
    with plt.style.context(STYLE):
        lines = [c for c in data.columns if not band or c not in band]
        if band:
            ax.fill_between(
                data.index,
                data[band[0]],
                data[band[1]],
                color=TURQUOISE,
                alpha=0.25,
                label="95% prediction interval",
                linewidth=0,
            )
        for colour, col in zip(COLOURS, lines, strict=False):
            ax.plot(data.index, data[col], color=colour, label=col, linewidth=2)
        if lockdowns:
            for i, (_name, start, end) in enumerate(LOCKDOWNS):
                if data.index.min() <= start <= data.index.max():
                    ax.axvspan(
                        start, end, color=GREY, alpha=0.12, linewidth=0, label="National lockdowns" if i == 0 else None
                    )
        ax.set_ylabel(ylabel)
        ax.set_xlabel("Month")
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.set_ylim(bottom=0)
        _style_axes(ax)
        ax.legend(loc="lower left", frameon=False, fontsize=10)
    return fig


def bar_chart(
    values: pd.Series,
    title: str,
    subtitle: str,
    xlabel: str,
    source: str,
    highlight: str | None = None,
    value_format: str = "{x:,.0f}",
):
    """Horizontal bar chart of values by label, largest at the top; `highlight` picks one bar out.

    `value_format` formats the value axis ('{x:.1f}' for small rates).
    """
    values = values.sort_values()
    fig, ax = _figure(title, subtitle, source)
    fig.set_size_inches(10, max(4.0, 0.28 * len(values) + 1.5))
    with plt.style.context(STYLE):
        colours = [DARK_BLUE if label == highlight else "#A7B4C2" for label in values.index]
        ax.barh(values.index.astype(str), values.to_numpy(), color=colours)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", color="0.85")
        ax.grid(axis="y", visible=False)
        ax.spines[["top", "right", "left"]].set_visible(False)
        ax.set_axisbelow(True)
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter(value_format))
    return fig


def publish_chart(fig, data: pd.DataFrame, slug: str, output_dir: str | Path) -> None:
    """Save the chart as PNG and its data as CSV in the run's output folder, show it, and link the CSV."""
    output_dir = Path(output_dir)
    png = output_dir / "figures" / f"{slug}.png"
    csv = output_dir / "tables" / f"{slug}.csv"
    atomic_write(png, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    atomic_write(csv, lambda tmp: data.to_csv(tmp, index=True, encoding="utf-8"))
    plt.close(fig)
    display(Image(filename=str(png)))
    display(Markdown(f"[Download the data for this chart (CSV)](tables/{slug}.csv)"))


def publish_table(
    table: pd.DataFrame,
    slug: str,
    output_dir: str | Path,
    formats: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    caption: str = "",
    flag: pd.Series | None = None,
    download: pd.DataFrame | None = None,
) -> None:
    """Deprecated: a chapter builds a `report.tables.TableSpec` and the notebook calls its `publish`. This unchecked
    form stays only until the notebooks not yet converted are (it writes and shows a table exactly as a spec does).
    """
    html_table = table_html(table, formats or {}, labels or {}, caption, flag)
    write_and_show(html_table, table if download is None else download, slug, output_dir)


def say(text: str) -> None:
    """Show generated narrative text as Markdown (the numbers in it come from the data)."""
    display(Markdown(text))


def say_details(summary: str, text: str) -> None:
    """Show detailed generated text (per-measure sentences with their tests) folded in a <details> block, so a page
    opens on its key points and a reader unfolds the detail when wanted."""
    if text:
        display(Markdown(f"<details><summary>{html.escape(summary)}</summary>\n\n{text}\n\n</details>"))


def _percent_axis(ax, axis: str = "y") -> None:
    """Format an axis of proportions (0-1) as whole percentages."""
    fmt = matplotlib.ticker.PercentFormatter(xmax=1, decimals=0)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def quarterly_chart(
    data: pd.DataFrame,
    title: str,
    subtitle: str,
    ylabel: str,
    source: str,
    lines: list[str] | None = None,
    band: tuple[str, str] | None = None,
    target: tuple[str, float, pd.Timestamp] | None = None,
    percent: bool = True,
):
    """Line chart of quarterly values (one line per column in `lines`, indexed by quarter end), no dual axes.

    `band` names two columns (lower, upper) shaded around the first line, e.g. a 95% interval; `target` is
    (label, value, start) drawn as a dashed horizontal line from `start` to the last quarter; `percent`
    formats proportions (0-1) on the y axis as percentages.
    """
    fig, ax = _figure(title, subtitle, source)
    lines = lines or [c for c in data.columns if not band or c not in band]
    with plt.style.context(STYLE):
        if band:
            ax.fill_between(
                data.index, data[band[0]], data[band[1]], color=DARK_BLUE, alpha=0.12, linewidth=0, label="95% interval"
            )
        for colour, col in zip([DARK_BLUE, ORANGE, TURQUOISE, DARK_PINK, PURPLE, GREY], lines, strict=False):
            ax.plot(data.index, data[col], color=colour, label=col, linewidth=2, marker="o", markersize=3)
        if target:
            label, value, start = target
            start = pd.Timestamp(start)
            ax.hlines(value, start, data.index.max(), colors=DARK_PINK, linestyles="--", linewidth=2, label=label)
            ax.axvline(start, color=GREY, linewidth=1, linestyle=":")
        ax.set_ylabel(ylabel)
        ax.set_xlabel("Quarter ending (each value covers the 12 months to that quarter)")
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        _style_axes(ax)
        if percent:
            _percent_axis(ax)
        ax.legend(loc="lower left", frameon=False, fontsize=10)
    return fig


def panel_chart(
    data: pd.DataFrame,
    panel: str,
    lines: dict[str, str],
    title: str,
    subtitle: str,
    ylabel: str,
    source: str,
    x: str = "quarter_end",
    ncols: int = 4,
    percent: bool = True,
):
    """Small multiples: one panel per value of column `panel`, each with one line per column in `lines`.

    `data` is long (one row per panel and x); `lines` maps a column to its legend label. All panels share
    the y axis so levels can be compared; proportions (0-1) are shown as percentages when `percent`.
    """
    panels = list(dict.fromkeys(data[panel]))
    nrows = -(-len(panels) // ncols)
    height = 2.9 * nrows + 1.4
    with plt.style.context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(12, height), sharex=True, sharey=True, squeeze=False)
    top = 1 - 1.15 / height
    fig.subplots_adjust(left=0.07, right=0.99, top=top, bottom=0.55 / height, hspace=0.35, wspace=0.12)
    fig.text(0.01, 1 - 0.25 / height, title, ha="left", va="top", fontsize=15, fontweight="bold")
    fig.text(0.01, 1 - 0.62 / height, subtitle, ha="left", va="top", fontsize=11, color=GREY)
    fig.text(0.01, 0.0, textwrap.fill(f"Source: {source}", 170), ha="left", va="top", fontsize=9, color=GREY)
    colours = [DARK_BLUE, ORANGE, TURQUOISE, DARK_PINK]
    with plt.style.context(STYLE):
        for ax, name in zip(axes.flat, panels, strict=False):
            rows = data[data[panel] == name]
            for colour, (col, label) in zip(colours, lines.items(), strict=False):
                ax.plot(rows[x], rows[col], color=colour, linewidth=1.8, label=label)
            ax.set_title(textwrap.fill(str(name), 30), loc="left", fontsize=11)
            _style_axes(ax)
            if percent:
                _percent_axis(ax)
            ax.xaxis.set_major_locator(mdates.YearLocator(4))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        for ax in axes.flat[len(panels) :]:
            ax.set_visible(False)
        axes.flat[0].set_ylim(0, 1.05 * float(data[list(lines)].max().max()))  # shared: one scale from zero
        for ax in axes[:, 0]:
            ax.set_ylabel(ylabel)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="upper right",
            bbox_to_anchor=(0.99, 1 - 0.55 / height),
            frameon=False,
            fontsize=10,
            ncols=len(lines),
        )
    return fig


def interval_chart(
    data: pd.DataFrame,
    x: str,
    y: str,
    low: str,
    high: str,
    group: str,
    title: str,
    subtitle: str,
    ylabel: str,
    source: str,
    percent: bool = True,
):
    """Points with 95% interval bars by category `x` (in the order given), one colour per value of `group`."""
    fig, ax = _figure(title, subtitle, source)
    labels = list(dict.fromkeys(data[x]))
    groups = list(dict.fromkeys(data[group]))
    width = 0.6 / max(len(groups), 1)
    with plt.style.context(STYLE):
        for i, (colour, name) in enumerate(zip([DARK_BLUE, ORANGE, TURQUOISE, DARK_PINK], groups, strict=False)):
            rows = data[data[group] == name]
            pos = [labels.index(v) + (i - (len(groups) - 1) / 2) * width for v in rows[x]]
            ax.errorbar(
                pos,
                rows[y],
                yerr=[rows[y] - rows[low], rows[high] - rows[y]],
                fmt="o",
                color=colour,
                capsize=4,
                linewidth=1.8,
                markersize=6,
                label=str(name),
            )
        ax.set_xticks(range(len(labels)), [textwrap.fill(str(v), 14) for v in labels])
        ax.set_ylabel(ylabel)
        _style_axes(ax)
        if percent:
            _percent_axis(ax)
        ax.set_ylim(bottom=0)
        ax.legend(loc="lower left", frameon=False, fontsize=10)
    return fig


def move_legend(fig, outside: bool = True, loc: str = "upper left", ncols: int = 1) -> None:
    """Redraw the legend of a single-axes chart where the default hides a line: outside to the right, or at `loc`."""
    ax = fig.axes[0]
    if outside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=10)
    else:
        ax.legend(loc=loc, ncols=ncols, frameon=False, fontsize=10)


def index_chart(
    values: pd.Series,
    title: str,
    subtitle: str,
    xlabel: str,
    source: str,
    reference: float = 100.0,
    labels: pd.Series | None = None,
):
    """Horizontal bars of an index by label (e.g. a borough's rate with London = 100), with the reference line.

    Bars above the reference are dark blue, below it grey-blue; `labels` (same index) are written at the bar ends.
    """
    values = values.sort_values()
    fig, ax = _figure(title, subtitle, source)
    fig.set_size_inches(10, max(4.0, 0.45 * len(values) + 1.8))
    with plt.style.context(STYLE):
        colours = [DARK_BLUE if v >= reference else "#A7B4C2" for v in values]
        ax.barh(values.index.astype(str), values.to_numpy(), color=colours)
        ax.axvline(reference, color=ORANGE, linewidth=2, linestyle="--", label=f"London = {reference:g}")
        if labels is not None:
            for i, (label, value) in enumerate(values.items()):
                ax.text(value, i, f"  {labels[label]}", va="center", ha="left", fontsize=9, color=GREY)
        ax.set_xlabel(xlabel)
        ax.set_xlim(0, 1.18 * max(float(values.max()), reference))
        ax.grid(axis="x", color="0.85")
        ax.grid(axis="y", visible=False)
        ax.spines[["top", "right", "left"]].set_visible(False)
        ax.set_axisbelow(True)
        ax.legend(loc="lower right", frameon=False, fontsize=10)
    return fig


def counterfactual_panels(
    frames: dict[str, pd.DataFrame], title: str, subtitle: str, ylabel: str, source: str, ncols: int = 3
):
    """Small multiples of observed monthly counts against the expected level and its 95% interval, one per series.

    Each frame has columns 'Observed', 'Expected without the pandemic', 'lower', 'upper' indexed by month (as from
    ``covid.counterfactual_chart_data``); each panel has its own y scale from zero, as the series differ in size.
    """
    names = list(frames)
    nrows = -(-len(names) // ncols)
    height = 2.7 * nrows + 1.8
    with plt.style.context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(12, height), sharex=True, squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.99, top=1 - 1.5 / height, bottom=0.55 / height, hspace=0.4, wspace=0.2)
    fig.text(0.01, 1 - 0.25 / height, title, ha="left", va="top", fontsize=15, fontweight="bold")
    fig.text(0.01, 1 - 0.62 / height, subtitle, ha="left", va="top", fontsize=11, color=GREY)
    fig.text(0.01, 0.0, textwrap.fill(f"Source: {source}", 170), ha="left", va="top", fontsize=9, color=GREY)
    with plt.style.context(STYLE):
        for ax, name in zip(axes.flat, names, strict=False):
            data = frames[name]
            ax.fill_between(
                data.index,
                data["lower"],
                data["upper"],
                color=TURQUOISE,
                alpha=0.3,
                linewidth=0,
                label="95% prediction interval",
            )
            ax.plot(data.index, data["Observed"], color=DARK_BLUE, linewidth=1.6, label="Observed")
            ax.plot(
                data.index,
                data["Expected without the pandemic"],
                color=ORANGE,
                linewidth=1.6,
                label="Expected without the pandemic",
            )
            ax.set_title(textwrap.fill(str(name), 32), loc="left", fontsize=11)
            ax.set_ylim(bottom=0)
            _style_axes(ax)
            ax.xaxis.set_major_locator(mdates.YearLocator(2))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        for i, ax in enumerate(axes.flat):
            if i >= len(names):
                ax.set_visible(False)
            elif i + ncols >= len(names):  # nothing drawn below: show this panel's years
                ax.xaxis.set_tick_params(labelbottom=True)
        for ax in axes[:, 0]:
            ax.set_ylabel(ylabel)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.005, 1 - 0.85 / height),
            frameon=False,
            fontsize=10,
            ncols=3,
        )
    return fig


def annual_chart(
    data: pd.DataFrame,
    title: str,
    subtitle: str,
    ylabel: str,
    source: str,
    kind: str = "bar",
    percent: bool = False,
    break_before: str | None = None,
    break_label: str = "",
):
    """Values by year (one column of `data` per series, indexed by year labels such as '2018/19' or 2019), as bars
    (one series) or lines with markers; no dual axes.

    `break_before` names the first year of a new basis (e.g. a recording change): a dashed line is drawn before
    it, labelled `break_label`. `percent` formats proportions (0-1) on the y axis as percentages.
    """
    if kind not in ("bar", "line"):
        raise ValueError(f"kind must be 'bar' or 'line', got {kind!r}")
    labels = [str(v) for v in data.index]
    fig, ax = _figure(title, subtitle, source)
    with plt.style.context(STYLE):
        positions = range(len(labels))
        if kind == "bar":
            if data.shape[1] != 1:
                raise ValueError(f"a bar chart takes one series; got columns {list(data.columns)}")
            ax.bar(positions, data.iloc[:, 0].to_numpy(), color=DARK_BLUE, label=str(data.columns[0]))
        else:
            for colour, col in zip(COLOURS, data.columns, strict=False):
                ax.plot(positions, data[col].to_numpy(), color=colour, label=str(col), linewidth=2, marker="o")
        if break_before is not None:
            if break_before not in labels:
                raise ValueError(f"break_before {break_before!r} is not among the years {labels}")
            x = labels.index(break_before) - 0.5
            ax.axvline(x, color=ORANGE, linestyle="--", linewidth=1.5, label=break_label or None)
        ax.set_xticks(list(positions), labels, rotation=45 if len(labels) > 8 and len(labels[0]) > 4 else 0)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("Financial year" if "/" in labels[0] else "Year")
        ax.set_ylim(bottom=0)
        _style_axes(ax)
        if percent:
            _percent_axis(ax)
        ax.legend(loc="best", frameon=False, fontsize=10)
    return fig
