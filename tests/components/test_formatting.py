from components.formatting import count, money, percent


def test_money_abbreviates_and_never_shows_minus_zero():
    assert money(9_747_747.93) == "9.75M"
    assert money(21_740.98) == "21.7k"
    assert money(-4.2) == "-4"
    assert money(-0.3) == "0"
    assert money(float("nan")) == "–"


def test_counts_and_percentages():
    assert count(541909) == "541,909"
    assert percent(0.4812) == "48.1 %"
