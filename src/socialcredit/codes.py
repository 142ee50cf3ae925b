"""Identity codes: one code per subject.

Persons are keyed by the 18-digit Resident Identity Card number (RIC, GB 11643-1999: 6-digit
region, 8-digit birth date, 3-digit order code, ISO 7064 MOD 11-2 check character that may be X).
Two other numbers have the same form and are person codes too (docs/decisions/0034):

- the Residence Permit for Hong Kong, Macao and Taiwan Residents (2018), numbered as a RIC with
  the region ``810000`` (Hong Kong), ``820000`` (Macao) or ``830000`` (Taiwan), which are no
  county-level divisions, so python-stdnum's region check refuses them;
- the Foreigner's Permanent Residence ID Card of 2023: ``9``, the 2-digit code of the province
  that accepted the application, the 3-digit nationality code, the birth date, a 3-digit order
  code and the GB 11643 check character. An all-digit Unified Social Credit Code may also begin
  with 9 (registration authority: market regulation); a number valid as both is an organisation's,
  as it always was here.
Organisations are keyed by the 18-character Unified Social Credit Code (USCC, GB 32100-2015:
authority, entity type, 6-digit region, 9-character organisation code, check character).

Validation is delegated to python-stdnum (``stdnum.cn.ric``, ``stdnum.cn.uscc``), which we did
not write, so our own checks are proven against an independent implementation; what we add is a
precise reason naming which part is wrong, masking, and one check python-stdnum does not make.

That check: GB 32100-2015 makes characters 9-17 of a USCC an organisation code coded under
GB 11714-1997 (*Rule of coding for the representation of organization*), which has its own check
character. Its 8 body characters take the values 0-9 for digits and 10-35 for the letters A-Z by
their place in the Latin alphabet (A=10, B=11, ..., Z=35; *not* their place in GB 32100's
alphabet, which skips I, O, S, V and Z), are weighted 3, 7, 9, 10, 5, 8, 4, 2, and the check is
``11 - sum mod 11``, written ``X`` for 10 and ``0`` for 11. A code that passes GB 32100's check
but not this one raises :class:`InvalidOrganisationCode` (python-stdnum's ``InvalidComponent``,
with the component named). The check applies to every registration authority and entity type,
individual businesses (92) included: decision 0024 gives the evidence.

The verbs follow python-stdnum: ``compact`` normalises, ``validate`` returns the normalised
code or raises a :class:`CodeError` naming the fault, ``is_valid`` never raises, ``mask`` hides
what a third party may not see.

>>> validate("11010519491231002X")
Code(kind='person', value='11010519491231002X')
>>> validate("91110000600037341L").kind
'organisation'
>>> organisation_check_character("60003734")
'1'
>>> validate("810000199001010019").kind  # a Hong Kong resident's residence permit
'person'
>>> mask("11010519491231002X")
'110105********002X'
>>> validate("110105194912310021")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
socialcredit.codes.InvalidChecksum: code '110105194912310021': check character is wrong ...
>>> validate("91110000600037342P")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
socialcredit.codes.InvalidOrganisationCode: code '91110000600037342P': ... code 60003734-2 ...
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from socialcredit.errors import Refused
from socialcredit.i18n import N_, translate

SubjectKind = Literal["person", "organisation"]

__all__ = [
    "FORMAT",
    "PATTERN",
    "PROVINCES",
    "RESIDENCE_PERMIT_REGIONS",
    "Code",
    "CodeError",
    "InvalidBirthDate",
    "InvalidChecksum",
    "InvalidFormat",
    "InvalidLength",
    "InvalidOrganisationCode",
    "InvalidRegion",
    "SubjectKind",
    "birth_date",
    "compact",
    "is_valid",
    "mask",
    "organisation_check_character",
    "person_document",
    "sex",
    "validate",
]


class CodeError(Refused):
    """An identity code is invalid; ``part`` names which part of it is wrong. A refusal (422):
    the field holding the code is the caller's to name (the API names ``subject``)."""

    part = "code"

    def __init__(self, code: object, detail: str) -> None:
        shown = repr(code) if len(repr(code)) <= 40 else repr(code)[:37] + "...'"
        super().__init__(N_("code {code}: {detail}", code=shown, detail=detail))
        self.code = code
        self.detail = detail

    def describe(self) -> str:
        """Where a caller gave a subject's code: ``subject: invalid checksum: code '...': ...``."""
        return self.describe_as("subject")

    def describe_as(self, field: str) -> str:
        """The refusal for the ``field`` that held the code, worded in the current language (the
        field's name is the interface's, as it is)."""
        part = PARTS.get(self.part, self.part)
        worded = translate(N_("invalid {part}: {message}", part=part, message=self.message))
        return f"{field}: {worded}"


