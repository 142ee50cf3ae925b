"""The simulation report: ``report.json`` with every figure, PNG charts and ``report.html``.

Why files and not a server page: a report is evidence to pass around (a journalist's, a
researcher's, an operator's), so it must open anywhere and say everything it shows in numbers too.
Charts are drawn with matplotlib's Agg backend (no display needed); each arm of a ``--vs`` run is
one line or one bar in the same chart, so the difference is what the eye sees.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from socialcredit.sim.population import AGE_BANDS, INCOME_BANDS  # noqa: E402
from socialcredit.synth import DISTRICTS  # noqa: E402

SPIRAL_DEFINITION = (
    "a person is in a spiral in a month when they have been under at least one punishment for 3 or more "
    "consecutive months and lost their job after that run of punishment began"
)
GROUPS = {
    "district": [d.name for d in DISTRICTS],
    "age_band": list(AGE_BANDS),
    "income_band": list(INCOME_BANDS),
}


def totals(arm: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of one arm over the whole run."""
    steps = arm["steps"]
    last = steps[-1]
    dp: dict[str, int] = {}
    for s in steps:
        for k, v in s["objections"].items():
            dp[k] = dp.get(k, 0) + v
    persons = arm["persons"]
    gaps = {}
    for name, labels in GROUPS.items():
        g = last["groups"][name]
        means = g["mean_score"][: len(labels)]
        rates = g["listing_rate"][: len(labels)]
        gaps[name] = {
            "mean_score": dict(zip(labels, means, strict=False)),
            "listing_rate": dict(zip(labels, rates, strict=False)),
            "mean_score_gap": max(means) - min(means),
            "listing_rate_ratio": (max(rates) / min(rates)) if min(rates) > 0 else None,
        }
    flagged = [a for a in arm["source_anomalies"] if a["flagged"]]
    bm_source = arm["black_market_source"]
    accuracy = {a["source"]: a for a in arm["source_accuracy"]}
    return {
        "label": arm["settings"]["label"],
        "final_mean_score": last["mean_score"],
        "final_grades": dict(zip(arm["grades"], last["grades"], strict=True)),
        "final_list_sizes": dict(zip(arm["lists"], last["list_sizes"], strict=True)),
        "persons_punished_at_end": last["punished_persons"],
        "persons_in_spiral_at_end": last["in_spiral"],
        "persons_ever_in_spiral": arm["ever_in_spiral"],
        "share_ever_in_spiral": arm["ever_in_spiral"] / persons,
        "members_left": arm["members_left"],
        "members_rejoined": arm["members_rejoined"],
        "wrongly_punished_person_days": sum(s["wrongly_punished_person_days"] for s in steps),
        "suspended_entry_days": sum(s["suspended_entry_days"] for s in steps),
        "objections": dp,
        "employment_rate_at_end": last["employment_rate"],
        "group_gaps": gaps,
        "black_market": {
            "buyers": last["black_market_buyers"],
            "mean_score_inflation_at_end": last["black_market_inflation"],
            "source": bm_source,
            "item": arm["black_market_item"],
            "source_overturned_share": accuracy[bm_source]["overturned_share"] if bm_source else None,
            "caught_by_source_accuracy": bool(
                bm_source
                and accuracy[bm_source]["overturned_share"]
                > 2 * max((a["overturned_share"] for a in arm["source_accuracy"]), default=0) / 3
                and accuracy[bm_source]["overturned"] > 0
            ),
            "caught_by_anomaly_check": any(a["source"] == bm_source for a in flagged),
            "flagged_sources": [f"{a['source']} ({a['item']}, z={a['z']:.1f})" for a in flagged],
        },
        "versions": arm["versions"],
        "tie_correlation_at_end": next(
            (s["tie_correlation"] for s in reversed(steps) if "tie_correlation" in s), None
        ),
    }


