"""The page scan finds what must never reach a page (and passes a clean one)."""

import pytest
from site_scan import page_problems


def _page(tmp_path, body):
    path = tmp_path / "page.html"
    path.write_text(f"<html><head><script>var x = None;</script></head><body>{body}</body></html>", encoding="utf-8")
    return path


def test_a_clean_page_has_no_problems(tmp_path):
    body = "<h2>Change</h2><p>3,171 offences in 2019/20, +2.3% (Nonesuch Road).</p><h2>Chart</h2><img src='a.png'>"
    assert page_problems(_page(tmp_path, body)) == []


@pytest.mark.parametrize(
    "body, found",
    [
        ("<pre>PosixPath('x.json')</pre>", "Python repr"),
        ("<p>&lt;Figure size 1000x520 with 1 Axes&gt;</p>", "Python repr"),
        ("<p>see /work/main/outputs/x</p>", "machine path"),
        ("<pre>Traceback (most recent call last):</pre>", "traceback"),
        ("<td>nan</td>", "missing value"),
        ("<p>the rate was None</p>", "missing value"),
        ("<h2>London comparison</h2><h2>Next</h2><p>text</p>", "empty section 'London comparison'"),
    ],
)
def test_the_scan_finds_what_must_not_reach_a_page(tmp_path, body, found):
    assert any(found in p for p in page_problems(_page(tmp_path, body)))
