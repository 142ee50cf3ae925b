"""Where a ``POST /decisions`` request's CPU goes: the server run in this process under wrk.

    .venv/bin/python bench/decisions_profile.py [--residents N] [--seconds S] [--dir D] [--top K]

Why in process: the server's threads (the event loop, the worker threads a request hops to, the
audit writer) can then be measured one by one. A city of ``--residents`` is built as
``bench/decisions.py`` builds it (its own ``build_city``: ingested, every state built), kept in
``--dir`` so a second run reuses it. The app is the one ``socialcredit serve`` serves
(``create_app`` over ``open_system``, uvicorn with httptools and uvloop), on the same
installation settings as the bench's servers (``served_env``: no rate limits).

Two wrk runs (32 connections), each asking about residents not asked before by that server (the
view cache is emptied between runs, as a fresh server starts: the states stay in the store):

1. **threads**: the CPU each thread spent, per request answered (Linux ``/proc``);
2. **profile**: the same under cProfile in every thread, the functions with the most own time
   and the cumulative time of the route's steps. cProfile slows Python code about twofold, so
   its figures are shares, not costs.

The load average is printed with every figure: on a shared machine the CPU a request is the
figure to compare, not the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import load_average  # noqa: E402
from decisions import build_city, free_port, served_env  # noqa: E402
from httpload import body  # noqa: E402
from wrkload import run_wrk  # noqa: E402

STEPS = (
    "decide",
    "check_async",
    "_prepare_check",
    "_stated",
    "decision_state",
    "cached_principal",
    "model_validate",
    "submit_async",
    "append_audit",
    "body",
    "to_thread",
    "decision",
)
"""Functions whose cumulative time the profile reports (by name, in any module)."""


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each of this process's threads so far, by thread name (Linux)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name), f"native {task.name}")
        group = name.split("_")[0].rstrip("0123456789- ") if name.startswith("asyncio_") else name
        if name.startswith("AnyIO worker"):
            group = "AnyIO worker thread"
        out[group] = out.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


class Profiles:
    """One cProfile per thread, started by ``threading.setprofile`` in each new thread and by
    hand in the event loop's."""

    def __init__(self) -> None:
        self.all: list[cProfile.Profile] = []
        self.lock = threading.Lock()

    def start_here(self) -> None:
        p = cProfile.Profile()
        with self.lock:
            self.all.append(p)
        p.enable()

    def hook(self, *_: Any) -> None:
        sys.setprofile(None)
        self.start_here()

    def stats(self) -> pstats.Stats:
        out = io.StringIO()
        stats: pstats.Stats | None = None
        for p in self.all:
            p.create_stats()
            stats = pstats.Stats(p, stream=out) if stats is None else stats.add(p)
        assert stats is not None
        return stats


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--residents", type=int, default=3000)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument("--dir", default="/tmp/sc-decisions-profile")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--skip", type=int, default=0, help="start with the residents after the first N")
    p.add_argument("--no-profile", action="store_true", help="only the threads' CPU")
    args = p.parse_args(argv)

    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'decisions.db'}"
    env = served_env(work / "home", url)
    saved = work / "city.json"
    if not saved.exists():
        persons, key, state_s = build_city(url, args.residents, args.seed)
        saved.write_text(json.dumps({"persons": persons, "key": key, "state_s": state_s}))
    city = json.loads(saved.read_text())
    persons, key = city["persons"], city["key"]
    os.environ.update(env)

    import uvicorn

    from socialcredit.api import create_app
    from socialcredit.cli.common import open_system
    from socialcredit.settings import get_settings

    get_settings.cache_clear()
    system = open_system()
    app = create_app(system)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", http="httptools", loop="uvloop"
    )
    server = uvicorn.Server(config)
    result: dict[str, Any] = {"residents": args.residents, "load_average_before": load_average()}
    profiles = Profiles()
    cursor = [args.skip]

    def ask(tag: str) -> dict[str, Any]:
        system.context.views.invalidate()  # cold, as a fresh server: the states stay stored
        n = 20_000
        who = persons[cursor[0] :] or persons
        bodies = [body(who[k % len(who)], f"{tag} {k}") for k in range(n)]
        before = thread_cpu()
        run = run_wrk(port, key, bodies, args.connections, args.seconds)
        after = thread_cpu()
        cursor[0] += run.written
        per = {t: round((after[t] - before.get(t, 0.0)) / max(1, run.answered) * 1e6) for t in after}
        return {
            "wrk": run.figures(),
            "distinct": cursor[0] <= len(persons),
            "cpu_us_per_request_by_thread": {t: us for t, us in sorted(per.items()) if us},
            "cpu_us_per_request": sum(per.values()),
            "load_average": load_average(),
        }

    def drive() -> None:
        try:
            while not server.started:
                time.sleep(0.05)
            # warm-up: the same 200 residents (keys, schemes, code paths), not counted
            run_wrk(port, key, [body(s, f"warm {k}") for k, s in enumerate(persons[-200:])], 8, 1)
            result["threads"] = ask("threads")
            if not args.no_profile:
                threading.setprofile(profiles.hook)
                loop_profile.set()
                time.sleep(2.5)  # the audit writer's thread ends when idle: the next is profiled
                result["profile"] = ask("profile")
                threading.setprofile(None)
        finally:
            server.should_exit = True

    loop_profile = threading.Event()
    loop_started = threading.Event()

    async def served(scope: Any, receive: Any, send: Any) -> None:
        """The app, starting the event loop's profile on the first request once asked to."""
        if loop_profile.is_set() and not loop_started.is_set():
            loop_started.set()
            profiles.start_here()
            # new worker threads, so that each starts its profile (a thread's is its own)
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio"))
        await app(scope, receive, send)

    config.app = served
    driver = threading.Thread(target=drive, name="driver", daemon=True)
    driver.start()
    server.run()
    driver.join()
    system.store.close()
    print(json.dumps(result, indent=1))
    if profiles.all:
        stats = profiles.stats()
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats("|".join(f"\\b{s}\\b" for s in STEPS))
        print(out.getvalue())
    return result


if __name__ == "__main__":
    main()
