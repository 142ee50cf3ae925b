"""The application services, shared by the API, the CLI and the portal.

Each service is a small class over one shared :class:`~.context.Context` (the store, the schemes
in force, the clock, the holidays and the caches) and the other services it names in its
constructor, never a superclass (docs/decisions/0033-service-composition.md):

- :mod:`.records`: ingestion and the subject registry;
- :mod:`.keys` and :mod:`.integrity`: API keys; the audit log and the chains' verification;
- :mod:`.casefiles`: reading due-process cases, deciders resolved;
- :mod:`.decisions`: a subject's view, audited reads and decisions (over the case files);
- :mod:`.receipts`: a past decision reproduced from its receipt;
- :mod:`.histories`: a subject's score history on both time axes;
- :mod:`.duties`: case events naming their decider, and who may decide;
- :mod:`.casework` and :mod:`.restorations`: objections, reviews, appeals, notices; restoration;
- :mod:`.retention` and :mod:`.erasures`: data keys destroyed when kept long enough, or on request;
- :mod:`.documents`: documents linked to subjects, and the subject a document names;
- :mod:`.scans`: the population scan, kept and recomputed for the subjects touched since;
- :mod:`.disclosure`: public lists and lookups, sources' accuracy, transparency, served from the
  public state (:mod:`.publicstate`: derived from a scan, kept in the store as a snapshot);
- :mod:`.tlog`: the transparency log's signed checkpoints and proofs.

:class:`System` composes them for one installation and offers each service's verbs under one
name, so a caller holds one object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from socialcredit.errors import Unauthenticated
from socialcredit.schemes.categories import Vocabulary, shipped_vocabulary
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.safeguards import enforce
from socialcredit.service.casefiles import CaseFiles, NotFound
from socialcredit.service.casework import Casework, Notice
from socialcredit.service.context import Context, operator, utcnow
from socialcredit.service.decisions import Decisions, Question, SubjectView
from socialcredit.service.disclosure import Disclosure, PopulationSummary, SourceAccuracy, SubjectSummary
from socialcredit.service.documents import Documents
from socialcredit.service.duties import Duties
from socialcredit.service.enrolments import Consent, Enrolment, Enrolments
from socialcredit.service.erasures import Erasures
from socialcredit.service.histories import Histories, SubjectHistory
from socialcredit.service.integrity import Integrity
from socialcredit.service.keys import Keys
from socialcredit.service.receipts import Receipts, Reproduction
from socialcredit.service.records import Records, RegisterResult, Row
from socialcredit.service.restorations import Restorations
from socialcredit.service.retention import Retention
from socialcredit.service.tlog import TransparencyLog
from socialcredit.store import Store
from socialcredit.tlog import note


class System:
    """One installation: a store, the schemes in force, a clock and a holiday calendar, and the
    services over them.

    The services are attributes (``system.casework``, ``system.disclosure``...); each public verb
    of theirs is also an attribute of the system, the service's own bound method (so it is typed,
    documented and patched where it is defined), which is how the API, the CLI and the portal
    call them: ``system.check(...)``, ``system.file_objection(...)``."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        holidays: frozenset[dt.date] = frozenset(),
        signer: note.Signer | None = None,
        witnesses: Callable[[], list[note.Witness]] | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        # a scheme with a lint error is never in force, however the system was assembled: not
        # only from the command line or the API app (``SafeguardsFailed``, naming the item and
        # the rule); ``vocabulary`` the installation's categories (default: the shipped ones)
        enforce(
            ((registry.origin(f"{s.id}@{s.version}"), s) for s in registry.kept),
            vocabulary or shipped_vocabulary(),
        )
        self.context = context = Context(store, registry, clock=clock, holidays=holidays)
        self.tlog = TransparencyLog(context, signer, witnesses)
        self.records = Records(context)
        self.keys = Keys(context)
        self.integrity = Integrity(context)
        self.casefiles = CaseFiles(context)
        self.decisions = Decisions(context, self.casefiles)
        self.duties = Duties(context, self.casefiles)
        casefiles, decisions, records, duties = self.casefiles, self.decisions, self.records, self.duties
        self.casework = Casework(
            context, casefiles=casefiles, decisions=decisions, records=records, duties=duties
        )
        self.restorations = Restorations(
            context, casefiles=casefiles, decisions=decisions, records=records, duties=duties
        )
        self.disclosure = Disclosure(context, casefiles=casefiles, decisions=decisions)
        self.casework.pending_subjects = self.disclosure.pending_subjects
        self.receipts = Receipts(context, decisions)
        self.histories = Histories(context, decisions, casefiles)
        self.documents = Documents(context, casefiles)
        self.retention = Retention(context, decisions, disclosure=self.disclosure)
        self.erasures = Erasures(
            context, casefiles=casefiles, decisions=decisions, duties=duties, purge=self.retention.purge
        )
        self.enrolment = Enrolments(context, casefiles=casefiles, decisions=decisions, records=records)

        self.retention_run = self.retention.run
        self.erasure_of = store.erasure_of
        self.erased_records = store.erased_records
        self.file_erasure = self.erasures.file_erasure
        self.decide_erasure = self.erasures.decide_erasure
        self.erasable = self.erasures.erasable
        self.ingest = self.records.ingest
        self.register = self.records.register
        self.register_rows = self.records.register_rows
        self.batches = self.records.batches
        self.batch = self.records.batch

        self.create_key = self.keys.create_key
        self.authenticate = self.keys.authenticate
        self.cached_principal = self.keys.cached_principal
        self.revoke_key = self.keys.revoke_key
        self.rotate_key = self.keys.rotate_key
        self.forget_key = self.keys.forget_key

        self.audit_log = self.integrity.audit_log
        self.export_audit = self.integrity.export_audit
        self.looks_about = self.integrity.looks_about
        self.looks_after = self.integrity.looks_after
        self.verify = self.integrity.verify

        self.cases = self.casefiles.cases
        self.erased_cases = self.casefiles.erased_cases
        self.may_act_for = self.casefiles.may_act_for

        self.view = self.decisions.view
        self.read = self.decisions.read
        self.check = self.decisions.check
        self.check_submit = self.decisions.check_submit
        self.check_async = self.decisions.check_async
        self.build_decision_state = self.decisions.build_state
        self.reproduce = self.receipts.reproduce
        self.score_history = self.histories.score_history

        self.involved_in = self.duties.involved_in

        self.file_objection = self.casework.file_objection
        self.file_review = self.casework.file_review
        self.lists_by_rule = self.casework.lists_by_rule
        self.decide_objection = self.casework.decide_objection
        self.appeal = self.casework.appeal
        self.decide_appeal = self.casework.decide_appeal
        self.overdue = self.casework.overdue
        self.link_document = self.documents.link_document
        self.document_links = self.documents.document_links
        self.resolve_document = self.documents.resolve
        self.notices = self.casework.notices
        self.pending_notices = self.casework.pending_notices

        self.enrolments = self.enrolment.enrolments
        self.withdraw = self.enrolment.withdraw
        self.apply = self.enrolment.apply
        self.consents = self.enrolment.consents
        self.consent = self.enrolment.consent

        self.apply_restoration = self.restorations.apply_restoration
        self.decide_restoration = self.restorations.decide_restoration

        self.late_removals = self.disclosure.late_removals
        self.source_accuracy = self.disclosure.source_accuracy
        self.scan = self.disclosure.scan
        self.population = self.disclosure.population
        self.public_list = self.disclosure.public_list
        self.public_entries = self.disclosure.public_entries
        self.public_page = self.disclosure.public_page
        self.list_census = self.disclosure.list_census
        self.public_lookup = self.disclosure.public_lookup
        self.transparency = self.disclosure.transparency

        self.checkpoint = self.tlog.checkpoint
        self.record_proof = self.tlog.record_proof
        self.audit_proof = self.tlog.audit_proof
        self.consistency = self.tlog.consistency
        self.cosigned_checkpoint = self.tlog.cosigned_checkpoint
        self.latest_cosigned = self.tlog.latest_cosigned
        self.submit_cosignature = self.tlog.submit_cosignature
        self.log_tile = self.tlog.tile
        self.log_entries = self.tlog.entries
        self.log_epochs = self.tlog.epochs

        self.unrestorable_items = context.unrestorable_items

    operator = staticmethod(operator)

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def registry(self) -> Registry:
        """The schemes in force; replacing them (schemes loaded again) is seen by every service
        at once, and nothing computed under the old ones is answered."""
        return self.context.registry

    @registry.setter
    def registry(self, registry: Registry) -> None:
        self.context.registry = registry

    @property
    def clock(self) -> Callable[[], dt.datetime]:
        return self.context.clock

    @property
    def holidays(self) -> frozenset[dt.date]:
        return self.context.holidays


__all__ = [
    "Context",
    "Consent",
    "Enrolment",
    "Notice",
    "NotFound",
    "PopulationSummary",
    "Question",
    "RegisterResult",
    "Reproduction",
    "Row",
    "SourceAccuracy",
    "SubjectSummary",
    "SubjectHistory",
    "SubjectView",
    "System",
    "Unauthenticated",
    "utcnow",
]
