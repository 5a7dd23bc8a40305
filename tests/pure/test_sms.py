import dataclasses

import pytest

from notify_engine import sms
from notify_engine.sms import GSM7, UCS2, analyze, max_chars, transliterate

REFERENCE_TABLE = {
    1: (160, 70),
    2: (306, 134),
    3: (459, 201),
    4: (612, 268),
    5: (765, 335),
    10: (1530, 670),
}

RENEWAL_SMS = (
    "Szanowna Pani Małgorzato, polisa OC/AC pojazdu WX 12345 wygasa 15.03.2025. "
    "Zapraszamy do odnowienia ubezpieczenia – ofertę przygotował Pani agent: "
    "Łukasz Żółkiewski, tel. 600 123 456. Dziękujemy!"
)


@pytest.mark.parametrize("parts", sorted(REFERENCE_TABLE))
def test_max_chars_matches_the_reference_table(parts):
    assert (max_chars(parts, GSM7), max_chars(parts, UCS2)) == REFERENCE_TABLE[parts]


@pytest.mark.parametrize("parts", range(1, 11))
@pytest.mark.parametrize(("encoding", "char"), [(GSM7, "a"), (UCS2, "ą")])
def test_text_filling_n_parts_exactly_is_n_parts_and_one_more_char_is_n_plus_one(
    parts, encoding, char
):
    full = analyze(char * max_chars(parts, encoding))
    assert (full.encoding, full.parts) == (encoding, parts)
    assert full.units == max_chars(parts, encoding)
    assert analyze(char * (max_chars(parts, encoding) + 1)).parts == parts + 1


def test_max_chars_rejects_nonsense():
    with pytest.raises(ValueError):
        max_chars(0, GSM7)
    with pytest.raises(ValueError):
        max_chars(1, "UTF-8")


def test_extension_chars_count_two_septets_and_stay_gsm7():
    assert analyze("€" * 80) == sms.SmsAnalysis(GSM7, 160, 1, "€" * 80)
    assert analyze("€" * 81).parts == 2
    for char in "\f^{}\\[~]|€":
        assert analyze(char).units == 2, repr(char)


def test_newline_counts_one_septet():
    # Odoo's browser widget counts it twice; a 160-line text is still one SMS.
    result = analyze("\n" * 160)
    assert (result.encoding, result.units, result.parts) == (GSM7, 160, 1)
    assert analyze("a\r\nb").units == 4


def test_esc_pair_straddling_a_part_boundary_moves_to_the_next_part():
    # 306 septets would be two parts by division, but the € cannot start at
    # septet 153: part 1 carries 152, part 2 is € + 151 'a', part 3 the last 'a'.
    text = "a" * 152 + "€" + "a" * 152
    result = analyze(text)
    assert (result.units, result.parts) == (306, 3)

    # Shifted by one character the pair fits in part 1 and 306 septets are 2 parts.
    assert analyze("a" * 151 + "€" + "a" * 153).parts == 2


def test_esc_pair_at_the_end_of_a_single_message_is_still_one_part():
    assert analyze("a" * 158 + "€").parts == 1
    assert analyze("a" * 159 + "€").parts == 2


def test_emoji_count_two_utf16_units():
    result = analyze("😀" * 35)
    assert (result.encoding, result.units, result.parts, result.chars) == (UCS2, 70, 1, 35)
    assert analyze("😀" * 36).parts == 2


def test_surrogate_pair_is_not_split_across_parts():
    text = "ą" * 66 + "😀" + "ą" * 66
    result = analyze(text)
    assert (result.units, result.parts) == (134, 3)
    assert analyze("ą" * 65 + "😀" + "ą" * 67).parts == 2


def test_one_non_gsm_char_turns_the_whole_message_ucs2():
    assert analyze("a" * 100).encoding == GSM7
    result = analyze("a" * 100 + "ł")
    assert (result.encoding, result.units, result.parts) == (UCS2, 101, 2)


def test_gsm7_letters_with_accents_keep_gsm7():
    result = analyze("Café über España, Straße, Øresund, Ålesund, Æro, Ça coûte 5 €")
    assert result.encoding == UCS2  # "û" is not GSM-7
    result = analyze("Café über España, Straße, Øresund, Ålesund, Æro, Ça coute 5 €")
    assert result.encoding == GSM7


def test_backtick_and_small_c_cedilla_are_not_gsm7():
    assert analyze("`").encoding == UCS2
    assert analyze("ç").encoding == UCS2
    assert analyze("Ç").encoding == GSM7


def test_transliterates_polish():
    result = analyze("Zażółć gęślą jaźń", transliterate=True)
    assert (result.text, result.encoding) == ("Zazolc gesla jazn", GSM7)
    assert transliterate("ĄĆĘŁŃÓŚŹŻ") == "ACELNOSZZ"


def test_transliterates_lithuanian():
    result = analyze("Ačiū, ėjimas į šiūrę! Ųsai, žąsys, ČĘĖĮŠŲŪŽ", transliterate=True)
    assert result.text == "Aciu, ejimas i siure! Usai, zasys, CEEISUUZ"
    assert result.encoding == GSM7


def test_transliterates_typographic_quotes_dashes_ellipsis_and_nbsp():
    text = "„Polisa” – “OC” — ‘AC’ ‚x‘ «NNW»…\u00a0koniec"
    assert transliterate(text) == '"Polisa" - "OC" - \'AC\' \'x\' "NNW"... koniec'
    assert analyze(text, transliterate=True).encoding == GSM7


def test_transliteration_keeps_what_gsm7_has():
    text = "é è ü ñ ß Ø Å Æ Ç É Ä Ö Ñ Ü à ì ò ù € {[~]} ^ | \\ Δ"
    assert transliterate(text) == text
    assert transliterate("ç Ç") == "c Ç"


def test_transliteration_falls_back_to_anyascii():
    result = analyze("Привет, Ğ ő ™ ½", transliterate=True)
    assert (result.text, result.encoding) == ("Privet, G o TM 1/2", GSM7)


def test_transliteration_keeps_what_has_no_gsm7_spelling():
    # anyascii gives a backtick, itself not GSM-7; an unknown character is kept, not deleted.
    result = analyze("a ` \ue000", transliterate=True)
    assert (result.text, result.encoding) == ("a ` \ue000", UCS2)


def test_transliteration_composes_decomposed_letters():
    assert transliterate("Za\u0301 z\u0307o\u0301\u0142w A\u030a") == "Za zolw Å"


def test_without_transliteration_text_is_left_unchanged():
    result = analyze("Zażółć „gęślą” jaźń…")
    assert result.text == "Zażółć „gęślą” jaźń…"
    assert result.encoding == UCS2


def test_polish_renewal_sms_is_three_parts_as_ucs2_and_two_after_transliteration():
    raw = analyze(RENEWAL_SMS)
    assert (raw.encoding, raw.parts) == (UCS2, 3)
    plain = analyze(RENEWAL_SMS, transliterate=True)
    assert (plain.encoding, plain.parts) == (GSM7, 2)
    assert plain.chars == raw.chars == len(RENEWAL_SMS)


def test_empty_text_is_zero_parts():
    result = analyze("")
    assert (result.encoding, result.units, result.parts, result.chars) == (GSM7, 0, 0, 0)
    assert result.max_units == 160
    assert analyze("", transliterate=True).parts == 0


def test_per_part_and_max_units_for_counters():
    one = analyze("a" * 10)
    assert (one.per_part, one.max_units) == (160, 160)
    two = analyze("ą" * 71)
    assert (two.per_part, two.max_units) == (67, 134)


def test_analysis_is_frozen():
    result = analyze("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.parts = 2
