"""What a run's manifest keys on: the inputs that make a notebook run again when they change."""


def test_the_plan_settings_are_inputs_of_every_notebook(tmp_path, monkeypatch):
    # a plan's settings file (its confidence target, say) changes what chapters say: the notebooks run again
    from csp_evidence.runner.manifest import inputs_key

    (tmp_path / "data" / "plan").mkdir(parents=True)
    (tmp_path / "data" / "sources.lock").write_text("{}")
    settings = tmp_path / "data" / "plan" / "x-plan.yml"
    settings.write_text("borough: X\nconfidence_target: {uplift_points: 5}\n")
    monkeypatch.setenv("CSP_PROJECT_DIR", str(tmp_path))
    before = inputs_key()
    settings.write_text("borough: X\nconfidence_target: {uplift_points: 10}\n")
    assert inputs_key() != before