PARTS = {
    "code": N_("code"),
    "length": N_("length"),
    "format": N_("format"),
    "checksum": N_("checksum"),
    "birth date": N_("birth date"),
    "region": N_("region"),
    "organisation code": N_("organisation code"),
}
"""Which part of a code is wrong, worded for the reader (a refusal's ``invalid {part}``)."""
KINDS = {"person": N_("person"), "organisation": N_("organisation")}


class InvalidLength(CodeError):
    part = "length"


class InvalidFormat(CodeError):
    part = "format"


class InvalidChecksum(CodeError):
    part = "checksum"


class InvalidBirthDate(CodeError):
    part = "birth date"


class InvalidRegion(CodeError):
    part = "region"


class InvalidOrganisationCode(CodeError):
    """The organisation code inside a USCC (characters 9-17) fails its own GB 11714 check."""

    part = "organisation code"


@dataclass(frozen=True, slots=True)
class Code:
    """A validated identity code and the kind of subject it names."""

    kind: SubjectKind
    value: str

    def __str__(self) -> str:
        return self.value


# What a canonical code looks like, for an API's schema (``compact`` form: no spaces or dashes,
# upper case). The check characters, the birth date and the region cannot be said in a regular
# expression; schemas name them by the format ``FORMAT`` ("identity-code"), whose generator in
# the tests makes valid codes. ``validate`` is the whole rule.
PATTERN = r"^(?:[0-9]{17}[0-9X]|[0-9]{8}[0-9A-HJ-NP-RTUW-Y]{10})$"
FORMAT = "identity-code"


def compact(code: str) -> str:
    """Strip spaces and dashes and upper-case, as both standards allow."""
    return code.replace(" ", "").replace("-", "").strip().upper()


_GB11714_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # a character's value is its index
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_check_character(body: str) -> str:
    """The GB 11714 check character of an organisation code's 8 body characters (0-9, A-Z).

    Raises ``ValueError`` for a body of another length or with another character.
    """
    total = sum(_GB11714_VALUES.index(c) * w for c, w in zip(body, _GB11714_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _validate_person(code: str) -> Code:
    if not code[:17].isdigit() or not code[:17].isascii():
        raise InvalidFormat(code, N_("a resident ID number has 17 digits then a digit or X"))
    if code[-1] not in "0123456789X":
        raise InvalidFormat(code, N_("the last character must be a digit or X"))
    expected = ric.calc_check_digit(code)
    if code[-1] != expected:
        raise InvalidChecksum(code, N_("check character is wrong (expected {expected!r})", expected=expected))
    try:  # stdnum's ric.get_birth_date, less its clean() of a code already compact and digits
        born = datetime.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        raise InvalidBirthDate(
            code, N_("birth date {day!r} is not a calendar date", day=code[6:14])
        ) from None
    if born > datetime.date.today():
        raise InvalidBirthDate(code, N_("birth date {day} is in the future", day=born.isoformat()))
    if code[:6] in RESIDENCE_PERMIT_REGIONS or (code[0] == "9" and code[1:3] in PROVINCES):
        # no division database dates these forms, so nothing else bounds their birth year: a
        # year such as 0618 is a calendar date but nobody's (the property test found it)
        if born.year < EARLIEST_BIRTH_YEAR:
            raise InvalidBirthDate(
                code,
                N_(
                    "birth date {day} is before {year}: no living holder",
                    day=born.isoformat(),
                    year=EARLIEST_BIRTH_YEAR,
                ),
            )
        return Code("person", code)
    if not _region_valid(code[:6], born.year):
        raise InvalidRegion(
            code,
            N_(
                "region {region!r} is not an administrative division valid in {year}",
                region=code[:6],
                year=born.year,
            ),
        )
    return Code("person", code)


def _validate_org(code: str) -> Code:
    if not code[:8].isdigit() or not code[:8].isascii():
        raise InvalidFormat(code, N_("the first 8 characters of a USCC must be digits"))
    bad = [c for c in code[8:] if c not in uscc._alphabet]
    if bad:
        raise InvalidFormat(
            code, N_("character {char!r} is not allowed (I, O, Z, S, V are not)", char=bad[0])
        )
    expected = uscc.calc_check_digit(code)
    if code[-1] != expected:
        raise InvalidChecksum(code, N_("check character is wrong (expected {expected!r})", expected=expected))
    uscc.validate(code)
    body, check = code[8:16], code[16]
    expected = organisation_check_character(body)
    if check != expected:
        raise InvalidOrganisationCode(
            code,
            N_(
                "check character of the organisation code {body}-{check} (characters 9-17) is wrong "
                "(GB 11714: expected {expected!r})",
                body=body,
                check=check,
                expected=expected,
            ),
        )
    return Code("organisation", code)


RESIDENCE_PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})
EARLIEST_BIRTH_YEAR = 1900
"""Residence permits (2018) and permanent residence cards (2023) were first issued to the living:
a birth year before this is a mistyped code, not a holder."""
"""The region of a residence permit for residents of Hong Kong, Macao and Taiwan (2018 measures)."""
PROVINCES = frozenset(
    f"{p}{d}"
    for p, ds in ((1, "12345"), (2, "123"), (3, "1234567"), (4, "123456"), (5, "01234"), (6, "12345"))
    for d in ds
)
"""Province-level codes of GB/T 2260 (mainland), the 2nd and 3rd digits of a 2023 Foreigner's
Permanent Residence ID Card number."""


