"""Hostile or oversized uploads, as a person (or a tester at the browser console) would try them."""

from tests.browser.conftest import console_errors, open_app, switch_tab

FORGED = {"sha256": "../../../../etc", "filename": "passwd", "ready": True}


def test_forged_upload_token_gets_a_message_and_reads_nothing(dash_duo, make_app):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Data")
    summary = dash_duo.find_element("#dataset-summary").text
    for token in (FORGED, {"upload_id": "../../../../etc/passwd", "filename": "passwd"}):
        dash_duo.driver.execute_script("window.dash_clientside.set_props('upload-store', {data: arguments[0]})",
                                       token)
        dash_duo.wait_for_contains_text("#run-error", "upload reference is not valid", timeout=60)
        assert "root" not in dash_duo.find_element("#run-error").text
        assert dash_duo.find_element("#dataset-summary").text == summary
        dash_duo.driver.execute_script("window.dash_clientside.set_props('run-error', {children: null})")
    assert console_errors(dash_duo) == []


def test_a_file_over_the_limit_is_refused_in_the_browser_with_the_stated_limit(dash_duo, make_app, tmp_path):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample", upload_limit_mb=1))
    switch_tab(dash_duo, "Data")
    assert "up to 1 MB" in dash_duo.find_element("#upload-limit").text
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,b\n" + b"1,2\n" * 300_000)  # 1.1 MB
    dash_duo.find_element("#upload input[type=file]").send_keys(str(big))
    dash_duo.wait_for_contains_text("#upload-error", "big.csv is 1.1 MB; the limit is 1 MB", timeout=10)
    assert dash_duo.find_element("#upload-name").text == ""  # nothing was sent
    assert console_errors(dash_duo) == []


def test_the_same_bytes_under_another_name_show_that_name(dash_duo, make_app, tmp_path):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Data")
    rows = ["InvoiceNo,InvoiceDate,CustomerID,Quantity,UnitPrice"]
    rows += [f"{i},2023-{1 + i % 12:02d}-{1 + i % 28:02d},{i % 60},1,{2 + i % 5}.5" for i in range(600)]
    for name in ("first.csv", "second name.csv"):
        path = tmp_path / name
        path.write_text("\n".join(rows) + "\n")
        dash_duo.find_element("#upload input[type=file]").send_keys(str(path))
        dash_duo.wait_for_contains_text("#dataset-summary", name, timeout=120)
    assert console_errors(dash_duo) == []
