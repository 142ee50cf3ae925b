"""Identity codes, checked against python-stdnum (an implementation we did not write)."""

from __future__ import annotations

import datetime as dt
import doctest
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from socialcredit import codes, intake, ledger, subjects
from socialcredit.schemes import shipped_registry
from tests.conftest import NOW, org, person

# Real codes, published: the first ten from python-stdnum's tests/test_cn_uscc.doctest (collected
# in its issue #207 from creditchina.gov.cn, chinacheckup.com and provincial credit sites), the
# last Huawei Technologies' (its zh.wikipedia infobox). They cover a public institution (12), the
# old numeric organisation codes, the 'L' and 'MA' series, individual businesses (92), and every
# kind of GB 11714 check character: a digit, 0 (for 11) and X (for 10).
PUBLISHED = [
    "121200004013590816",  # public institution, Tianjin
    "91110000600037341L",
    "91110000710926094P",  # China Petroleum & Chemical Corporation (Sinopec)
    "91310000631696382C",  # Baoshan Iron & Steel
    "9144030071526726XG",  # Tencent Technology (Shenzhen): organisation code check X
    "91152201078382010M",  # organisation code check 0
    "91620105L015101280",
    "91310115MA1K3BTP2B",
    "92340602MA2PBMEM24",  # individual business (92)
    "92340603MA2PBN17X5",  # individual business, organisation code check X
    "914403001922038216",  # Huawei Technologies: all digits
]


def latin_value(c: str) -> int:
    """GB 11714's value of a character: a digit's own, a letter's place in A-Z from 10."""
    return int(c) if c in "0123456789" else 10 + ord(c) - ord("A")


