"""Identity codes, checked against python-stdnum (an implementation we did not write)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from socialcredit import codes
from tests.conftest import org, person


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


@pytest.mark.parametrize("junk", [None, "", 0, 1.5, object(), [], "x" * 10_000, "\x00" * 18, "一二三"])
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
    assert mine == theirs


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


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_organisation_validation_agrees_with_stdnum(body: str) -> None:
    code = body + uscc.calc_check_digit(body)
    if body[:8].isdigit():
        assert codes.is_valid(code, "organisation") or codes.is_valid(code, "person")
        assert uscc.is_valid(code)
    else:
        assert not codes.is_valid(code) and not uscc.is_valid(code)
