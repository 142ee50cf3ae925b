"""The simulation report: ``report.json`` with every figure, SVG charts and ``report.html``.

Why files and not a server page: a report is evidence to pass around (a journalist's, a
researcher's, an operator's), so it must open anywhere and say everything it shows in numbers too.
Charts are drawn with matplotlib's Agg backend (no display needed); each arm of a ``--vs`` run is
one line or one bar in the same chart, so the difference is what the eye sees.

Language (decision 0072): the page and its charts are in the command's language (``--lang``,
``LANG``: ``i18n.current()`` while :func:`write` runs); ``report.json`` keeps its English keys
and values, being data. The charts are SVG with their text kept as text, so the reader's browser
draws Chinese with its own fonts (a PNG would need a CJK font where the report is made).
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from socialcredit import i18n  # noqa: E402
from socialcredit.i18n import N_  # noqa: E402
from socialcredit.i18n import gettext as _  # noqa: E402
from socialcredit.sim.population import AGE_BANDS, INCOME_BANDS  # noqa: E402
from socialcredit.synth import DISTRICTS  # noqa: E402

SPIRAL_DEFINITION = N_(
    "a person is in a spiral in a month when they have been under at least one punishment for 3 or more "
    "consecutive months and lost their job after that run of punishment began"
)
"""What a spiral is: English in ``report.json``, the reader's language on the page."""
GROUP_NAMES = {"district": N_("district"), "age_band": N_("age band"), "income_band": N_("income band")}
"""The groups of the gaps table, in words."""
BAND_NAMES = {"low": N_("low income"), "middle": N_("middle income"), "high": N_("high income")}
"""The income bands, in words (the JSON keeps ``low``, ``middle``, ``high``)."""
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


def _svg(path: Path, fig: Any) -> None:
    """Save ``fig`` as SVG with its text as text (the browser's fonts draw Chinese), without the
    date matplotlib would stamp in it (the same run gives the same file)."""
    with warnings.catch_warnings():  # the text is drawn by the reader's fonts, not measured ones
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "socialcredit"}):
            fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def _chart(path: Path, title: str, ylabel: str, series: Sequence[tuple[str, Sequence[float]]]) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=80)
    for label, ys in series:
        ax.plot(range(1, len(ys) + 1), ys, label=label, linewidth=1.6)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(_("month"))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=7)
    _svg(path, fig)


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
    _svg(path, fig)


def _label(arm: dict[str, Any]) -> str:
    """An arm's name in the reader's language (``Settings.label``: English once in the JSON)."""
    return i18n.translate(arm["settings"]["label"])


def charts(arms: Sequence[dict[str, Any]], out: Path) -> list[tuple[str, str]]:
    """Draw the charts, in the current language; returns (file name, caption) pairs in page order."""
    made: list[tuple[str, str]] = []

    def series(key: str) -> list[tuple[str, list[float]]]:
        return [(_label(a), [s[key] for s in a["steps"]]) for a in arms]

    persons = _("number of persons")
    _chart(out / "mean_score.svg", _("Mean score of persons"), _("score"), series("mean_score"))
    made.append(("mean_score.svg", _("Mean score of persons by month.")))
    _chart(out / "punished.svg", _("Persons under a punishment"), persons, series("punished_persons"))
    made.append(("punished.svg", _("Persons under at least one punishment by month.")))
    _chart(out / "spiral.svg", _("Persons in a negative spiral"), persons, series("in_spiral"))
    made.append(
        ("spiral.svg", _("Persons in a spiral ({definition}).").format(definition=_(SPIRAL_DEFINITION)))
    )
    _chart(
        out / "wrongly_punished.svg",
        _("Persons punished only because of a wrong record"),
        persons,
        series("wrongly_punished_persons"),
    )
    made.append(
        (
            "wrongly_punished.svg",
            _(
                "Persons who would not be punished without the records about them "
                "that were wrong (wrong person or never happened)."
            ),
        )
    )
    for j, lid in enumerate(arms[0]["lists"]):
        if all(lid in a["lists"] for a in arms):
            name = f"list_{j}.svg"
            _chart(
                out / name,
                _("On {list}").format(list=lid),
                _("number of subjects"),
                [(_label(a), [s["list_sizes"][a["lists"].index(lid)] for s in a["steps"]]) for a in arms],
            )
            made.append(
                (
                    name,
                    _("Subjects on {list} (persons and organisations, representatives included).").format(
                        list=lid
                    ),
                )
            )
    if all(a["grades"] == arms[0]["grades"] for a in arms):
        _bars(
            out / "grades.svg",
            _("Grades of persons at the end"),
            arms[0]["grades"],
            [(_label(a), a["steps"][-1]["grades"]) for a in arms],
        )
        made.append(("grades.svg", _("Grade distribution of persons in the last month.")))
    _bars(
        out / "income_listing.svg",
        _("Share of persons on a black list, by income band"),
        [_(BAND_NAMES[b]) for b in INCOME_BANDS],
        [(_label(a), a["steps"][-1]["groups"]["income_band"]["listing_rate"]) for a in arms],
    )
    made.append(("income_listing.svg", _("Listing rate (any black list) by income band in the last month.")))
    return made