def gb11714(body: str, value: Callable[[str], int] = latin_value) -> str:
    """GB 11714's check written out again, independently of codes.py."""
    total = sum(value(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def with_organisation_check(head: str, check: str) -> str:
    """``head`` (the first 16 characters), the given organisation code check, the USCC check."""
    body = head + check
    return body + uscc.calc_check_digit(body)


def test_valid_person_and_organisation() -> None:
    p = codes.validate(person(7))
    assert p.kind == "person" and p.value == person(7)
    o = codes.validate(org(7))
    assert o.kind == "organisation"
    assert codes.validate("11010519491231002x").value == "11010519491231002X"  # lower-case x
    assert codes.validate(" 9111 0000 6000 3734 1L ").value == "91110000600037341L"


@pytest.mark.parametrize(
    ("code", "part"),
    [
        ("12345", "length"),
        ("1101051949123100212", "length"),
        ("110105194912310021", "checksum"),
        ("A1110000600037341L", "format"),
        ("91110000600037341I", "format"),
        ("91110000600037341M", "checksum"),
        ("91110000600037342P", "organisation code"),
    ],
)
def test_invalid_codes_name_the_part(code: str, part: str) -> None:
    with pytest.raises(codes.CodeError) as info:
        codes.validate(code)
    assert info.value.part == part
    assert repr(code)[:10] in str(info.value) or code[:10] in str(info.value)


def test_bad_birth_date_and_region_are_named() -> None:
    body = "110105" + "19491332" + "002"  # month 13
    with pytest.raises(codes.InvalidBirthDate, match="birth date"):
        codes.validate(body + ric.calc_check_digit(body + "0"))
    body = "999999" + "19800101" + "002"  # no such region
    with pytest.raises(codes.InvalidRegion, match="region '999999'"):
        codes.validate(body + ric.calc_check_digit(body + "0"))
    future = (dt.date.today() + dt.timedelta(days=400)).strftime("%Y%m%d")
    body = "110105" + future + "002"
    with pytest.raises(codes.InvalidBirthDate, match="future"):
        codes.validate(body + ric.calc_check_digit(body + "0"))


def test_kind_is_enforced() -> None:
    with pytest.raises(codes.CodeError, match="expected a organisation code|expected an? organisation"):
        codes.validate(person(1), "organisation")


def test_mask_hides_birth_date_and_middle() -> None:
    assert codes.mask("11010519491231002X") == "110105********002X"
    masked = codes.mask(org(3))
    assert masked.startswith(org(3)[:8]) and "*" in masked and masked.endswith(org(3)[-4:])
    assert codes.mask("short") == "*****"


# shaped like a USCC: a wrong organisation code check, a superscript and a full-width digit, a NUL
USCC_JUNK = [
    "91110000600037342P",
    "9111000060003734\u00b91L",
    "91110000\uff1600037341L",
    "91110000600037341L\x00",
]


@pytest.mark.parametrize(
    "junk", [None, "", 0, 1.5, object(), [], "x" * 10_000, "\x00" * 18, "一二三", *USCC_JUNK]
)
def test_junk_never_raises_from_is_valid(junk: object) -> None:
    assert codes.is_valid(junk) is False
    with pytest.raises(codes.CodeError):
        codes.validate(junk)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789X", min_size=18, max_size=18))
def test_person_validation_agrees_with_stdnum(text: str) -> None:
    mine = codes.is_valid(text, "person")
    try:
        theirs = ric.is_valid(text) and (ric.get_birth_date(text) <= dt.date.today())
    except KeyError:  # stdnum 2.2 crashes on a region known only above county level
        theirs = False
    if text[:6] in codes.RESIDENCE_PERMIT_REGIONS or (text[0] == "9" and text[1:3] in codes.PROVINCES):
        # the residence permits and the 2023 permanent residence cards, which stdnum refuses by
        # region (decision 0034): stdnum's other checks, and a birth year of a living holder
        try:
            born = ric.get_birth_date(text)
        except Exception:  # noqa: BLE001 - stdnum's refusal of the date, whatever its class
            born = None
        living = born is not None and born.year >= codes.EARLIEST_BIRTH_YEAR and born <= dt.date.today()
        theirs = living and text[-1] == ric.calc_check_digit(text)
    assert mine == theirs


def test_a_permit_or_card_born_before_any_living_holder_is_refused() -> None:
    """Found by the property test: '911568061807011739' (a 2023 permanent residence card, born
    618-07-01) passed, since no division database dates these forms."""
    with pytest.raises(codes.InvalidBirthDate, match="before 1900"):
        codes.validate("911568061807011739")


def test_region_known_only_above_county_level_is_invalid_not_a_crash() -> None:
    with pytest.raises(codes.InvalidRegion):
        codes.validate("644043198307059816")


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["110105", "310104", "440305", "371082", "371002"]),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2005, 12, 31)),
    st.integers(0, 999),
)
def test_generated_valid_codes_agree_with_stdnum(region: str, born: dt.date, order: int) -> None:
    body = f"{region}{born:%Y%m%d}{order:03d}"
    code = body + ric.calc_check_digit(body + "0")
    assert codes.is_valid(code) == ric.is_valid(code)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert codes.validate(code) == codes.Code("organisation", code)
    assert codes.organisation_check_character(code[8:16]) == code[16] == gb11714(code[8:16])


@pytest.mark.parametrize("code", PUBLISHED)
def test_stdnum_accepts_a_wrong_organisation_code_check_and_we_do_not(code: str) -> None:
    """The same codes with another organisation code check character and the USCC check made
    right again: python-stdnum accepts them all; we reject each naming the organisation code."""
    for wrong in sorted(set("0123456789X") - {code[16]}):
        bad = with_organisation_check(code[:16], wrong)
        assert uscc.is_valid(bad)
        with pytest.raises(codes.InvalidOrganisationCode) as info:
            codes.validate(bad)
        assert info.value.part == "organisation code"
        assert f"organisation code {code[8:16]}-{wrong} " in str(info.value)
        assert f"(GB 11714: expected {code[16]!r})" in str(info.value)
        assert not codes.is_valid(bad)


@pytest.mark.parametrize("code", ["91310115MA1K3BTP2B", "92340603MA2PBN17X5"])
def test_letters_are_valued_by_the_latin_alphabet_not_by_the_uscc_alphabet(code: str) -> None:
    """GB 32100's alphabet skips I, O, S, V and Z, so valuing letters by their place in it (as
    its own check does) gives other values from J on, and for these published codes (with P
    and T in them) another check character than the one they have."""
    body = code[8:16]
    assert gb11714(body, uscc._alphabet.index) != code[16]
    assert codes.organisation_check_character(body) == code[16]


