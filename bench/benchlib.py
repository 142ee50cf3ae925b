"""Shared by the benchmarks: the machine's description and a results section in docs/benchmarks.md."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {system}"


def load_average() -> str:
    """The 1-minute load average when the figures were taken (others' work shares the machine)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def percentile(samples: list[float], q: int) -> float:
    """The q-th percentile (1..99) of ``samples``, interpolated between samples (never beyond the
    largest)."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def add_results(path: Path, section: str, marker: str, lines: list[str]) -> None:
    """Put ``lines`` at the top of the results under ``marker`` (newest first), adding the section
    (its intro text followed by the marker) at the end of the file the first time. Other sections
    are left exactly as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    tag = f"<!-- {marker} -->\n"
    if tag not in text:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n\n" + tag
    head, tail = text.split(tag, 1)
    path.write_text(head + tag + "\n" + "\n".join(lines) + "\n" + tail, encoding="utf-8")


def export_arguments(p: argparse.ArgumentParser, subjects: int, records: int) -> None:
    """The arguments of a bench over a generated export: its size, seed, and where it is kept."""
    p.add_argument("--subjects", type=int, default=subjects)
    p.add_argument("--records", type=int, default=records)
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument("--dir", default=None, help="keep the generated data here (default: a temp dir)")
    p.add_argument(
        "--reuse", action="store_true", help="with --dir: keep data generated there by an earlier run"
    )


def report(
    result: dict[str, Any], write: bool, write_markdown: Callable[[Mapping[str, Any], Path], None]
) -> dict[str, Any]:
    """Print a bench's figures as JSON and, with ``--write``, add them to docs/benchmarks.md."""
    print(json.dumps(result, indent=2))  # noqa: T201
    if write:
        write_markdown(result, DOC)
    return result
