"""Typed headline figures: a chapter's Headlines dataclass writes the JSON the pack has always had, and a pack's
headlines are read once, back into the same objects."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from csp_evidence.core.paths import notebooks_dir
from csp_evidence.report.headlines import (
    Headlines,
    HeadlinesError,
    NeighbourhoodHeadlines,
    OverviewHeadlines,
    PackHeadlines,
    read_headlines,
    write_headlines,
)
from csp_evidence.report.key_points import KeyPoint, KeyPointError

POINTS = (
    KeyPoint("Theft fell by a third in the first pandemic year.", "the-covid-19-pandemic"),
    KeyPoint("Robbery rose by 4% on the year before.", "change-on-the-previous-year"),
    KeyPoint("The borough had the 7th highest rate in London.", "london-comparison"),
)


@dataclass(frozen=True)
class Sample(Headlines):
    CHAPTER: ClassVar[str] = "07_sample"

    borough: str
    key_points: Sequence[KeyPoint]
    total: int
    rate: float | None
    by_year: dict


def sample(**changes) -> Sample:
    args = {
        "borough": "Tower Hamlets",
        "key_points": POINTS,
        "total": np.int64(34661),
        "rate": np.float64(float("nan")),
        "by_year": {"2019/20": np.float64(111.5)},
    }
    return Sample(**(args | changes))


def test_the_json_has_the_fields_in_order_as_plain_values(tmp_path):
    sample().write(tmp_path)
    text = (tmp_path / "notebooks" / "07_sample.json").read_text(encoding="utf-8")
    figures = json.loads(text)
    assert list(figures) == ["borough", "key_points", "total", "rate", "by_year"]
    assert figures["total"] == 34661 and figures["rate"] is None and figures["by_year"] == {"2019/20": 111.5}
    assert figures["key_points"][0] == {"text": POINTS[0].text, "anchor": POINTS[0].anchor}


def test_the_json_is_byte_for_byte_what_the_dict_form_writes(tmp_path):
    sample().write(tmp_path / "typed")
    as_dict = {
        "borough": "Tower Hamlets",
        "key_points": [p.as_dict() for p in POINTS],
        "total": 34661,
        "rate": float("nan"),
        "by_year": {"2019/20": 111.5},
    }
    write_headlines(tmp_path / "dict", "07_sample", as_dict)
    typed = (tmp_path / "typed" / "notebooks" / "07_sample.json").read_bytes()
    assert typed == (tmp_path / "dict" / "notebooks" / "07_sample.json").read_bytes()


def test_key_points_that_break_the_rule_are_not_saved(tmp_path):
    with pytest.raises(KeyPointError):
        sample(key_points=POINTS[:2]).write(tmp_path)
    assert not (tmp_path / "notebooks" / "07_sample.json").exists()


def test_a_headlines_class_without_a_chapter_is_refused(tmp_path):
    @dataclass(frozen=True)
    class Nameless(Headlines):
        total: int

    with pytest.raises(HeadlinesError, match="Nameless names no CHAPTER"):
        Nameless(3).write(tmp_path)


def test_a_pack_is_read_once_and_each_chapter_comes_back_as_written(tmp_path):
    sample().write(tmp_path)
    write_headlines(tmp_path, "02_hate_crime", {"strands": {}})
    pack = PackHeadlines.load(tmp_path)
    assert list(pack.chapters) == ["02_hate_crime", "07_sample"]
    assert pack["07_sample"] == read_headlines(tmp_path, "07_sample")
    assert pack["03_reoffending"] == {}  # a chapter that did not run
    (tmp_path / "notebooks" / "07_sample.json").unlink()
    assert pack["07_sample"]["total"] == 34661  # loaded once: the pages read the object, not the files


def test_typed_read_back_gives_the_same_figures_and_none_for_an_older_pack(tmp_path):
    sample(rate=2.5).write(tmp_path)
    write_headlines(tmp_path, "00_overview", {"borough": "Hackney", "headline_year": "2019/20"})
    pack = PackHeadlines.load(tmp_path)
    back = pack.typed(Sample)
    assert back == Sample("Tower Hamlets", POINTS, 34661, 2.5, {"2019/20": 111.5})
    assert pack.typed(OverviewHeadlines) is None  # fields missing: an older pack
    assert pack.typed(NeighbourhoodHeadlines) is None  # not written at all
    assert pack.key_points("07_sample") == [p.as_dict() for p in POINTS]


def test_a_headline_file_that_is_not_json_is_an_error_naming_it(tmp_path):
    path = tmp_path / "notebooks" / "01_asb_neighbourhood.json"
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(HeadlinesError, match="01_asb_neighbourhood.json"):
        PackHeadlines.load(tmp_path)


@pytest.mark.parametrize("kind", [OverviewHeadlines, NeighbourhoodHeadlines])
def test_each_chapter_class_names_its_notebook(kind):
    assert (notebooks_dir() / f"{kind.CHAPTER}.ipynb").is_file()
