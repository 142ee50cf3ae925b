"""``serve`` the API and the portal, and the ``demo``: a synthetic city built, ingested, scored,
summarised and served.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from socialcredit import i18n
from socialcredit.api.reports import DemoOut
from socialcredit.cli.common import JsonOpt, app, emit, err, fail, open_system, out, progress
from socialcredit.i18n import N_
from socialcredit.service import System
from socialcredit.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

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
    from socialcredit.api.limits import Limits
    from socialcredit.errors import Refused

    try:
        Limits.from_env()  # a bad rate setting is one line here, not a worker failing to start
    except Refused as exc:
        fail(exc.describe())
    settings = get_settings()
    system = open_system()  # the schemes checked and the schema upgraded once, before any worker
    if workers == 1:
        daily_retention(system)
        run_server(system, host or settings.host, port or settings.port)
        return
    if system.store.dialect.file is None and system.store.dialect.name == "sqlite":
        system.store.close()
        fail(i18n.translate(_WORKERS_IN_MEMORY))
    keep_state(system)  # one sweep for all workers, in this process
    daily_retention(system)  # in the supervising process only: one run a day, not one a worker
    run_workers(host or settings.host, port or settings.port, workers)


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


def run_server(system: System, host: str, port: int) -> None:
    import uvicorn

    from socialcredit.api import create_app

    err.print(_serving(host, port))
    system.disclosure.serve()  # public pages: rescored off the request path (decision 0049)
    keep_state(system)
    uvicorn.run(create_app(system), host=host, port=port, log_level="warning")


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
    system.disclosure.serve()  # public pages: rescored off the request path (decision 0049)
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
            return exc.strerror or str(exc)
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
    if not no_serve:  # before building: a city takes minutes, a busy port is found in a moment
        port = port or settings.port
        busy = port_in_use(settings.host, port)
        if busy:
            fail(
                f"cannot serve on {settings.host}:{port} ({busy}); choose another port with "
                f"--port, e.g. `socialcredit demo --port {port + 1}`, or add --no-serve"
            )
    system = open_system()
    url = settings.url()
    origins = system.store.batches_by_origin()
    mine = origin_of(residents, seed)
    only_demo = all(o.startswith("demo city") for o in origins)
    # the city's records, and the consents its listed subjects gave after them (demo.stream_consents)
    reuse = not fresh and mine in origins and set(origins) <= {mine, consent_origin(residents, seed)}
    if origins and not reuse:
        if not only_demo:
            fail(
                f"the database {url} already holds other data ({', '.join(list(origins)[:3])}); "
                "run the demo with another SOCIALCREDIT_HOME"
            )
        # the database holds only demo cities: the demo's own, replaced by the one asked for
        err.print(f"replacing the previous demo city ({', '.join(origins)}) in {url}")
        system.store.reset()
    if reuse:
        err.print(f"the city (residents={residents}, seed={seed}) is already in {url}; reusing it")
    with progress() as p:
        ing = p.add_task("ingesting records", total=None)
        sco = p.add_task("scoring and listing", total=None, start=False)

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
        out.print(
            f"[bold]A synthetic city[/]: {residents:,} residents, {data.organisations:,} organisations, "
            f"{data.agencies} agencies; {s.records:,} records "
            f"({result.ingest.accepted:,} accepted, {result.ingest.duplicate:,} duplicate, "
            f"{result.ingest.quarantined:,} quarantined) as of {s.as_of:%Y-%m-%d}"
        )
        for scheme_id, dist in s.grades.items():
            total = sum(dist.values()) or 1
            out.print(
                f"  {scheme_id} grades: "
                + ", ".join(f"{g} {n:,} ({100 * n / total:.1f}%)" for g, n in dist.items()),
                highlight=False,
            )
        census = system.list_census(s.as_of)  # as the portal's list page and report count them
        for list_id, n in s.lists.items():
            c = census[list_id]
            out.print(
                f"  on {list_id}: {n:,} in force on {s.as_of:%Y-%m-%d} ({c.published:,} published rows"
                f" + {c.via:,} legal representatives through their organisation)",
                highlight=False,
            )
        out.print("Subjects to look up:")
        for label, found in examples.items():
            out.print(f"  {label}: {', '.join(found)}", highlight=False)
        out.print("Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items()))
        out.print("Keys (shown once):", highlight=False)
        for label, token in data.keys.items():
            out.print(f"  {label}: {token}", highlight=False)
        cmd = command_name()
        out.print(
            f"Try: {cmd} score {subject_code}   |   {cmd} check {subject_code} no-flights",
            highlight=False,
        )
    if not no_serve:
        # the public pages need today's population scan; warm it while the server starts
        threading.Thread(target=system.scan, name="warm-scan", daemon=True).start()
        run_server(system, settings.host, port or settings.port)
