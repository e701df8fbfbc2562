import pandas as pd

from analytics.cleaning import clean
from components.quality import quality_report


def _text(component) -> str:
    """All text in a Dash component tree."""
    if isinstance(component, (str, int, float)):
        return str(component)
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, (list, tuple)):
        children = [children]
    return " ".join(_text(c) for c in children if c is not None)


def test_report_shows_each_rule_and_the_excluded_customers():
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", None],
            "invoice_id": ["1", "1", "2", "C2", "3"],
            "invoice_date": pd.to_datetime(["2021-01-01", "2021-01-01", "2021-01-02", "2021-01-03", "2021-01-04"]),
            "quantity": [2.0, 2.0, 1.0, -1.0, 1.0],
            "unit_price": [5.0, 5.0, 8.0, 8.0, 3.0],
        }
    )
    report = clean(lines).report.to_dict()
    text = _text(quality_report(report, "shop.csv"))
    assert "Source: shop.csv" in text
    for rule in report["rules"]:
        assert rule["rule"].replace("_", " ") in text
    assert "1 customers have a net value of zero or less" in text and "b" in text  # b returned everything
