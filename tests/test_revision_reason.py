"""An operator's own revision reason in the reader's language (issue 16: the choice "is recorded
and shown to the subjects concerned"; issue 18: in their language; decision 0072). The reason may
be given in English, in Chinese (``zh-CN``) or both: each reader reads their own where it is given,
else the one given, marked with its language, never passed off as theirs."""

from __future__ import annotations

from contextlib import closing

import pytest
import yaml
from fastapi.testclient import TestClient

from socialcredit import i18n
from socialcredit.api import create_app
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.loader import Registry, SchemeError, parse_scheme, shipped_previous
from socialcredit.schemes.titles import Reason
from socialcredit.service import System
from tests.support.versions import TOWN, V1, parsed, town

EN = "Version 1 mistyped the points the town's rules set for a red light."
ZH = "第1版写错了本镇规则对闯红灯规定的分值。"


def revised(reason: object) -> str:
    """The town's version 2, a correction of version 1, with ``reason`` as written in its file."""
    block = yaml.safe_dump(
        {"revision": {"replaces": "1", "earlier_listings": "re-evaluated", "reason": reason}}
    )
    return town("2", "2025-01-01", -50, block)


def page(system: System, reason: object, lang: str) -> str:
    """The town's scheme page for a reader of ``lang``, version 2 giving ``reason``."""
    registry = Registry.of(
        [*shipped_registry().schemes.values(), *parsed(V1, revised(reason))], previous=shipped_previous()
    )
    with closing(TestClient(create_app(System(system.store, registry, clock=system.clock)))) as client:
        reply = client.get(f"/portal/schemes/{TOWN}", headers={"Accept-Language": lang})
    assert reply.status_code == 200, reply.text
    return reply.text


def test_a_reason_in_both_languages_is_read_in_each(system: System) -> None:
    both = {"en": EN, "zh-CN": ZH}
    zh, en = page(system, both, "zh-CN"), page(system, both, "en")
    assert ZH in zh and "mistyped" not in zh  # (the operator's titles are its own English)
    assert EN.replace("'", "&#39;") in en and ZH not in en


def test_a_reason_in_one_language_is_marked_as_such_for_the_other_reader(system: System) -> None:
    # English only (a plain text, as before): the Chinese reader is told it is the English original
    zh = page(system, EN, "zh-CN")
    assert "（英文原文）" + EN.replace("'", "&#39;") in zh
    # Chinese only: the English reader is told it is in Chinese; the Chinese reader reads it plain
    en, zh = page(system, {"zh-CN": ZH}, "en"), page(system, {"zh-CN": ZH}, "zh-CN")
    assert f"(in Chinese) {ZH}" in en
    assert ZH in zh and "（中文）" not in zh and "(in Chinese)" not in zh


def test_the_reason_as_a_message_value_words_itself() -> None:
    """The note on an entry made before a change quotes the reason (``lists._stayed``): English as
    ``str``, each reader's language by ``i18n.translate``; a shipped sentence is worded by the
    shipped prose as before."""
    r = Reason({"en": EN, "zh-CN": ZH})
    assert str(r) == EN and i18n.translate(r, "zh_CN") == ZH and i18n.translate(r, "en") == EN
    only_zh = Reason({"zh-CN": ZH})
    assert str(only_zh) == f"(in Chinese) {ZH}" and i18n.translate(only_zh, "zh_CN") == ZH
    court = next(s for s in shipped_registry().schemes.values() if s.revision is not None)
    assert court.revision is not None and isinstance(court.revision.reason, str)
    chinese = i18n.translate(Reason(court.revision.reason), "zh_CN")
    assert chinese != court.revision.reason and "英文" not in chinese


@pytest.mark.parametrize("reason", [{}, {"en": ""}, {"fr": "Une erreur."}, ""])
def test_a_reason_must_be_given_in_a_language_we_read(reason: object) -> None:
    with pytest.raises(SchemeError, match="reason"):
        parse_scheme(revised(reason), "town.yaml")