def _chart(path: Path, title: str, ylabel: str, series: Sequence[tuple[str, Sequence[float]]]) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=80)
    for label, ys in series:
        ax.plot(range(1, len(ys) + 1), ys, label=label, linewidth=1.6)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _bars(path: Path, title: str, labels: Sequence[str], arms: Sequence[tuple[str, Sequence[float]]]) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=80)
    width = 0.8 / max(1, len(arms))
    for k, (name, values) in enumerate(arms):
        ax.bar([i + k * width for i in range(len(labels))], values, width=width, label=name)
    ax.set_xticks([i + width * (len(arms) - 1) / 2 for i in range(len(labels))], labels, fontsize=8)
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3, axis="y")
    if len(arms) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def charts(arms: Sequence[dict[str, Any]], out: Path) -> list[tuple[str, str]]:
    """Draw the charts; returns (file name, caption) pairs in page order."""
    made: list[tuple[str, str]] = []

    def series(key: str, fn: Any = None) -> list[tuple[str, list[float]]]:
        return [(a["settings"]["label"], [fn(s) if fn else s[key] for s in a["steps"]]) for a in arms]

    _chart(out / "mean_score.png", "Mean score of persons", "score", series("mean_score"))
    made.append(("mean_score.png", "Mean score of persons by month."))
    _chart(out / "punished.png", "Persons under a punishment", "persons", series("punished_persons"))
    made.append(("punished.png", "Persons under at least one punishment by month."))
    _chart(out / "spiral.png", "Persons in a negative spiral", "persons", series("in_spiral"))
    made.append(("spiral.png", f"Persons in a spiral ({SPIRAL_DEFINITION})."))
    _chart(
        out / "wrongly_punished.png",
        "Persons punished only because of a wrong record",
        "persons",
        series("wrongly_punished_persons"),
    )
    made.append(
        (
            "wrongly_punished.png",
            "Persons who would not be punished without the records about them "
            "that were wrong (wrong person or never happened).",
        )
    )
    for j, lid in enumerate(arms[0]["lists"]):
        if all(lid in a["lists"] for a in arms):
            name = f"list_{j}.png"
            _chart(
                out / name,
                f"On {lid}",
                "subjects",
                [
                    (a["settings"]["label"], [s["list_sizes"][a["lists"].index(lid)] for s in a["steps"]])
                    for a in arms
                ],
            )
            made.append((name, f"Subjects on {lid} (persons and organisations, representatives included)."))
    if all(a["grades"] == arms[0]["grades"] for a in arms):
        _bars(
            out / "grades.png",
            "Grades of persons at the end",
            arms[0]["grades"],
            [(a["settings"]["label"], a["steps"][-1]["grades"]) for a in arms],
        )
        made.append(("grades.png", "Grade distribution of persons in the last month."))
    _bars(
        out / "income_listing.png",
        "Share of persons on a black list, by income band",
        list(INCOME_BANDS),
        [(a["settings"]["label"], a["steps"][-1]["groups"]["income_band"]["listing_rate"]) for a in arms],
    )
    made.append(("income_listing.png", "Listing rate (any black list) by income band in the last month."))
    return made