def person_document(code: str) -> str:
    """Which document a valid person code is the number of: ``ric`` (a Resident Identity Card),
    ``residence-permit`` (for residents of Hong Kong, Macao and Taiwan) or ``fpr`` (a 2023
    Foreigner's Permanent Residence ID Card)."""
    code = compact(code)
    if code[:6] in RESIDENCE_PERMIT_REGIONS:
        return "residence-permit"
    return "fpr" if code[0] == "9" else "ric"


@lru_cache(maxsize=1 << 16)
def _region_valid(region: str, year: int) -> bool:
    """stdnum's region lookup depends only on the region and the birth year, and is slow
    (a search of its division database), so it is asked once per pair. Together with the
    checks above this is exactly ``stdnum.cn.ric.validate`` for a resident card; the tests prove
    they agree. The residence permits' regions (810000, 820000, 830000) and the 2023 permanent
    residence cards, which stdnum refuses, are admitted before this is asked (decision 0034)."""
    try:
        ric.get_birth_place(f"{region}{year:04d}01010000")
    except (StdnumError, KeyError):
        # stdnum raises KeyError for a prefix known only at province or prefecture level
        # (found by the property test): that is no county-level division either
        return False
    return True


@lru_cache(maxsize=1 << 18)
def _validate_compact(code: str) -> Code:
    if len(code) != 18:
        raise InvalidLength(code, N_("has {count} characters, an identity code has 18", count=len(code)))
    # A RIC is all digits except perhaps a final X; a USCC has letters in the organisation
    # code or starts with a registration authority digit whose 2nd char is an entity type.
    if code[:17].isdigit() and (code[-1].isdigit() or code[-1] == "X"):
        person_error: CodeError | None = None
        try:
            found = _validate_person(code)
        except CodeError as exc:
            person_error = exc
        else:
            if code[0] != "9":
                return found
            try:  # a USCC of registration authority 9 stays an organisation's code
                return _validate_org(code)
            except CodeError:
                return found
        try:  # an all-digit USCC is possible; accept it only if it checks as one
            return _validate_org(code)
        except InvalidOrganisationCode:
            # It passed GB 32100's check (1 in 31 by chance), so it was meant as a USCC and that
            # is the reason to give, unless as a resident ID it was right up to the region (its
            # check character and birth date right): then it is a person's code.
            if not isinstance(person_error, InvalidRegion):
                raise
            raise person_error from None
        except CodeError:
            raise person_error from None
    return _validate_org(code)


def validate(code: object, kind: SubjectKind | None = None) -> Code:
    """Return the validated :class:`Code`, or raise a :class:`CodeError` naming the fault.

    ``kind`` insists on a person or an organisation code.
    """
    if not isinstance(code, str):
        raise InvalidFormat(code, N_("must be text, not {type}", type=type(code).__name__))
    if len(code) > 64:
        raise InvalidLength(code, N_("has {count} characters, an identity code has 18", count=len(code)))
    result = _validate_compact(compact(code))
    if kind is not None and result.kind != kind:
        raise InvalidFormat(
            code,
            N_("is a {kind} code, expected a {wanted} code", kind=KINDS[result.kind], wanted=KINDS[kind]),
        )
    return result


def is_valid(code: object, kind: SubjectKind | None = None) -> bool:
    """Whether ``code`` is a valid identity code; never raises."""
    try:
        validate(code, kind)
    except CodeError:
        return False
    return True


def mask(code: str) -> str:
    """Hide the middle of a code, as the court's published lists do.

    A resident ID keeps its region and the last four characters (birth date hidden); an
    organisation code keeps its first 8 and last 4 characters.
    """
    code = compact(code)
    if len(code) != 18:
        return "*" * len(code)
    return code[:6] + "*" * 8 + code[14:] if code[:17].isdigit() else code[:8] + "******" + code[14:]


def sex(code: str) -> str:
    """``M`` or ``F`` from a person code's order number (odd for men, even for women)."""
    return "M" if int(compact(code)[16]) % 2 else "F"


def birth_date(code: str) -> datetime.date:
    """The birth date of a person code (which must already be valid)."""
    return ric.get_birth_date(compact(code))
