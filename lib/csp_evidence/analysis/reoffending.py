"""Proven reoffending by cohort: rates with Wilson intervals and the change on the previous cohort.

Works on the tidy table of the MoJ reader (``data.readers.moj``).

``reoffending_rates`` compares each cohort with the cohort of the same length that ends the day before it
starts ('Apr 2019 to Mar 2020' with 'Apr 2018 to Mar 2019'; 'Jan 2020 to Mar 2020' with 'Oct 2019 to Dec 2019');
overlapping cohorts are never compared, and a cohort with no such predecessor gets NaN. The p-value is the
pooled two-proportion z-test, which treats the two cohorts as independent samples; the same person can appear
in consecutive cohorts, so read it as approximate. A cohort with 0 offenders has rate, CI and p-value NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csp_evidence.analysis.stats.proportions import two_proportion_test, wilson_interval
from csp_evidence.data.readers.moj import AGE_GROUPS


def reoffending_rates(tidy: pd.DataFrame, geography: str, age_group: str, category: str | None = None) -> pd.DataFrame:
    """Per cohort: rate, Wilson 95% CI, and change (points, two-proportion p) on the previous same-length cohort."""
    if age_group not in AGE_GROUPS:
        raise ValueError(f"age_group must be one of {AGE_GROUPS}; got {age_group!r}")
    sel = tidy[(tidy["geography"] == geography) & (tidy["age_group"] == age_group)]
    if category is not None:
        sel = sel[sel["category"] == category]
    if sel.empty:
        raise ValueError(f"no rows for geography={geography!r}, age_group={age_group!r}, category={category!r}")
    if sel["category"].nunique() > 1:
        raise ValueError(
            f"geography {geography!r} has several categories {sorted(sel['category'].unique())}; pass category="
        )
    out = sel[
        [
            "geography",
            "category",
            "age_group",
            "cohort",
            "cohort_start",
            "cohort_end",
            "cohort_months",
            "offenders",
            "reoffenders",
            "reoffences",
        ]
    ].copy()
    out = out.sort_values(["cohort_months", "cohort_start"], ascending=[False, True], ignore_index=True)
    has_n = out["offenders"] > 0  # a cohort with no offenders has no rate (NaN), rather than an error
    out["rate"] = np.where(has_n, out["reoffenders"] / out["offenders"].where(has_n, 1), np.nan)
    out["ci_low"] = np.nan
    out["ci_high"] = np.nan
    if has_n.any():
        low, high = wilson_interval(out.loc[has_n, "reoffenders"], out.loc[has_n, "offenders"])
        out.loc[has_n, "ci_low"], out.loc[has_n, "ci_high"] = low, high

    # previous cohort = same length, ending the day before this one starts (so the two do not overlap)
    prev = out[["cohort", "cohort_end", "cohort_months", "offenders", "reoffenders", "rate"]].rename(
        columns={
            "cohort": "previous_cohort",
            "offenders": "previous_offenders",
            "reoffenders": "previous_reoffenders",
            "rate": "previous_rate",
        }
    )
    prev["cohort_start"] = prev.pop("cohort_end") + pd.Timedelta(days=1)
    out = out.merge(prev, on=["cohort_start", "cohort_months"], how="left", validate="one_to_one")
    out["change_pp"] = (out["rate"] - out["previous_rate"]) * 100
    has_prev = out["previous_cohort"].notna() & (out["offenders"] > 0) & (out["previous_offenders"] > 0)
    out["p_value"] = np.nan
    if has_prev.any():
        p = out[has_prev]
        out.loc[has_prev, "p_value"] = np.asarray(
            two_proportion_test(
                p["reoffenders"],
                p["offenders"],
                p["previous_reoffenders"].astype("int64"),
                p["previous_offenders"].astype("int64"),
            ),
            dtype=float,
        )
    reoffences = out.pop("reoffences")
    out = out.drop(columns=["previous_offenders", "previous_reoffenders"])
    out["reoffences"] = reoffences
    has_r = out["reoffenders"] > 0
    out["per_reoffender"] = np.where(has_r, reoffences / out["reoffenders"].where(has_r, 1), np.nan)
    return out


def change_since(rates: pd.DataFrame, base_cohort: str) -> pd.DataFrame:
    """Each later cohort of the same length against `base_cohort` (e.g. the last before the pandemic): rate,
    base rate, change in points and the pooled two-proportion p-value (cohorts treated as independent).

    `rates` is one geography and age group from `reoffending_rates`; a missing base cohort is an error naming
    the cohorts present."""
    if base_cohort not in set(rates["cohort"]):
        raise ValueError(f"no cohort {base_cohort!r}; cohorts: {', '.join(rates['cohort'])}")
    base = rates[rates["cohort"] == base_cohort].iloc[0]
    later = rates[(rates["cohort_months"] == base["cohort_months"]) & (rates["cohort_start"] > base["cohort_start"])]
    out = later[["geography", "age_group", "cohort", "offenders", "reoffenders", "rate"]].copy()
    out["base_cohort"] = base_cohort
    out["base_rate"] = base["rate"]
    out["change_pp"] = (out["rate"] - base["rate"]) * 100
    out["p_value"] = np.nan
    if len(out) and base["offenders"] > 0:
        ok = out["offenders"] > 0
        out.loc[ok, "p_value"] = np.asarray(
            two_proportion_test(
                out.loc[ok, "reoffenders"], out.loc[ok, "offenders"], int(base["reoffenders"]), int(base["offenders"])
            ),
            dtype=float,
        )
    return out.reset_index(drop=True)
