"""An operator key's holder name (access.holder_name): the rule the API's schema states."""

from __future__ import annotations

import pytest

from socialcredit.access import holder_name
from socialcredit.errors import Refused


@pytest.mark.parametrize("holder", ["\fwang.fang", "wang.fang\n", "\x85wang", "wang\tfang"])
def test_an_operator_holder_with_a_control_character_is_refused_even_at_its_ends(holder: str) -> None:
    """The schema's holder pattern (api/keymodels.HOLDER_PATTERN) refuses a control character
    anywhere; stripping a name's ends must not let one through (schemathesis found "\\f..."
    accepted as a holder)."""
    with pytest.raises(Refused) as refused:
        holder_name(holder)
    assert refused.value.field == "principal"
    assert holder_name("  wang.fang ") == "wang.fang"  # spaces around a name are still dropped
