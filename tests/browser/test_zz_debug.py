import time
def test_debug(dash_duo, make_app):
    dash_duo.start_server(make_app(default_dataset="cdnow_sample"))
    for i in range(3):
        time.sleep(10)
        print("T", i*10, repr(dash_duo.find_element("#dataset-summary").text), dash_duo.driver.find_element("tag name","body").text[:300].replace("\n"," | "))
    print(dash_duo.get_logs())
