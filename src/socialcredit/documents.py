"""Identity documents: the several numbers one subject is known by (issue 17.3).

Why: the Supreme People's Court reported in 2018 that debtors evaded travel bans by buying tickets
with passports instead of ID cards, and airlines identify travellers by passport; so a relying
party must be able to ask by any document a person holds and get the answer for the person. A
subject keeps one canonical code (:mod:); its other documents are *linked* to
it, with evidence, as entries of the registry's chain (docs/decisions/0034-subject-documents.md).

The document types, each validated by its published format:

- ``ric``: Resident Identity Card (GB 11643-1999, ISO 7064 MOD 11-2 check character);
- ``residence-permit``: Residence Permit for Hong Kong, Macao and Taiwan Residents (2018):
  numbered as a RIC with region 810000, 820000 or 830000, same check character;
- ``fpr``: Foreigner's Permanent Residence ID Card: since 2023 18 digits, ``9`` then the
  province, the nationality, the birth date, an order code and the GB 11643 check character; the
  earlier card 15 characters, the holder's 3-letter nationality (ISO 3166-1 alpha-3) then 12
  digits (no published check character, so only its form is checked);
- ``passport``: ICAO Doc 9303 (Part 4, the machine readable passport): the document code
  ``P`` and at most one more letter at the issuing state's discretion (``PD`` diplomatic,
  ``PS`` service, ...), the issuing state as 3 letters (ISO 3166-1 alpha-3, or a code of
  Part 3's own: ``D`` for Germany, ``GBD``, ``UNO``, ``XXA``, ...), and a document
  number of at most 9 letters and digits (the MRZ field; longer numbers do not fit it);
- ``hkm-permit``: Mainland Travel Permit for Hong Kong and Macao Residents: ``H`` (Hong
  Kong) or ``M`` (Macao) and 8 digits, followed on the card version by the 2-digit issue count;
- ``tw-permit``: Mainland Travel Permit for Taiwan Residents: 8 digits (the card of 2015).

A document is written ``type:number``, a passport ``passport:STATE:number``:

>>> parse("passport:chn:e12345678")
Document(type='passport', number='E12345678', issuing_state='CHN', passport_type='P')
>>> str(validate("hkm-permit", "H1234567801"))
'hkm-permit:H1234567801'
>>> validate("passport", "E123456789", issuing_state="CHN")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
socialcredit.documents.DocumentError: number: a passport number has 1 to 9 letters and digits ...
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal, cast, get_args

from socialcredit import codes
from socialcredit.errors import Refused

__all__ = [
    "ICAO_CODES",
    "ISO_ALPHA3",
    "TITLES",
    "Document",
    "DocumentError",
    "DocumentType",
    "LinkEvent",
    "event_content",
    "is_link_event",
    "mask",
    "own_document",
    "parse",
    "read_event",
    "validate",
]

DocumentType = Literal["ric", "residence-permit", "fpr", "passport", "hkm-permit", "tw-permit"]
TYPES: tuple[DocumentType, ...] = get_args(DocumentType)
TITLES: dict[str, str] = {
    "ric": "Resident Identity Card",
    "residence-permit": "Residence Permit for Hong Kong, Macao and Taiwan Residents",
    "fpr": "Foreigner's Permanent Residence ID Card",
    "passport": "Passport",
    "hkm-permit": "Mainland Travel Permit for Hong Kong and Macao Residents",
    "tw-permit": "Mainland Travel Permit for Taiwan Residents",
}
CODE_TYPES = frozenset({"ric", "residence-permit", "fpr"})

PERMIT_FORMAT = "residence-permit-number"
"""The JSON Schema format of a residence permit's number (a person code of region 810000,
820000 or 830000, with its check digit)."""

FORMAT = "identity-document"
"""The JSON Schema format of a document written ``type:number`` (``passport:STATE:number``):
a pattern cannot say which are valid, so the API's schema names this format (as ``codes.FORMAT``
for identity codes) and a client registers a generator for it."""
"""Types whose number (the 18-character form) is itself a person code (:mod:`socialcredit.codes`)."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ISO_ALPHA3 = _words(
    "ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR "
    "BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG "
    "COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH "
    "FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY "
    "HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM "
    "KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL "
    "MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR "
    "NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU "
    "SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA "
    "TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB "
    "VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE "
)
"""ISO 3166-1 alpha-3 country codes (249)."""
ICAO_CODES = _words(
    "D GBD GBN GBO GBP GBS UNO UNA UNK EUE XBA XIM XCC XCE XCO XEC XPO XES XMP XOM XDC XXA XXB XXC XXX"
)
"""ICAO Doc 9303 Part 3's codes beside ISO 3166-1: Germany (``D``), British nationals of other
kinds, the United Nations and its agencies, the European Union, other organisations, stateless
persons, refugees and an unspecified nationality."""

