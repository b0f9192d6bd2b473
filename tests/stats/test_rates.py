import math

import pytest

from csp_evidence.analysis.stats.rates import (
    count_interval,
    rate_per_1000,
)


def test_exact_poisson_interval_below_ten():
    # Exact limits for 0 and 5 events (published tables: 0-3.689, 1.624-11.668).
    assert count_interval(0) == pytest.approx((0.0, 3.6889), abs=1e-3)
    assert count_interval(5) == pytest.approx((1.6235, 11.6683), abs=1e-3)


def test_byar_from_ten():
    o, z = 100, 1.959964
    low = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    high = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    assert count_interval(100) == pytest.approx((low, high), rel=1e-6)
    assert count_interval(100) == pytest.approx((81.36, 121.63), abs=0.01)


def test_rate_per_1000_and_intervals():
    assert rate_per_1000(34693, 305066) == pytest.approx(113.7229, rel=1e-5)
    with pytest.raises(ValueError, match="population"):
        rate_per_1000(1, 0)
