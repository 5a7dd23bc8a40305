from notify_engine import compose

SIGNATURE = "Agencja Kowalski, tel. 600123456"


def test_shared_greeting_and_signature_once():
    texts = [
        f"Dzień dobry Jan, polisa PK-1 kończy się 13.09.2027. {SIGNATURE}",
        f"Dzień dobry Jan, rata 312,50 zł do 20.09.2027. {SIGNATURE}",
        f"Dzień dobry Jan, przegląd auta WX123 do 15.09.2027. {SIGNATURE}",
    ]
    joined = compose.join(texts)
    assert joined == (
        "Dzień dobry Jan, polisa PK-1 kończy się 13.09.2027. Rata 312,50 zł do 20.09.2027. "
        f"Przegląd auta WX123 do 15.09.2027. {SIGNATURE}"
    )
    assert joined.count("Dzień dobry") == 1
    assert joined.count(SIGNATURE) == 1


def test_texts_without_common_parts_are_kept_whole():
    assert compose.join(["Policy 1 ends.", "Installment 2 due."]) == (
        "Policy 1 ends. Installment 2 due."
    )


def test_one_text_is_itself_and_duplicates_go_once():
    assert compose.join(["Hello Ann, x."]) == "Hello Ann, x."
    assert compose.join(["Hello Ann, x.", "Hello Ann, x."]) == "Hello Ann, x."
    assert compose.join([]) == ""


def test_a_shared_sentence_end_is_no_signature():
    joined = compose.join(["Labas Jonai, polisa baigiasi.", "Labas Jonai, įmoka baigiasi."])
    assert joined == "Labas Jonai, polisa baigiasi. Įmoka baigiasi."


def test_a_decimal_comma_is_no_greeting():
    # The sender's name opens both texts; the amounts share "920," and differ after.
    texts = [
        "Polisa24: faktura FV/5, 920,00 zl do zaplaty do 26.11.2026. Dziekujemy!",
        "Polisa24: faktura FV/5, 920,00 zl do zaplaty do 26.12.2026. Dziekujemy!",
    ]
    assert compose.join(texts) == (
        "Polisa24: faktura FV/5, 920,00 zl do zaplaty do 26.11.2026. "
        "Faktura FV/5, 920,00 zl do zaplaty do 26.12.2026. Dziekujemy!"
    )
