"""Tests for the plan comparator: the verdict rule on hand examples, the plan rows it reads, and recomputing any row."""

from __future__ import annotations

import math

import pytest

from csp_evidence.analysis import plan_audit
from csp_evidence.data.plan import KINDS

# --------------------------------------------------------------------------- the verdict rule, by hand


@pytest.mark.parametrize("value, decimals", [(-3.0, 0), (-1.4, 1), (-0.13, 2), (34657.0, 0), (14.5, 1)])
def test_quoted_decimals(value, decimals):
    assert plan_audit.quoted_decimals(value) == decimals


@pytest.mark.parametrize(
    "plan, value, unit, expected",
    [
        (-3, -2.7, "per cent change", "matches"),  # -2.7 rounds to -3, the plan's precision
        (-3, -3.49, "per cent change", "matches"),
        (-3, -3.6, "per cent change", "within revision"),  # rounds to -4: 0.6 points, inside 1 point
        (-3, -4.1, "per cent change", "differs"),  # 1.1 points, no counts given: tolerance 1 point
        (-0.13, -0.134, "per cent change", "matches"),  # quoted to 2 dp: within 0.005
        (-0.13, 0.09, "per cent change", "within revision"),
        (83, 83.4, "per cent", "matches"),
        (83, 84.0, "per cent", "within revision"),
        (83, 84.6, "per cent", "differs"),
        (7, 7, "rank", "matches"),
        (7, 8, "rank", "within revision"),
        (7, 9, "rank", "differs"),
        (34657, 34657, "offences", "matches"),
        (34657, 34693, "offences", "within revision"),  # 36 offences, under 1% (346.57)
        (34657, 35100, "offences", "differs"),  # 443 offences, over 1%
        (100, 109, "offences", "within revision"),  # small counts: 10 offences allowed
        (100, 111, "offences", "differs"),
        (331620, 306780, "residents", "differs"),
        (331620, 330000, "residents", "within revision"),
    ],
)
def test_verdict_by_hand(plan, value, unit, expected):
    assert plan_audit.verdict(plan, value, unit) == expected


def test_percentage_change_tolerance_grows_for_small_counts():
    # 97 against 130: revising 97 by the 10-offence allowance moves the change by 100 * 10 / 130 = 7.69 points
    assert plan_audit.tolerance(-24, "per cent change", (130, 97)) == pytest.approx(100 * 10 / 130)
    assert plan_audit.verdict(-24, -25.38, "per cent change", counts=(130, 97)) == "within revision"
    assert plan_audit.verdict(-24, -25.38, "per cent change") == "differs"
    # large counts: 1% of 34,693 over 34,663 is about 1 point, no less than the 1-point floor
    assert plan_audit.tolerance(-0.13, "per cent change", (34663, 34693)) == pytest.approx(100 * 346.93 / 34663)


def test_first_published_value_can_make_a_difference_a_revision():
    assert plan_audit.verdict(34657, 36000, "offences") == "differs"
    assert plan_audit.verdict(34657, 36000, "offences", first_published=34661) == "within revision"
    assert plan_audit.verdict(7, 9, "rank", first_published=7) == "within revision"


def test_missing_data_no_plan_value_and_bad_unit():
    assert plan_audit.verdict(26, None, "per cent", missing="MoJ file") == "cannot be checked: MoJ file"
    assert plan_audit.verdict(-1.4, -0.5, "per cent change", missing="strand file") == "cannot be checked: strand file"
    assert plan_audit.verdict(None, 5.0, "per cent change") == "no plan value"
    assert plan_audit.verdict(math.nan, 5.0, "per cent change") == "no plan value"
    assert plan_audit.verdict(5.0, math.nan, "per cent change").startswith("cannot be checked")
    with pytest.raises(ValueError, match="units: offences"):
        plan_audit.verdict(1, 1, "furlongs")


def test_figure_ids_unique_and_known():
    figures = plan_audit.figures("Tower Hamlets")
    ids = [fig.figure_id for fig in figures]
    assert len(ids) == len(set(ids))
    assert all(fig.unit in plan_audit.UNITS for fig in figures)
    with pytest.raises(KeyError, match="figures: total_offences_2019_20"):
        plan_audit.figure("Tower Hamlets", "no_such_figure")


def test_every_kind_has_a_recompute_function_and_a_unit():
    assert set(plan_audit.RECOMPUTE) == set(KINDS)
    assert {unit for unit, _ in KINDS.values()} <= set(plan_audit.UNITS)


# --------------------------------------------------------------------------- a plan row's reading of its period


@pytest.mark.parametrize(
    "period, expected",
    [
        ("2020/21 on 2019/20", ("2020/21", True)),
        ("previous year (not stated; read as 2019/20 on 2018/19)", ("2019/20", False)),
        ("previous year (not stated)", (None, False)),
        ("2020/21 on 2018/19", (None, False)),  # not consecutive years
    ],
)
def test_plan_year(period, expected):
    # The year is the row's `reading` now, not parsed from the plan's words; whether the plan states it still is.
    year, stated = expected
    fig = plan_audit.Figure("f", "F", "change", "Rape", year or "2019/20", (), "mps_borough_historical", period=period)
    assert fig.stated is stated
