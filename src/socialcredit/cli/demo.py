"""``serve`` the API and the portal, and the ``demo``: a synthetic city built, ingested, scored,
summarised and served.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from socialcredit import i18n
from socialcredit.api.reports import DemoOut
from socialcredit.cli.common import JsonOpt, app, emit, err, fail, open_system, out, progress, say
from socialcredit.cli.oswords import problem
from socialcredit.cli.rescorer import Rescorer
from socialcredit.i18n import N_
from socialcredit.service import System
from socialcredit.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from socialcredit.api.limits import Limits

log = logging.getLogger(__name__)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes serving one database (default 1)")
    ] = 1,
) -> None:
    """Serve the HTTP API."""
    limits = rate_limits()
    settings = get_settings()
    system = open_system()  # the schemes checked and the schema upgraded once, before any worker
    if workers == 1:
        daily_retention(system)
        run_server(system, host or settings.host, port or settings.port, limits)
        return
    if system.store.dialect.file is None and system.store.dialect.name == "sqlite":
        system.store.close()
        fail(i18n.translate(_WORKERS_IN_MEMORY))
    keep_state(system)  # one sweep for all workers, in this process
    daily_retention(system)  # in the supervising process only: one run a day, not one a worker
    rescorer = Rescorer().start()  # one public rescore for all workers (decision 0087)
    try:
        run_workers(host or settings.host, port or settings.port, workers)
    finally:
        rescorer.stop()


def rate_limits() -> Limits:
    """The rate limits from the environment, read once before anything starts: a bad setting is
    one line naming it here, not a worker failing to start or a demo refused after building its
    city. The app served in this process is given them; each worker of ``--workers`` reads the
    same environment."""
    from socialcredit.api.limits import Limits
    from socialcredit.errors import Refused

    try:
        return Limits.from_env()
    except Refused as exc:
        fail(exc.describe())


DAY_S = 86_400.0


def daily_retention(system: System) -> threading.Thread:
    """``retention run`` now and then once a day while serving, on a daemon thread (issue 21:
    erasure happens on its own). A failed run is logged and tried again the next day."""

    def loop() -> None:
        while True:
            try:
                system.retention_run()
            except Exception:  # a run must never stop the server; the next day tries again
                log.exception("retention run failed")
            time.sleep(DAY_S)

    thread = threading.Thread(target=loop, name="retention", daemon=True)
    thread.start()
    return thread


_WORKERS_IN_MEMORY = N_("--workers: an in-memory database cannot be shared by worker processes")


def _serving(host: str, port: int) -> str:
    return i18n.translate(
        N_(
            "serving the portal on http://{host}:{port}/portal/ and the API on http://{host}:{port}/ "
            "(docs at /docs); Ctrl-C stops",
            host=host,
            port=port,
        )
    )


def keep_state(system: System) -> threading.Thread:
    """Start the sweep that keeps every subject's decision state built (docs/decisions/
    0048-materialised-decision-state.md) in a daemon thread: it ends with the process."""
    sweep = threading.Thread(
        target=system.decisions.keep_state, args=(threading.Event(),), name="decision-state", daemon=True
    )
    sweep.start()
    return sweep


def run_server(system: System, host: str, port: int, limits: Limits) -> None:
    import uvicorn

    from socialcredit.api import create_app

    err.print(_serving(host, port))
    rescorer = None
    if system.store.dialect.file is None and system.store.dialect.name == "sqlite":
        system.disclosure.serve()  # in memory: no other process can open it; a thread rescores
    else:  # rescored in a process of its own, off this interpreter (decisions 0049, 0087)
        rescorer = Rescorer().start()
        system.disclosure.follow()
    keep_state(system)
    try:
        uvicorn.run(create_app(system, limits=limits), host=host, port=port, log_level="warning")
    finally:
        if rescorer is not None:
            rescorer.stop()


def run_workers(host: str, port: int, workers: int) -> None:
    """Serve with ``workers`` processes, uvicorn's own multi-process mode (docs/decisions/0044-workers.md):
    one listening socket shared by workers that each open the installation from the environment
    (:func:`worker_app`), so each holds its own store connections, view cache and audit writer.
    Nothing is shared in memory but the write-rate buckets: caches stay fresh through the chain
    heads every write moves, every audit append takes the chain head's lock in the database, and
    the buckets are files in a directory made for this run (``SOCIALCREDIT_RATE_DIR``, unless the
    operator names one to share with other servers on the machine), so N workers give a key its
    rate once (decision 0073).

    uvicorn kills and replaces a worker that does not answer its supervisor's ping within
    ``WORKER_HEALTHCHECK_S``; its default (5 s) killed workers still starting on a loaded machine
    (a worker imports the whole app after the ping is sent), so a restart loop was possible."""
    import os
    import shutil
    import tempfile

    import uvicorn

    from socialcredit.api.limits import RATE_DIR

    made = None
    if RATE_DIR not in os.environ:
        made = os.environ[RATE_DIR] = tempfile.mkdtemp(prefix="socialcredit-rate-")
    err.print(_serving(host, port))
    try:
        uvicorn.run(
            f"{__name__}:worker_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )
    finally:
        if made is not None:
            del os.environ[RATE_DIR]
            shutil.rmtree(made, ignore_errors=True)


WORKER_HEALTHCHECK_S = 30
"""Seconds a worker may take to answer uvicorn's health check before it is replaced."""


