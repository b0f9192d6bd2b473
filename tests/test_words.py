"""The one missing-value test and the one interval wording, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csp_evidence.core.values import is_missing
from csp_evidence.report import words as f


@pytest.mark.parametrize("value", [None, math.nan, np.nan, np.float32("nan"), pd.NA, pd.NaT])
def test_missing_values(value):
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, 0.0, -1.5, "", "text", False, np.int64(3), [math.nan], (1, 2)])
def test_values_that_are_not_missing(value):
    assert not is_missing(value)


def test_words_say_n_a_and_unchanged_for_any_missing_value():
    assert f.pct(np.float32("nan")) == "n/a" and f.pct(pd.NA) == "n/a"
    assert f.moved(None) == "was unchanged" and f.moved(np.nan) == "was unchanged" and f.moved(2.04) == "rose 2.0%"


def test_interval_words_in_every_form():
    assert f.interval_words("above", "moved") == "rose above"
    assert f.interval_words("below", "level") == "fell below the level"
    assert f.interval_words("within", "interval") == "within the 95% interval"
    assert f.interval_words("within", "inside") == "inside"
    assert f.interval_words("below") == "below"
    assert f.interval_words("above", "predicts").endswith(": outside the 95% interval")
    for form, words in f.INTERVAL_WORDS.items():
        assert len(set(words)) == 3, form  # the three sides never read alike
    with pytest.raises(ValueError, match="outside must be one of above, below, within"):
        f.interval_words("beside")
    with pytest.raises(ValueError, match="forms: side"):
        f.interval_words("above", "sideways")