def test_a_letter_as_organisation_code_check_is_named() -> None:
    bad = with_organisation_check("9111000060003734", "A")  # GB 11714 checks are 0-9 or X
    with pytest.raises(codes.InvalidOrganisationCode, match="60003734-A"):
        codes.validate(bad)


@pytest.mark.parametrize(
    ("head", "check", "person_fault"),
    [("9111000060003734", "5", "checksum"), ("9144030019220382", "2", "birth date")],
)
def test_all_digit_uscc_with_a_wrong_organisation_code_check_says_so(
    head: str, check: str, person_fault: str
) -> None:
    """All digits reads first as a resident ID. When that fails before its region and the USCC
    check passes, the reason given is the organisation code's, not the resident ID's."""
    bad = with_organisation_check(head, check)
    assert bad.isdigit() and uscc.is_valid(bad)
    with pytest.raises(codes.CodeError) as as_person:
        codes._validate_person(bad)
    assert as_person.value.part == person_fault
    with pytest.raises(codes.InvalidOrganisationCode):
        codes.validate(bad)


def test_all_digit_code_right_up_to_its_region_keeps_the_resident_id_reason() -> None:
    """A resident ID with its check character and birth date right and an unknown region is a
    person's code, even if it also passes the USCC check."""
    for order in range(1000):
        body = f"99999919800101{order:03d}"
        code = body + ric.calc_check_digit(body + "0")
        if uscc.is_valid(code) and code[16] != codes.organisation_check_character(code[8:16]):
            break
    else:
        pytest.fail("no such code among 1000 order numbers")
    with pytest.raises(codes.InvalidRegion):
        codes.validate(code)


def test_quarantine_reason_names_the_field_and_the_organisation_code() -> None:
    bad = with_organisation_check("91371082MA000001", "9")  # org(1)'s check is 5
    row = {
        "subject": bad,
        "item": "court.dishonest.able-but-refuses",
        "source": "court",
        "source_record_id": "c-1",
        "occurred_on": "2026-05-01",
        "details": {"case_number": "(2026) Lu 1082 Zhi 1"},
    }
    with pytest.raises(ledger.RowError) as info:
        intake.validate_row(row, registry=shipped_registry(), now=NOW)
    (reason,) = info.value.reasons
    assert reason.startswith("subject: invalid organisation code: ")
    assert "organisation code MA000001-9 (characters 9-17) is wrong (GB 11714: expected '5')" in reason
    with pytest.raises(ledger.RowError) as info:
        subjects.validate_subject({"code": bad, "name": "Example Co., Ltd."})
    assert info.value.reasons[0].startswith("code: invalid organisation code: ")
    row["subject"] = org(1)
    assert intake.validate_row(row, registry=shipped_registry(), now=NOW).subject == org(1)


@pytest.mark.parametrize("junk", ["", "6000373", "600037341", "6000373a", "600037\u00b934", None, 1])
def test_organisation_check_character_raises_value_error_on_junk(junk: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        codes.organisation_check_character(junk)  # type: ignore[arg-type]


def test_module_examples() -> None:
    assert doctest.testmod(codes).failed == 0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_organisation_validation_agrees_with_stdnum(body: str) -> None:
    code = body + uscc.calc_check_digit(body)
    if body[:8].isdigit():
        assert uscc.is_valid(code)
        inner_ok = body[16] == gb11714(body[8:16])
        mine = codes.is_valid(code, "organisation")
        # an all-digit code may be a valid resident ID instead, which is no organisation code
        assert mine == inner_ok or (not mine and codes.is_valid(code, "person"))
    else:
        assert not codes.is_valid(code) and not uscc.is_valid(code)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
)
def test_codes_with_both_checks_right_are_valid(head: str, body: str) -> None:
    code = with_organisation_check(head + body, gb11714(body))
    assert uscc.is_valid(code)
    assert codes.is_valid(code, "organisation") or codes.is_valid(code, "person")
