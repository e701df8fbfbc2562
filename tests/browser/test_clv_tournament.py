"""The CLV tournament as a person meets it: the evidence table says who won and why; the Data tab's CLV model
dropdown overrides the winner, and the evidence tab then says the model was chosen by hand."""

from dash.testing.wait import until

from tests.browser.conftest import LOAD_TIMEOUT_S, click, console_errors, open_app, switch_tab


def test_evidence_table_then_override_the_clv_model(dash_duo, make_app):
    # the first run computes every model, the tournament included (slow on a loaded machine)
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"), timeout=2 * LOAD_TIMEOUT_S)
    switch_tab(dash_duo, "Methodology & evidence")
    dash_duo.wait_for_contains_text("#evidence-tournament", "has the best mean rank", timeout=60)
    panel = dash_duo.find_element("#evidence-tournament").text
    for label in ("BG/NBD", "MBG/NBD", "Pareto/NBD", "Gradient boosting (backtest)", "Naive rate", "Coverage of the 80 % interval"):
        assert label in panel
    assert "the tournament's winner" in panel
    # one line per candidate that could run, plus the actual
    until(lambda: len(dash_duo.find_elements("#evidence-tournament-tracking .scatterlayer .trace")) >= 5,
          timeout=30)

    switch_tab(dash_duo, "Data")
    dash_duo.select_dcc_dropdown("#param-clv-model", value="Naive rate")
    click(dash_duo, "#run-button")
    until(lambda: dash_duo.find_element("#cancel-button").is_enabled(), timeout=20)
    until(lambda: not dash_duo.find_element("#cancel-button").is_enabled(), timeout=LOAD_TIMEOUT_S)
    assert dash_duo.find_element("#run-error").text == ""
    switch_tab(dash_duo, "Methodology & evidence")
    dash_duo.wait_for_contains_text("#evidence-tournament", "Naive rate, chosen on the Data tab", timeout=60)
    assert console_errors(dash_duo) == []
