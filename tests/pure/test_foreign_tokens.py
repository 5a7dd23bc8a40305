from notify_engine import foreign_tokens


def test_tokens_of_other_programs_are_found_in_order():
    text = "Dzień dobry [%1%], polisa {1} {{1}} %s <<imie>> <NR_POLISY> %(kwota)s %1 %NAZWA%"
    assert foreign_tokens.find(text) == [
        "[%1%]",
        "{1}",
        "{{1}}",
        "%s",
        "<<imie>>",
        "<NR_POLISY>",
        "%(kwota)s",
        "%1",
        "%NAZWA%",
    ]


def test_our_placeholders_and_plain_text_are_not_tokens():
    text = (
        "Polisa {{ object.name }} kończy się {{ format_date(object.date_end) }}; "
        "rabat 10% do 15 grudnia, składka {{ format_amount(object.premium_amount, "
        "object.currency_id) }} — 100 %."
    )
    assert foreign_tokens.find(text) == []
    assert foreign_tokens.find("") == []
    assert foreign_tokens.find("{1} i {1}") == ["{1}"]
