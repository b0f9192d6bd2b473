"""The notebooks' check cells: figures against reference values with a stated tolerance, one stable line."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from csp_evidence.core.params import load_params
from csp_evidence.report.checks import REFERENCE_PARAMS, check_figures, reference_run

FIGURES = {
    "year": "2020/21",
    "observed": np.int64(473),
    "expected": 176.0,
    "lower": 133.0,
    "upper": 233.0,
    "outside": "above",
    "note": "",
}
REFERENCE = {"year": "2020/21", "observed": 473, "expected": 176, "lower": 133, "upper": 233, "outside": "above"}
REL = {"expected": 0.01, "lower": 0.01, "upper": 0.01}


def test_agreeing_figures_give_one_line_that_states_the_tolerances():
    assert check_figures("Tower Hamlets Drug trafficking", FIGURES, REFERENCE, rel=REL) == (
        "Tower Hamlets Drug trafficking: 6 figures agree with the reference "
        "(expected, lower, upper within 1%, the rest exactly)"
    )
    assert check_figures("x", {"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}).endswith("(all exactly)")
    assert check_figures("x", {"a": 1.005}, {"a": 1}, rel={"a": 0.01}).endswith("(a within 1%)")


def test_the_line_does_not_change_within_the_tolerance():
    # one unit in the third significant figure, as another machine's rounding could give
    moved = FIGURES | {"expected": 177.0, "lower": 134.0, "upper": 232.0}
    assert check_figures("x", moved, REFERENCE, rel=REL) == check_figures("x", FIGURES, REFERENCE, rel=REL)


@pytest.mark.parametrize(
    "change, named",
    [
        ({"upper": 240.0}, "upper: 240.0, reference 233 (within 1%)"),  # a real change in a limit (3%)
        ({"observed": np.int64(474)}, "observed: 474, reference 473 (exactly)"),  # counts are exact
        ({"outside": "within"}, "outside: 'within', reference 'above' (exactly)"),
        ({"expected": float("nan")}, "expected: nan, reference 176 (within 1%)"),
    ],
)
def test_a_real_change_fails_and_is_named(change, named):
    with pytest.raises(AssertionError, match="Drug trafficking: 1 of 6 figures differ") as info:
        check_figures("Drug trafficking", FIGURES | change, REFERENCE, rel=REL)
    assert named in str(info.value)


def test_missing_figures_and_unknown_tolerances_are_errors():
    with pytest.raises(AssertionError, match="extra: missing"):
        check_figures("x", FIGURES, REFERENCE | {"extra": 1})
    with pytest.raises(ValueError, match="rel names figures with no reference value: spread"):
        check_figures("x", FIGURES, REFERENCE, rel={"spread": 0.1})


def test_no_reference_is_not_checked_and_says_so():
    assert check_figures("Hackney Theft", {}, None) == (
        "Hackney Theft: not checked (the reference figures are for the default params)"
    )


def test_pandas_rows_and_missing_values():
    row = pd.Series({"count": 34693, "rank": 7, "rate": math.nan})
    assert check_figures("x", row, {"count": 34693, "rank": 7, "rate": None}).startswith("x: 3 figures agree")


def test_reference_params_are_the_default_params_file():
    params = load_params(ROOT / "params" / "tower-hamlets.yml")
    assert REFERENCE_PARAMS == {k: getattr(params, k) for k in REFERENCE_PARAMS}
    assert reference_run(borough="Tower Hamlets", covid_start="2020-03")
    assert not reference_run(borough="Hackney", headline_year="2019/20")
    with pytest.raises(ValueError, match="no reference value for colour"):
        reference_run(colour="blue")