def worker_app() -> FastAPI:
    """One worker's app (uvicorn's factory): the installation opened as ``serve`` opened it, from
    the same environment. Its schema is current already (the parent upgraded it before starting
    the workers)."""
    from socialcredit.api import create_app

    system = open_system()
    system.disclosure.follow()  # public pages: the rescorer's snapshots (decision 0087)
    return create_app(system)


DEMO_KEYS = ("demo operator", "demo airline", "demo subject")
"""The names of the keys a demo run creates (and the next run revokes)."""


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served on (``None``: it can), found by binding it at once."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            return problem(exc)
    return None


def command_name() -> str:
    """How to type this command here: ``socialcredit`` if the shell finds this one, else its path
    (``.venv/bin/socialcredit`` after ``scripts/demo.sh``, which puts nothing on the PATH)."""
    import os
    import shutil
    import sys
    from pathlib import Path

    mine = Path(sys.executable).parent / "socialcredit"
    found = shutil.which("socialcredit")
    if found and Path(found).resolve() == mine.resolve():
        return "socialcredit"
    try:
        return os.path.relpath(mine)
    except ValueError:  # another drive (Windows)
        return str(mine)


@app.command()
def demo(
    residents: Annotated[int, typer.Option(min=100, max=10_000_000, help="City size")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same city")] = 2014,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after the summary")] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="Build the city again even if it is there")] = False,
    port: Annotated[int | None, typer.Option(help="Port to serve on (default 8000)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a synthetic city (residents, organisations, 20 agencies, ~10 records per resident over
    three years), ingest it, score it, list it, print a summary, then serve the API."""
    from socialcredit.demo import consent_origin, origin_of, run_demo

    settings = get_settings()
    limits = None if no_serve else rate_limits()
    if not no_serve:  # before building: a city takes minutes, a busy port is found in a moment
        port = port or settings.port
        busy = port_in_use(settings.host, port)
        if busy:
            said = N_(
                "cannot serve on {host}:{port} ({busy}); choose another port with --port, e.g. "
                "`socialcredit demo --port {next}`, or add --no-serve",
                host=settings.host,
                port=port,
                busy=busy,
                next=port + 1,
            )
            fail(escape(i18n.translate(said)))
    system = open_system()
    url = settings.url()
    origins = system.store.batches_by_origin()
    mine = origin_of(residents, seed)
    only_demo = all(o.startswith("demo city") for o in origins)
    # the city's records, and the consents its listed subjects gave after them (demo.stream_consents)
    reuse = not fresh and mine in origins and set(origins) <= {mine, consent_origin(residents, seed)}
    if origins and not reuse:
        if not only_demo:
            held = N_(
                "the database {url} already holds other data ({origins}); run the demo with another "
                "SOCIALCREDIT_HOME",
                url=url,
                origins=", ".join(list(origins)[:3]),
            )
            fail(escape(i18n.translate(held)))
        # the database holds only demo cities: the demo's own, replaced by the one asked for
        replacing = N_(
            "replacing the previous demo city ({origins}) in {url}", origins=", ".join(origins), url=url
        )
        err.print(escape(i18n.translate(replacing)), highlight=False)
        system.store.reset()
    if reuse:
        reusing = N_(
            "the city (residents={residents}, seed={seed}) is already in {url}; reusing it",
            residents=residents,
            seed=seed,
            url=url,
        )
        err.print(escape(i18n.translate(reusing)), highlight=False)
    with progress() as p:
        ing = p.add_task(i18n.translate(N_("ingesting records")), total=None)
        sco = p.add_task(i18n.translate(N_("scoring and listing")), total=None, start=False)

        def on_ingest(n: int, total: int) -> None:
            p.update(ing, total=max(total, p.tasks[ing].completed + n), advance=n)

        def on_score(n: int, total: int) -> None:
            if not p.tasks[sco].started:
                p.start_task(sco)
            p.update(sco, total=total, advance=n)

        result = run_demo(
            system, residents=residents, seed=seed, ingest_progress=on_ingest, score_progress=on_score
        )
        p.update(ing, total=p.tasks[ing].completed)
    for old in system.store.list_keys():  # a run's keys replace the last run's, never pile up
        if old.name in DEMO_KEYS and old.revoked_at is None:
            system.revoke_key(old.key_id)
    operator = system.create_key("operator", "demo-operator", name="demo operator")
    airline = system.create_key("relying_party", "airlines", name="demo airline")
    examples = result.summary.examples
    subject_code = next(iter(examples.get("court-dishonest-debtors/dishonest-debtors", [])), None) or next(
        c for v in examples.values() for c in v
    )
    subject = system.create_key("subject", subject_code, name="demo subject")
    s = result.summary
    data = DemoOut(
        database=url,
        reused=reuse,
        residents=residents,
        organisations=len(result.city.subjects) - residents,
        agencies=len(result.city.agencies),
        submitted=result.ingest.submitted,
        accepted=result.ingest.accepted,
        duplicate=result.ingest.duplicate,
        quarantined=result.ingest.quarantined,
        as_of=s.as_of,
        grades=s.grades,
        lists=s.lists,
        examples=examples,
        seconds={k: round(v, 2) for k, v in result.seconds.items()},
        keys={
            "operator": operator.token,
            "relying_party (airlines)": airline.token,
            f"subject {subject_code}": subject.token,
        },
    )
    if as_json:
        emit(data)
    else:
        _summary(system, data, s.records, command_name(), subject_code)
    if limits is not None:
        # the public pages need today's population scan; warm it while the server starts
        threading.Thread(target=system.scan, name="warm-scan", daemon=True).start()
        run_server(system, settings.host, port or settings.port, limits)


EXAMPLE_GRADE = N_("grade {grade} ({scheme_id})")
"""The template of an example's label for a grade (``service/scans.py`` writes it in English, the
key ``--json`` keeps): catalogued here so that :func:`~socialcredit.i18n.reword` words it."""
TIMINGS = {"generate": N_("building the city"), "ingest": N_("ingesting"), "score": N_("scoring")}
"""The demo's steps as its timings line names them (``--json`` keeps the keys)."""


