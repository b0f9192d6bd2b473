"""A CSP plan's knowledge, from the reviewed, committed files in data/plan/ (two per plan):

- ``<plan>.csv``: the figures the plan quotes, one row each, citing the plan's section and words, and naming the
  pack's measure each figure quotes (``measure``), so the plan audit and the chapters can set the plan's value
  beside the value recomputed from the locked data;
- ``<plan>.yml``: what else the plan sets: its public confidence target, the names it uses (its drug operation).

A borough with no plan files has no plan figures; for its settings the pack falls back to the reference plan
(``REFERENCE_BOROUGH``'s), and says whose they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from csp_evidence.core.paths import plan_dir

COLUMNS = ["borough", "figure_id", "description", "plan_value", "unit", "period", "plan_section", "plan_quote"]
REFERENCE_BOROUGH = "Tower Hamlets"  # the plan the pack was built around


class PlanFileError(ValueError):
    """A plan file in data/plan/ is malformed; the message names the file and what is wrong."""


def plan_files() -> list[Path]:
    """Every file a plan's knowledge is read from (the figure tables and the settings), in a stable order: what
    a run's notebooks depend on besides the data and the code."""
    return sorted([*plan_dir().glob("*.csv"), *plan_dir().glob("*.yml")])


def plan_figures(borough: str) -> pd.DataFrame:
    """The plan figures quoted for a borough, indexed by figure_id (empty when no plan table names it).

    Columns: COLUMNS, ``measure`` (the pack's measure the figure quotes; empty when none) and ``plan_file``.
    """
    frames = []
    for path in sorted(plan_dir().glob("*.csv")):
        table = pd.read_csv(
            path, dtype={"plan_value": float, "measure": str}, keep_default_na=False, na_values={"plan_value": [""]}
        )
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise PlanFileError(f"{path}: plan table lacks column(s) {missing}")
        if table["figure_id"].duplicated().any():
            raise PlanFileError(
                f"{path}: figure_id {table.loc[table['figure_id'].duplicated(), 'figure_id'].iloc[0]!r} repeated"
            )
        if "measure" not in table.columns:
            table["measure"] = ""
        table["plan_file"] = path.name
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "measure", "plan_file"]).set_index("figure_id")
    table = pd.concat(frames, ignore_index=True)
    return table[table["borough"] == borough].set_index("figure_id")


@dataclass(frozen=True)
class ConfidenceTarget:
    """A plan's target for a Public Attitude Survey measure: `uplift_points` above the baseline quarter's value
    by the end quarter. `borough` names whose plan set it."""

    borough: str
    measure: str
    baseline_quarter: str
    end_quarter: str
    uplift_points: float


def plan_settings(borough: str) -> dict:
    """The settings of the plan of `borough` (its ``.yml`` in data/plan/), else the reference plan's."""
    found = {}
    for path in sorted(plan_dir().glob("*.yml")):
        try:
            settings = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise PlanFileError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(settings, dict) or not isinstance(settings.get("borough"), str):
            raise PlanFileError(f"{path}: a plan settings file is a mapping with a `borough` name")
        found[settings["borough"]] = settings
    return found.get(borough) or found.get(REFERENCE_BOROUGH, {})


def confidence_target(borough: str) -> ConfidenceTarget:
    """The public confidence target of the borough's plan (or the reference plan's)."""
    settings = plan_settings(borough)
    target = settings.get("confidence_target")
    if not isinstance(target, dict):
        raise PlanFileError(f"no plan in {plan_dir()} sets a confidence_target (measure, quarters, uplift_points)")
    try:
        return ConfidenceTarget(
            settings["borough"],
            str(target["measure"]),
            str(target["baseline_quarter"]),
            str(target["end_quarter"]),
            float(target["uplift_points"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"the confidence_target of {settings['borough']}'s plan is incomplete ({exc})") from None


def drug_operation(borough: str) -> str | None:
    """The drug operation the borough's own plan credits with enforcement, or None."""
    settings = plan_settings(borough)
    return settings.get("drug_operation") if settings.get("borough") == borough else None


def plan_years(borough: str) -> tuple[str, ...]:
    """The financial years the borough's plan (or the reference plan) runs over, in order, e.g. 2021/22 to 2023/24."""
    settings = plan_settings(borough)
    years = settings.get("plan_years")
    if not isinstance(years, list) or not years or not all(isinstance(y, str) for y in years):
        raise PlanFileError(
            f"the plan settings of {settings.get('borough', borough)!r} in {plan_dir()} need plan_years: a list of "
            "financial years like ['2021/22', '2022/23', '2023/24']"
        )
    return tuple(years)
