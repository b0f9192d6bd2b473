"""How recent the data are: the last month each chapter's tables reach, said on the page and kept for the home page.

A chapter names the tables it uses (``DATASETS`` keys) in one call, ``data_through(output_dir, chapter, *keys)``: it
shows a line "Data used, and the last month each reaches: ..." and writes ``tables/<NN>-data-through.csv`` (dataset,
title, last_month, last_period, source_ids), which the home page gathers (``read_data_through``) to show each
dataset's last month beside its sources' retrieval dates. The months come from the tidy tables, never typed by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from csp_evidence.core.files import atomic_write
from csp_evidence.core.paths import output_prefix
from csp_evidence.data import datasets
from csp_evidence.data.sources import (
    GLA_SOL_ASB_CALLS,
    GLA_SOL_REOFFENDING,
    MOJ_PROVEN_REOFFENDING,
    MOPAC_PAS,
    MPS_BOROUGH_EXTRACT_2020_07,
    ONS_PFA_ASB,
    ONS_POPULATION,
    POLICEUK_STREET_ASB,
)
from csp_evidence.report.words import md


@dataclass(frozen=True)
class Dataset:
    """A tidy table a chapter uses: its title, its sources, and how to find the last period it holds."""

    title: str
    source_ids: tuple[str, ...]
    last: Callable[[], tuple[pd.Timestamp | None, str] | None]  # (last month, in words), None when not provided


def _month(table: Callable[[], pd.DataFrame | None], column: str = "month", lead: str = ""):
    def last() -> tuple[pd.Timestamp | None, str] | None:
        frame = table()
        if frame is None:
            return None
        month = pd.Timestamp(frame[column].max()).to_period("M").to_timestamp()
        return month, f"{lead}{month:%B %Y}"

    return last


def _financial_year() -> tuple[pd.Timestamp | None, str]:
    year = str(datasets.pfa_asb_incidents()["financial_year"].max())
    return pd.Timestamp(f"{int(year[:4]) + 1}-03-01"), f"March {int(year[:4]) + 1} (financial year {year})"


def _year(table: Callable[[], pd.DataFrame], words: str):
    def last() -> tuple[pd.Timestamp | None, str]:
        year = int(table()["year"].max())
        return None, words.format(year=year)

    return last


def _cohort() -> tuple[pd.Timestamp | None, str] | None:
    frame = datasets.proven_reoffending()
    if frame is None:
        return None
    end = pd.Timestamp(frame["cohort_end"].max()).to_period("M").to_timestamp()
    return end, f"{end:%B %Y} (end of the latest offender cohort)"


DATASETS: dict[str, Dataset] = {
    "crime_cris": Dataset(
        "MPS recorded crime, CRIS-era series", datasets.MAIN_CRIME_SOURCES, _month(datasets.recorded_crime)
    ),
    "crime_connect": Dataset(
        "MPS recorded crime, CONNECT-era series",
        datasets.CONNECT_CRIME_SOURCES,
        _month(datasets.recorded_crime_connect),
    ),
    "crime_2020": Dataset(
        "MPS recorded crime as published in July 2020",
        (MPS_BOROUGH_EXTRACT_2020_07,),
        _month(datasets.recorded_crime_extract_2020),
    ),
    "hate_special": Dataset(
        "MPS hate crime and special crime", (datasets.HATE_SPECIAL_SOURCE,), _month(datasets.hate_special_crime)
    ),
    "attitudes": Dataset(
        "MOPAC Public Attitude Survey",
        (MOPAC_PAS,),
        _month(datasets.public_attitudes, "quarter_end", "the 12 months to "),
    ),
    "force_asb": Dataset("ASB incidents by police force (ONS)", (ONS_PFA_ASB,), _financial_year),
    "london_asb_calls": Dataset("London ASB calls (GLA)", (GLA_SOL_ASB_CALLS,), _month(datasets.london_asb_calls)),
    "london_reoffending": Dataset(
        "London proven reoffending rate (GLA)",
        (GLA_SOL_REOFFENDING,),
        _year(datasets.london_reoffending_rate, "{year}"),
    ),
    "population": Dataset(
        "ONS mid-year population estimates", (ONS_POPULATION,), _year(datasets.population, "mid-{year}")
    ),
    "proven_reoffending": Dataset("MoJ proven reoffending", (MOJ_PROVEN_REOFFENDING,), _cohort),
    "asb_incidents": Dataset("police.uk ASB incidents", (POLICEUK_STREET_ASB,), _month(datasets.asb_incidents)),
    "ward_crime": Dataset(
        "MPS recorded crime by ward", tuple(sid for sid, _ in datasets.WARD_SOURCES), _month(datasets.ward_crime)
    ),
}
COLUMNS = ["dataset", "title", "last_month", "last_period", "source_ids"]


def data_through_table(*keys: str) -> pd.DataFrame:
    """The last month (YYYY-MM, empty for a yearly figure) and period in words of each dataset named; datasets not
    provided (optional sources) are left out. An unknown key is an error listing the known ones."""
    unknown = [k for k in keys if k not in DATASETS]
    if unknown:
        raise KeyError(f"unknown dataset(s) {unknown}; known: {', '.join(DATASETS)}")
    rows = []
    for key in dict.fromkeys(keys):
        found = DATASETS[key].last()
        if found is None:
            continue
        month, words = found
        rows.append(
            {
                "dataset": key,
                "title": DATASETS[key].title,
                "last_month": "" if month is None else f"{month:%Y-%m}",
                "last_period": words,
                "source_ids": ";".join(DATASETS[key].source_ids),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def data_through_words(table: pd.DataFrame) -> str:
    """'**Data used, and the last period each reaches:** MPS recorded crime, CRIS-era series: January 2024; ...'"""
    items = [f"{md(r.title)}: {md(r.last_period)}" for r in table.itertuples()]
    return "**Data used, and the last period each reaches:** " + "; ".join(items) + "."


def data_through(output_dir: str | Path, chapter: str, *keys: str) -> None:
    """Show which data a chapter uses and the last period each reaches, and write them to
    ``tables/<NN>-data-through.csv`` for the home page. Returns nothing (no output beside the line shown)."""
    table = data_through_table(*keys)
    number = output_prefix(chapter)
    target = Path(output_dir) / "tables" / f"{number}-data-through.csv"
    atomic_write(target, lambda tmp: table.to_csv(tmp, index=False, encoding="utf-8"))
    display(Markdown(data_through_words(table)))


def read_data_through(run_dir: str | Path) -> pd.DataFrame:
    """Every chapter's data-through table of a run, one row per dataset (COLUMNS), in the order first met."""
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((Path(run_dir) / "tables").glob("*-data-through.csv"))
    ]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True).drop_duplicates("dataset", ignore_index=True)[COLUMNS]
