"""Figures a CSP plan quotes, from the reviewed, committed table in data/plan/ (one CSV per plan).

Each row cites the plan's section and words, so the plan audit can set the plan's value beside the value
recomputed from the locked data. A borough with no plan table simply has no plan figures.
"""

from __future__ import annotations

import pandas as pd

from csp_evidence.core.paths import plan_dir

COLUMNS = ["borough", "figure_id", "description", "plan_value", "unit", "period", "plan_section", "plan_quote"]


def plan_figures(borough: str) -> pd.DataFrame:
    """The plan figures quoted for a borough, indexed by figure_id (empty when no plan table names it)."""
    frames = []
    for path in sorted((plan_dir()).glob("*.csv")):
        table = pd.read_csv(path, dtype={"plan_value": float})
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise ValueError(f"{path}: plan table lacks column(s) {missing}")
        if table["figure_id"].duplicated().any():
            raise ValueError(
                f"{path}: figure_id {table.loc[table['figure_id'].duplicated(), 'figure_id'].iloc[0]!r} repeated"
            )
        table["plan_file"] = path.name
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "plan_file"]).set_index("figure_id")
    table = pd.concat(frames, ignore_index=True)
    return table[table["borough"] == borough].set_index("figure_id")
