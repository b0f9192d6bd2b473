"""A failed borough's error on the London page and in its CSV holds no machine path: the folder it is kept in is
given relative to the page, any other path by its name."""

from published_scan import published_problems

from csp_evidence.runner.batch import BoroughOutcome, write_london_index


def test_a_failed_boroughs_error_puts_no_machine_path_on_the_london_page(tmp_path):
    outputs = tmp_path / "outputs"
    error = (
        "RunError: run 'sutton': notebook 00_overview.ipynb failed in cell 3 (ValueError: planted failure)\n"
        f"The partly executed run is kept in {outputs}/failed/sutton-20260101T000000Z; {outputs}/sutton is "
        "unchanged. Params /home/analyst/csp/params/sutton.yml, log file:///var/tmp/csp/run.log"
    )
    outcomes = [BoroughOutcome("sutton", "Sutton", "failed", error=error)]
    index = write_london_index(outputs, outcomes)
    assert published_problems(index.parent) == []
    for name in ("index.html", "london-boroughs.csv"):
        text = (index.parent / name).read_text(encoding="utf-8")
        assert str(tmp_path) not in text and "file:" not in text
        assert "kept in ../failed/sutton-20260101T000000Z; ../sutton is unchanged" in text
        assert "Params …/sutton.yml, log …/run.log" in text
