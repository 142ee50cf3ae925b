"""``socialcredit documents ...``: the documents a subject is known by besides its code
(passports, travel permits, residence cards), linked with evidence (issue 17.3).

The local user is the installation's operator; the same service methods back the API
(``/subjects/{code}/documents``). A wrong link is ended by ``cases object CODE --document ...``
once upheld, never deleted.
"""

from __future__ import annotations

from typing import Annotated

import typer

from socialcredit.api.documentmodels import DocumentOut, DocumentsOut
from socialcredit.cli.common import JsonOpt, app, emit, open_system, say
from socialcredit.i18n import N_

documents_app = typer.Typer(help="A subject's documents: passports, travel permits, residence cards.")
app.add_typer(documents_app, name="documents")


@documents_app.command("link")
def documents_link(
    code: Annotated[str, typer.Argument(help="The subject's identity code")],
    type_: Annotated[
        str,
        typer.Argument(metavar="TYPE", help="ric, residence-permit, fpr, passport, hkm-permit or tw-permit"),
    ],
    number: Annotated[str, typer.Argument(help="The document's number")],
    evidence: Annotated[str, typer.Option(help="Why the document is the subject's (a reference)")],
    issuing_state: Annotated[
        str | None, typer.Option(help="A passport's issuing state (ICAO Doc 9303, e.g. CHN)")
    ] = None,
    passport_type: Annotated[
        str | None, typer.Option(help="A passport's ICAO document code (P, PD, PS...; default P)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Link a document to a registered person. Refused if it names another subject now."""
    system = open_system()
    link = system.link_document(
        principal=system.operator(),
        code=code,
        type=type_,
        number=number,
        issuing_state=issuing_state,
        passport_type=passport_type,
        evidence=evidence,
    )
    if as_json:
        emit(DocumentOut.of(link))
        return
    say(
        N_(
            "linked {document} to {subject} (registry entry #{entry})",
            document=link.document,
            subject=link.subject,
            entry=link.linked,
        )
    )


@documents_app.command("list")
def documents_list(
    code: Annotated[str, typer.Argument(help="The subject's identity code")],
    as_json: JsonOpt = False,
) -> None:
    """A subject's documents, current and ended (an ended link names the objection that ended it)."""
    system = open_system()
    links = system.document_links(principal=system.operator(), code=code, purpose="command line: documents")
    if as_json:
        emit(DocumentsOut.of_rows(DocumentOut.of(x) for x in links))
        return
    if not links:
        say(N_("no documents linked"))
    for x in links:
        state = (
            N_("current")
            if x.valid_to is None
            else N_("ended {day} by {case}", day=f"{x.valid_to:%Y-%m-%d}", case=x.ended_by)
        )
        say(
            N_(
                "{document}  since {day}  {state}  evidence: {evidence}",
                document=x.document,
                day=f"{x.valid_from:%Y-%m-%d}",
                state=state,
                evidence=x.evidence,
            )
        )
