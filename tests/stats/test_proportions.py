"""Tests for Wilson intervals and the two-proportion test, checked against the textbook formulas by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hand_stats import Z95, wilson_by_hand, ztest_by_hand  # noqa: E402

from csp_evidence.analysis.stats.proportions import two_proportion_test, wilson_interval


def test_wilson_26_of_100():
    low, high = wilson_interval(26, 100)
    assert isinstance(low, float) and isinstance(high, float)
    assert (low, high) == pytest.approx(wilson_by_hand(26, 100), abs=1e-12)
    # 0.1840 and 0.3537 to 4 d.p. (the brief's "≈ (0.1836, 0.3549)" is not the Wilson interval)
    assert round(low, 4) == 0.1840 and round(high, 4) == 0.3537


@pytest.mark.parametrize("x, n", [(1, 10), (50, 100), (325, 1250), (999, 1000)])
def test_wilson_matches_formula(x, n):
    assert wilson_interval(x, n) == pytest.approx(wilson_by_hand(x, n), abs=1e-12)


def test_wilson_other_level():
    z90 = 1.6448536269514722
    assert wilson_interval(26, 100, level=0.90) == pytest.approx(wilson_by_hand(26, 100, z90), abs=1e-12)


def test_wilson_zero_and_all_successes():
    low, high = wilson_interval(0, 20)
    assert low == 0.0
    assert high == pytest.approx(Z95**2 / (20 + Z95**2), abs=1e-12)  # the formula with p = 0
    low, high = wilson_interval(20, 20)
    assert high == 1.0
    assert low == pytest.approx(20 / (20 + Z95**2), abs=1e-12)


def test_wilson_vectorised_array_and_series():
    x = np.array([0, 26, 325])
    n = np.array([20, 100, 1250])
    low, high = wilson_interval(x, n)
    assert isinstance(low, np.ndarray) and low.shape == (3,)
    for i in range(3):
        assert (low[i], high[i]) == pytest.approx(wilson_by_hand(int(x[i]), int(n[i])), abs=1e-12)
    s_low, s_high = wilson_interval(pd.Series(x, index=list("abc")), pd.Series(n, index=list("abc")))
    assert isinstance(s_low, pd.Series) and list(s_low.index) == ["a", "b", "c"]
    np.testing.assert_allclose(s_low.to_numpy(), low)
    np.testing.assert_allclose(s_high.to_numpy(), high)


def test_wilson_broadcasts_scalar_trials():
    low, high = wilson_interval(np.array([10, 20]), 100)
    assert low.shape == (2,)
    assert (low[1], high[1]) == pytest.approx(wilson_by_hand(20, 100), abs=1e-12)


def test_wilson_n_zero_raises_naming_trials():
    with pytest.raises(ValueError, match="trials"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="trials"):
        wilson_interval(np.array([1, 0]), np.array([10, 0]))


@pytest.mark.parametrize(
    "x, n, name",
    [
        (-1, 10, "successes"),
        (11, 10, "successes"),
        (1, -10, "trials"),
        (1.5, 10, "successes"),
        (np.nan, 10, "successes"),
    ],
)
def test_wilson_bad_inputs_name_the_argument(x, n, name):
    with pytest.raises(ValueError, match=name):
        wilson_interval(x, n)


def test_wilson_bad_level():
    with pytest.raises(ValueError, match="level"):
        wilson_interval(1, 10, level=95)


def test_two_proportion_test_by_hand():
    assert two_proportion_test(26, 100, 40, 100) == pytest.approx(ztest_by_hand(26, 100, 40, 100), rel=1e-9)
    assert two_proportion_test(325, 1250, 378, 1400) == pytest.approx(ztest_by_hand(325, 1250, 378, 1400), rel=1e-9)
    # symmetric, and equal proportions give p = 1
    assert two_proportion_test(40, 100, 26, 100) == pytest.approx(two_proportion_test(26, 100, 40, 100))
    assert two_proportion_test(10, 100, 20, 200) == pytest.approx(1.0)


def test_two_proportion_test_zero_successes():
    # one group with none: still a valid test
    assert two_proportion_test(0, 50, 10, 50) == pytest.approx(ztest_by_hand(0, 50, 10, 50), rel=1e-9)
    # both groups with none (or all): no evidence of a difference, p = 1 rather than NaN
    assert two_proportion_test(0, 50, 0, 80) == 1.0
    assert two_proportion_test(50, 50, 80, 80) == 1.0


def test_two_proportion_test_vectorised():
    p = two_proportion_test(np.array([26, 0]), np.array([100, 50]), np.array([40, 10]), np.array([100, 50]))
    assert isinstance(p, np.ndarray)
    assert p == pytest.approx([ztest_by_hand(26, 100, 40, 100), ztest_by_hand(0, 50, 10, 50)], rel=1e-9)
    s = two_proportion_test(pd.Series([26], index=["x"]), 100, 40, 100)
    assert isinstance(s, pd.Series) and s.index.tolist() == ["x"]


@pytest.mark.parametrize(
    "args, name",
    [((1, 0, 1, 10), "n1"), ((1, 10, 1, 0), "n2"), ((11, 10, 1, 10), "x1"), ((1, 10, -1, 10), "x2")],
)
def test_two_proportion_test_bad_inputs_name_the_argument(args, name):
    with pytest.raises(ValueError, match=name):
        two_proportion_test(*args)