def _table(rows: Sequence[Sequence[Any]], head: Sequence[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, bool):
            return html.escape(_("yes") if v else _("no"))
        if isinstance(v, float):
            return f"{v:,.4g}"
        if isinstance(v, int):
            return f"{v:,}"
        if v is None:
            return html.escape(_("n/a"))
        return html.escape(str(v))

    h = "".join(f"<th>{html.escape(x)}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _stamp(meta: dict[str, Any], breaches: Sequence[str]) -> str:
    """The banner of a research-only run (``meta["stamp"]``), with what fails (``breaches``, in
    the reader's language): a report of a scheme that may never be in force must not be mistaken
    for one that may."""
    if not meta.get("stamp"):
        return ""
    items = "".join(f"<li>{html.escape(b)}</li>" for b in breaches)
    return (
        '<div style="border:3px solid #b00;padding:.5em 1em;margin-bottom:1em">'
        '<p style="color:#b00;font-weight:bold;font-size:1.3em">'
        f"{html.escape(i18n.translate(meta['stamp']))}</p>"
        f"<ul>{items}</ul></div>"
    )


def _rows(summary: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """The headline figures, one row each, in the reader's language."""

    def row(label: str, value: Any) -> list[Any]:
        return [label, *[value(s) for s in summary]]

    def dp(key: str) -> Any:
        return lambda s: s["objections"].get(key, 0)

    rows: list[list[Any]] = [
        row(
            _("mean score at the end (of the persons scored; of organisations for a rating of them only)"),
            lambda s: s["final_mean_score"],
        ),
        row(_("persons punished at the end"), lambda s: s["persons_punished_at_end"]),
        row(_("persons in a spiral at the end"), lambda s: s["persons_in_spiral_at_end"]),
        row(_("persons ever in a spiral"), lambda s: s["persons_ever_in_spiral"]),
        row(_("members who left the opt-in scheme"), lambda s: s["members_left"]),
        row(_("of them, joined it again (afresh)"), lambda s: s["members_rejoined"]),
        row(_("wrongly punished person-days"), lambda s: s["wrongly_punished_person_days"]),
        row(
            _("list entries suspended by an open objection (entry-days)"), lambda s: s["suspended_entry_days"]
        ),
        row(_("objections filed"), dp("filed")),
        row(_("objections upheld (first instance)"), dp("upheld")),
        row(_("objections rejected"), dp("rejected")),
        row(_("appeals"), dp("appealed")),
        row(_("appeals upheld"), dp("appeal_upheld")),
        row(_("records corrected"), dp("corrected")),
        row(_("records restored"), dp("restored")),
        row(_("employment rate at the end"), lambda s: s["employment_rate_at_end"]),
        row(_("score correlation along ties"), lambda s: s["tie_correlation_at_end"]),
        row(_("black-market buyers"), lambda s: s["black_market"]["buyers"]),
        row(_("their score inflation"), lambda s: s["black_market"]["mean_score_inflation_at_end"]),
        row(_("caught by source accuracy"), lambda s: s["black_market"]["caught_by_source_accuracy"]),
        row(_("caught by the anomaly check"), lambda s: s["black_market"]["caught_by_anomaly_check"]),
    ]
    for k, s in enumerate(summary):
        for lid, n in s["final_list_sizes"].items():
            line = _("{arm}: on {list} at the end").format(arm=i18n.translate(s["label"]), list=lid)
            rows.append([line, *([""] * k + [n] + [""] * (len(summary) - 1 - k))])
    return rows


def write(
    arms: Sequence[dict[str, Any]],
    out: Path,
    *,
    command: str,
    meta: dict[str, Any],
    breaches: Sequence[str] = (),
) -> dict[str, Any]:
    """Write report.json, the charts and report.html into ``out``; returns the JSON document.
    A research-only run's ``meta`` carries ``stamp`` and ``safeguard_breaches`` (English, for the
    JSON); both files show them first, the page with ``breaches`` worded for the reader."""
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
    labels = [i18n.translate(s["label"]) for s in summary]
    rows = _rows(summary)
    gap_rows = []
    for s, label in zip(summary, labels, strict=True):
        for name, g in s["group_gaps"].items():
            gap_rows.append(
                [label, _(GROUP_NAMES[name]), g["mean_score_gap"], g["listing_rate_ratio"]]
                + [
                    f"{_(BAND_NAMES.get(k, k))}: {v:.4g} / {g['listing_rate'][k]:.3%}"
                    for k, v in list(g["mean_score"].items())[:6]
                ]
            )
    trans = []
    for a, label in zip(arms, labels, strict=True):
        for i, row in enumerate(a["grade_transitions"]):
            trans.append([label, a["grades"][i], *[f"{x:.4f}" for x in row]])
    versions = [
        [label, v["month"], v["from"], ", ".join(f"{k} {n}" for k, n in sorted(v["in_force"].items()))]
        for s, label in zip(summary, labels, strict=True)
        for v in s["versions"]
    ]
    grades0 = arms[0]["grades"]
    figures = "".join(
        f'<figure><img src="{html.escape(f)}" alt="{html.escape(c)}">'
        f"<figcaption>{html.escape(c)}</figcaption></figure>"
        for f, c in made
    )
    e = html.escape
    population = _(
        "{persons} persons and {organisations} organisations, {months} months, seed {seed}. The rules are "
        "the scheme files compiled by the core and checked against the live per-subject code; behaviour, "
        "errors and feedback are the simulator's assumptions (docs/simulation.md). Every figure is in "
        "{json}."
    )
    intro = e(population).format(
        persons=f"{meta['persons']:,}",
        organisations=f"{meta['organisations']:,}",
        months=meta["months"],
        seed=meta["seed"],
        json='<a href="report.json">report.json</a>',
    )
    lang = i18n.TAGS.get(i18n.current(), "en")
    gaps_head = [
        _("arm"),
        _("group"),
        _("mean score gap"),
        _("listing rate ratio"),
        _("first groups: mean / listed"),
    ]
    words = {
        "title": _("socialcredit simulation"),
        "h1": _("What the scheme does to a population"),
        "spiral": _("Spiral:"),
        "headline": _("Headline figures"),
        "versions": _(
            "Versions in force (each month is scored and listed under those in force on its first day)"
        ),
        "charts": _("Charts"),
        "gaps": _("Gaps between groups (last month)"),
        "transitions": _("Grade transitions (share moving from the row's grade to the column's in a month)"),
    }
    w = {k: e(v) for k, v in words.items()}
    headline = _table(rows, [_("figure"), *labels])
    transitions = _table(trans, [_("arm"), _("from grade"), *grades0])
    version_table = _table(versions, [_("arm"), _("from month"), _("from day"), _("scheme versions")])
    page = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{w["title"]}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:1em 0;font-size:.9em}}
td,th{{border:1px solid #ccc;padding:.25em .5em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}figure{{display:inline-block;margin:.5em;width:31em}}
img{{max-width:100%}}figcaption{{font-size:.85em;color:#555}}
code{{background:#f4f4f4;padding:.1em .3em}}</style>
</head><body>
{_stamp(meta, breaches)}<h1>{w["h1"]}</h1>
<p><code>{e(command)}</code></p>
<p>{intro}</p>
<p><b>{w["spiral"]}</b> {e(_(SPIRAL_DEFINITION))}.</p>
<h2>{w["headline"]}</h2>{headline}
<h2>{w["versions"]}</h2>
{version_table}
<h2>{w["charts"]}</h2>{figures}
<h2>{w["gaps"]}</h2>
{_table(gap_rows, gaps_head)}
<h2>{w["transitions"]}</h2>
{transitions}
</body></html>
"""
    (out / "report.html").write_text(page, encoding="utf-8")
    return doc