_PASSPORT_TYPE = re.compile(r"P[A-Z]?")
_PASSPORT_NUMBER = re.compile(r"[A-Z0-9]{1,9}")
_HKM = re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?")
_TW = re.compile(r"[0-9]{8}")
_OLD_FPR = re.compile(r"([A-Z]{3})[0-9]{12}")


class DocumentError(Refused):
    """A document refused: ``field`` names the field at fault (``type``, ``number``,
    ``issuing_state``, ``passport_type``, ``document``)."""


@dataclass(frozen=True, slots=True)
class Document:
    """A validated document: its type, normalised number and, for a passport, the issuing state
    and the ICAO document code. ``str()`` is its key, what identifies it among all documents."""

    type: DocumentType
    number: str
    issuing_state: str | None = None
    passport_type: str | None = None

    def __str__(self) -> str:
        if self.type == "passport":
            return f"passport:{self.issuing_state}:{self.number}"
        return f"{self.type}:{self.number}"

    @property
    def code(self) -> str | None:
        """The person code this document's number is, for an 18-character RIC-form number."""
        return self.number if self.type in CODE_TYPES and len(self.number) == 18 else None


def _norm(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise DocumentError(f"must be text, not {type(value).__name__}", field=field)
    return value.replace(" ", "").replace("-", "").strip().upper()


def validate(
    type: object,  # noqa: A002 -- the field's name in the API and on the command line
    number: object,
    *,
    issuing_state: object = None,
    passport_type: object = None,
) -> Document:
    """The validated :class:`Document`, or :class:`DocumentError` naming the field."""
    kind = type.strip().lower() if isinstance(type, str) else type
    if kind not in TYPES:
        raise DocumentError(
            f"{str(type)[:40]!r} is not a document type (one of: {', '.join(TYPES)})", field="type"
        )
    doc_type: DocumentType = kind
    num = _norm(number, "number")
    if len(num) > 64 or not num:
        raise DocumentError("is required, at most 64 characters", field="number")
    if doc_type != "passport":
        if issuing_state not in (None, ""):
            raise DocumentError("only a passport names an issuing state", field="issuing_state")
        if passport_type not in (None, ""):
            raise DocumentError("only a passport has a passport type", field="passport_type")
    if doc_type == "passport":
        state = _norm(issuing_state if issuing_state is not None else "", "issuing_state").rstrip("<")
        if not state:
            raise DocumentError(
                "a passport needs its issuing state (ICAO Doc 9303, e.g. CHN)", field="issuing_state"
            )
        if state not in ISO_ALPHA3 and state not in ICAO_CODES:
            raise DocumentError(
                f"{state[:40]!r} is no ISO 3166-1 alpha-3 code nor an ICAO Doc 9303 code",
                field="issuing_state",
            )
        ptype = _norm(passport_type if passport_type not in (None, "") else "P", "passport_type").rstrip("<")
        if not _PASSPORT_TYPE.fullmatch(ptype):
            raise DocumentError(
                f"{ptype[:40]!r} is not an ICAO Doc 9303 passport code "
                "(P and at most one more letter, e.g. PD)",
                field="passport_type",
            )
        if not _PASSPORT_NUMBER.fullmatch(num):
            raise DocumentError(
                f"a passport number has 1 to 9 letters and digits (ICAO Doc 9303), not {num[:40]!r}",
                field="number",
            )
        return Document("passport", num, state, ptype)
    if doc_type == "hkm-permit":
        if not _HKM.fullmatch(num):
            raise DocumentError(
                "a Mainland Travel Permit for Hong Kong and Macao Residents is H or M and 8 digits "
                f"(10 on the card version), not {num[:40]!r}",
                field="number",
            )
        return Document(doc_type, num)
    if doc_type == "tw-permit":
        if not _TW.fullmatch(num):
            raise DocumentError(
                f"a Mainland Travel Permit for Taiwan Residents has 8 digits, not {num[:40]!r}",
                field="number",
            )
        return Document(doc_type, num)
    if doc_type == "fpr" and len(num) == 15:
        old = _OLD_FPR.fullmatch(num)
        if old is None or old.group(1) not in ISO_ALPHA3:
            raise DocumentError(
                "a Foreigner's Permanent Residence ID Card of before 2023 is a nationality "
                f"(ISO 3166-1 alpha-3) and 12 digits, not {num[:40]!r}",
                field="number",
            )
        return Document(doc_type, num)
    try:
        code = codes.validate(num, "person")
    except codes.CodeError as exc:
        raise DocumentError(f"invalid {exc.part}: {exc}", field="number") from None
    found = codes.person_document(code.value)
    if found != doc_type:
        raise DocumentError(
            f"is the number of a {TITLES[found]}, not of a {TITLES[doc_type]}", field="number"
        )
    return Document(doc_type, code.value)


def parse(text: object) -> Document:
    """A document from its written form, ``type:number`` or ``passport:STATE:number``."""
    if not isinstance(text, str) or ":" not in text or len(text) > 100:
        raise DocumentError(
            "write a document as type:number, a passport as passport:STATE:number", field="document"
        )
    kind, _, rest = text.partition(":")
    if kind.strip().lower() == "passport":
        state, _, number = rest.partition(":")
        return validate("passport", number, issuing_state=state)
    return validate(kind, rest)


def own_document(code: str) -> Document:
    """The document a person code is the number of (a RIC, a residence permit, a 2023 FPR)."""
    return Document(cast(DocumentType, codes.person_document(code)), codes.compact(code))


def mask(document: Document | str) -> str:
    """A document's key with its number hidden but for the last 4 characters."""
    doc = document if isinstance(document, Document) else parse(document)
    shown = "*" * max(len(doc.number) - 4, 0) + doc.number[-4:]
    return str(Document(doc.type, shown, doc.issuing_state))


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A document linked to a subject, or a link ended, as the registry's chain keeps it."""

    event: Literal["linked", "unlinked"]
    subject: str
    document: str
    passport_type: str | None = None
    evidence: str | None = None
    case: str | None = None


def event_content(e: LinkEvent) -> str:
    """The canonical text the registry's chain hashes for a link event: a JSON object, where a
    registration is a JSON array (:func:`socialcredit.subjects.registry_content`)."""
    return json.dumps(
        {
            "event": f"document {e.event}",
            "subject": e.subject,
            "document": e.document,
            "passport_type": e.passport_type,
            "evidence": e.evidence,
            "case": e.case,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def is_link_event(payload: str) -> bool:
    """Whether a registry entry's payload is a document event rather than a registration."""
    return payload.startswith("{")


def read_event(payload: str) -> LinkEvent:
    """The event a registry entry's payload holds (:func:`event_content`)."""
    p = json.loads(payload)
    event: Literal["linked", "unlinked"] = "linked" if p["event"] == "document linked" else "unlinked"
    return LinkEvent(
        event, p["subject"], p["document"], p.get("passport_type"), p.get("evidence"), p.get("case")
    )


def written_pattern() -> str:
    """A JSON Schema pattern for the written forms a client may generate without a check digit:
    passports (issuing states of ICAO Doc 9303) and the Mainland travel permits."""
    states = "|".join(sorted(ISO_ALPHA3 | ICAO_CODES))
    return (
        f"^(passport:({states}):[A-Z0-9]{{1,9}}|hkm-permit:[HM][0-9]{{8}}([0-9]{{2}})?|tw-permit:[0-9]{{8}})$"
    )