def _table(rows: Sequence[Sequence[Any]], head: Sequence[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.4g}"
        if isinstance(v, int):
            return f"{v:,}"
        return html.escape(str(v))

    h = "".join(f"<th>{html.escape(x)}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _stamp(meta: dict[str, Any]) -> str:
    """The banner of a research-only run (``meta["stamp"]``), with what fails: a report of a
    scheme that may never be in force must not be mistaken for one that may."""
    if not meta.get("stamp"):
        return ""
    items = "".join(f"<li>{html.escape(b)}</li>" for b in meta.get("safeguard_breaches", []))
    return (
        '<div style="border:3px solid #b00;padding:.5em 1em;margin-bottom:1em">'
        f'<p style="color:#b00;font-weight:bold;font-size:1.3em">{html.escape(meta["stamp"])}</p>'
        f"<ul>{items}</ul></div>"
    )


def write(arms: Sequence[dict[str, Any]], out: Path, *, command: str, meta: dict[str, Any]) -> dict[str, Any]:
    """Write report.json, the charts and report.html into ``out``; returns the JSON document.
    A research-only run's ``meta`` carries ``stamp`` and ``safeguard_breaches``: both files show
    them first."""
    out.mkdir(parents=True, exist_ok=True)
    summary = [totals(a) for a in arms]
    doc = {
        **({"stamp": meta["stamp"]} if meta.get("stamp") else {}),  # first, where a reader looks
        "command": command,
        **meta,
        "spiral_definition": SPIRAL_DEFINITION,
        "summary": summary,
        "arms": list(arms),
    }
    (out / "report.json").write_text(json.dumps(doc, indent=1, default=float) + "\n")
    made = charts(arms, out)
    labels = [s["label"] for s in summary]
    head = ["figure", *labels]
    rows: list[list[Any]] = [
        [
            "mean score at the end (of the persons scored; of organisations for a rating of them only)",
            *[s["final_mean_score"] for s in summary],
        ],
        ["persons punished at the end", *[s["persons_punished_at_end"] for s in summary]],
        ["persons in a spiral at the end", *[s["persons_in_spiral_at_end"] for s in summary]],
        ["persons ever in a spiral", *[s["persons_ever_in_spiral"] for s in summary]],
        ["members who left the opt-in scheme", *[s["members_left"] for s in summary]],
        ["of them, joined it again (afresh)", *[s["members_rejoined"] for s in summary]],
        ["wrongly punished person-days", *[s["wrongly_punished_person_days"] for s in summary]],
        [
            "list entries suspended by an open objection (entry-days)",
            *[s["suspended_entry_days"] for s in summary],
        ],
        ["objections filed", *[s["objections"].get("filed", 0) for s in summary]],
        ["objections upheld (first instance)", *[s["objections"].get("upheld", 0) for s in summary]],
        ["objections rejected", *[s["objections"].get("rejected", 0) for s in summary]],
        ["appeals", *[s["objections"].get("appealed", 0) for s in summary]],
        ["appeals upheld", *[s["objections"].get("appeal_upheld", 0) for s in summary]],
        ["records corrected", *[s["objections"].get("corrected", 0) for s in summary]],
        ["records restored", *[s["objections"].get("restored", 0) for s in summary]],
        ["employment rate at the end", *[s["employment_rate_at_end"] for s in summary]],
        ["score correlation along ties", *[s["tie_correlation_at_end"] for s in summary]],
        ["black-market buyers", *[s["black_market"]["buyers"] for s in summary]],
        ["their score inflation", *[s["black_market"]["mean_score_inflation_at_end"] for s in summary]],
        ["caught by source accuracy", *[s["black_market"]["caught_by_source_accuracy"] for s in summary]],
        ["caught by the anomaly check", *[s["black_market"]["caught_by_anomaly_check"] for s in summary]],
    ]
    for s in summary:
        for lid, n in s["final_list_sizes"].items():
            rows.append([f"{s['label']}: on {lid} at the end", *([n] + [""] * (len(summary) - 1))])
    gap_rows = []
    for s in summary:
        for name, g in s["group_gaps"].items():
            gap_rows.append(
                [s["label"], name, g["mean_score_gap"], g["listing_rate_ratio"] or "n/a"]
                + [f"{k}: {v:.4g} / {g['listing_rate'][k]:.3%}" for k, v in list(g["mean_score"].items())[:6]]
            )
    trans = []
    for a in arms:
        for i, row in enumerate(a["grade_transitions"]):
            trans.append([a["settings"]["label"], a["grades"][i], *[f"{x:.4f}" for x in row]])
    versions = [
        [s["label"], v["month"], v["from"], ", ".join(f"{k} {n}" for k, n in sorted(v["in_force"].items()))]
        for s in summary
        for v in s["versions"]
    ]
    grades0 = arms[0]["grades"]
    figures = "".join(
        f'<figure><img src="{html.escape(f)}" alt="{html.escape(c)}">'
        f"<figcaption>{html.escape(c)}</figcaption></figure>"
        for f, c in made
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>socialcredit simulation</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:1em 0;font-size:.9em}}
td,th{{border:1px solid #ccc;padding:.25em .5em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}figure{{display:inline-block;margin:.5em;width:31em}}
img{{max-width:100%}}figcaption{{font-size:.85em;color:#555}}
code{{background:#f4f4f4;padding:.1em .3em}}</style>
</head><body>
{_stamp(meta)}<h1>What the scheme does to a population</h1>
<p><code>{html.escape(command)}</code></p>
<p>{meta["persons"]:,} persons and {meta["organisations"]:,} organisations, {meta["months"]} months, seed
{meta["seed"]}. The rules are the scheme files compiled by the core and checked against the live per-subject
code; behaviour, errors and feedback are the simulator's assumptions (docs/simulation.md). Every figure is in
<a href="report.json">report.json</a>.</p>
<p><b>Spiral:</b> {html.escape(SPIRAL_DEFINITION)}.</p>
<h2>Headline figures</h2>{_table(rows, head)}
<h2>Versions in force (each month is scored and listed under those in force on its first day)</h2>
{_table(versions, ["arm", "from month", "from", "scheme versions"])}
<h2>Charts</h2>{figures}
<h2>Gaps between groups (last month)</h2>
{_table(gap_rows, ["arm", "group", "mean score gap", "listing rate ratio", "first groups: mean / listed"])}
<h2>Grade transitions (share moving from the row's grade to the column's in a month)</h2>
{_table(trans, ["arm", "from", *grades0])}
</body></html>
"""
    (out / "report.html").write_text(page)
    return doc