def _summary(system: System, data: DemoOut, records: int, cmd: str, code: str) -> None:
    """The demo's summary in the command's language: the city, each scheme's grades, each list's
    entries as the portal counts them, subjects to look up, timings, the keys made (shown once)
    and what to try. Ids, codes, grades and keys stay as they are."""
    city = N_(
        "[bold]A synthetic city[/]: {residents} residents, {organisations} organisations, "
        "{agencies} agencies; {records} records ({accepted} accepted, {duplicate} duplicate, "
        "{quarantined} quarantined) as of {as_of}",
        residents=f"{data.residents:,}",
        organisations=f"{data.organisations:,}",
        agencies=data.agencies,
        records=f"{records:,}",
        accepted=f"{data.accepted:,}",
        duplicate=f"{data.duplicate:,}",
        quarantined=f"{data.quarantined:,}",
        as_of=f"{data.as_of:%Y-%m-%d}",
    )
    say(city)
    for scheme_id, dist in data.grades.items():
        total = sum(dist.values()) or 1
        shares = ", ".join(f"{g} {n:,} ({100 * n / total:.1f}%)" for g, n in dist.items())
        say(N_("  {scheme} grades: {shares}", scheme=scheme_id, shares=shares))
    census = system.list_census(data.as_of)  # as the portal's list page and report count them
    for list_id, n in data.lists.items():
        c = census[list_id]
        line = N_(
            "  on {list_id}: {n} in force on {day} ({published} published rows + {via} legal "
            "representatives through their organisation)",
            list_id=list_id,
            n=f"{n:,}",
            day=f"{data.as_of:%Y-%m-%d}",
            published=f"{c.published:,}",
            via=f"{c.via:,}",
        )
        out.print(escape(i18n.translate(line)), highlight=False)
    say(N_("Subjects to look up:"))
    for label, found in data.examples.items():
        out.print(f"  {escape(i18n.reword(label))}: {', '.join(found)}", highlight=False)
    timings = ", ".join(f"{i18n.translate(TIMINGS.get(k, k))} {v:.1f}s" for k, v in data.seconds.items())
    say(N_("Timings: {timings}", timings=timings))
    say(N_("Keys (shown once):"))
    for label, token in data.keys.items():
        out.print(f"  {escape(label)}: {token}", highlight=False)
    tries = N_("Try: {cmd} score {code}   |   {cmd} check {code} no-flights", cmd=escape(cmd), code=code)
    say(tries)
