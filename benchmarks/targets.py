"""The four speed targets of issue 13, judged from the figures of one benchmark run.

1. One negotiation (H): NegMAS's SAOMechanism time over the project's Mesa model time on the same
   negotiation, at least 20, with both agreements in the same region.
2. The Mesa model (A): one run of the default scenario through ``NegotiationModel(...).run()`` at
   most 3 times a bare Mesa model with the same agents stepping the same rounds; traced, at most 6.
3. Batches (C): parallel efficiency at 2 workers on 100,000 runs at least 90%, and no slower per run
   than before issue 13 (the 1-worker batch's time per run over the fast path's, in the same
   process, at most what it was).
4. The big sweep (I): ``negotiation batch experiments/grid_20x20.toml --precision 0.02`` end to end,
   outputs included, on 2 cores, in under 10 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BATCH_OVERHEAD_BEFORE = 1.05
"""Time per run of a 1-worker batch over the fast path's (``run_many`` on 2,000 runs), measured the
same way on the code before issue 13 (a38604b, 50,000 runs, twice: 1.72 and 1.05 under a load
average of 4-5; the lower is kept); see docs/performance.md."""


@dataclass(frozen=True)
class Target:
    """One target: what was measured, against what, and whether it is met (None: not measured)."""

    number: int
    name: str
    measured: str
    target: str
    met: bool | None


def judge(figures: dict[str, Any]) -> list[Target]:
    """The targets, from the figures of the benchmarks that ran (others are "not measured")."""
    return [_one_negotiation(figures), *_mesa_model(figures), *_batches(figures), _sweep(figures)]


def _one_negotiation(figures: dict[str, Any]) -> Target:
    name, target = "one negotiation: NegMAS / Mesa model", ">= 20x, agreements in the same region"
    h = figures.get("H")
    if h is None:
        return Target(1, name, "not measured (benchmark H not run)", target, None)
    if "skipped" in h:
        return Target(1, name, f"not measured: {h['skipped']}", target, None)
    ratio, region = h["ratio_mesa_model"], h["same_region"]
    peer, ours = h["negmas"]["results"][0], h["ours"]["mesa_model_ms"]
    coarser = "; ".join(
        f"{other['ms'] / ours:.1f}x on NegMAS's {other['levels']}-level grid ({other['ms']:.1f} ms)"
        for other in h["negmas"]["results"][1:]
    )
    measured = (
        f"{ratio:.2f}x ({peer['ms']:.1f} ms on a {peer['levels']}-level grid / {ours:.2f} ms); {coarser}; "
        f"agreements {'in' if region else 'NOT in'} the same region"
    )
    return Target(1, name, measured, target, ratio >= 20 and region)


def _mesa_model(figures: dict[str, Any]) -> list[Target]:
    a = figures.get("A")
    rows = (("untraced", "model_run", 3.0), ("trace=True", "model_run_traced", 6.0))
    targets = []
    for label, key, limit in rows:
        name = f"Mesa model / bare Mesa, {label}"
        if a is None:
            targets.append(Target(2, name, "not measured (benchmark A not run)", f"<= {limit:g}x", None))
            continue
        ratio = a[f"{key}_ratio"]
        measured = f"{ratio:.1f}x ({a[f'{key}_ms']:.2f} ms / {a['bare_mesa_ms']:.3f} ms)"
        targets.append(Target(2, name, measured, f"<= {limit:g}x", ratio <= limit))
    return targets


def _batches(figures: dict[str, Any]) -> list[Target]:
    c = figures.get("C")
    efficiency_target = ">= 90% (100,000 runs)"
    per_run_target = f"<= {BATCH_OVERHEAD_BEFORE:.2f}x the fast path (before issue 13)"
    if c is None:
        return [
            Target(3, "batches: parallel efficiency, 2 workers", "not measured", efficiency_target, None),
            Target(3, "batches: time per run, 1 worker", "not measured", per_run_target, None),
        ]
    efficiency = c["parallel_efficiency"]
    full = c["runs"] >= 100_000
    return [
        Target(
            3,
            "batches: parallel efficiency, 2 workers",
            f"{efficiency:.1%} ({c['runs_per_s_1_workers']:,.0f} and {c['runs_per_s_2_workers']:,.0f} runs/s"
            f"{'' if full else ', --quick: 20,000 runs'})",
            efficiency_target,
            efficiency >= 0.90 if full else None,
        ),
        Target(
            3,
            "batches: time per run, 1 worker",
            f"{c['ms_per_run_1_worker']:.3f} ms, {c['batch_overhead']:.2f}x the fast path "
            f"({c['fast_path_ms']:.3f} ms)",
            per_run_target,
            c["batch_overhead"] <= BATCH_OVERHEAD_BEFORE if full else None,
        ),
    ]


def _sweep(figures: dict[str, Any]) -> Target:
    name, target = "20 x 20 grid at +/-2 points, end to end, 2 workers", "< 10 min"
    i = figures.get("I")
    if i is None:
        return Target(4, name, "not measured (benchmark I not run)", target, None)
    measured = (
        f"{i['seconds'] / 60:.1f} min (runs {i['runs_seconds'] / 60:.1f}, outputs "
        f"{i['outputs_seconds'] / 60:.1f}); {i['runs']:,} runs, {i['capped_cells']} cells at the cap"
    )
    if i["precision"] != 0.02:
        return Target(4, name, measured + f" (--quick: precision {i['precision']})", target, None)
    return Target(4, name, measured, target, i["seconds"] < 600)


def batch_path_limit(figures: dict[str, Any]) -> Target:
    """Issue 15's limit (A): the default baseline, with the bloc and the summit table, on the batch path
    within 3x a bare Mesa model per run, by the median of paired ratios (blocks of the batch path
    against the bare model timed just before and after; see ``timing.paired_ratios``)."""
    name, target = "issue 15: default baseline on the batch path / bare Mesa, paired", "<= 3x"
    a = figures.get("A")
    if a is None:
        return Target(15, name, "not measured (benchmark A not run)", target, None)
    ratios = a["fast_path_paired_ratios"]
    measured = (
        f"{a['fast_path_paired_ratio']:.2f}x median of {len(ratios)} pairs "
        f"({min(ratios):.2f}-{max(ratios):.2f}x); best-of timed apart {a['fast_path_ratio']:.2f}x"
    )
    return Target(15, name, measured, target, a["fast_path_paired_ratio"] <= 3.0)


def budgets(figures: dict[str, Any]) -> list[str]:
    """What one run, and one round of it, may take for targets 1 and 2 (a kernel's time budget)."""
    lines = []
    h, a = figures.get("H"), figures.get("A")
    if h is not None and "split" in h:
        split, total = h["split"], h["negmas"]["results"][0]["ms"] / 20
        lines.append(
            f"target 1: the Mesa run of the NegMAS negotiation in {total:.2f} ms "
            f"({split['rounds']:.0f} rounds): {total / split['rounds'] * 1e3:.1f} us per round all in; "
            f"{h['round_budget_us']:.1f} us per round with today's setup ({split['setup_ms']:.2f} ms) "
            f"and outcomes ({split['outcomes_ms']:.2f} ms); today {split['round_us']:.0f} us per round"
        )
    if a is not None:
        for label, key, limit in (("untraced", "untraced", 3), ("traced", "traced", 6)):
            split, total = a[f"split_{key}"], limit * a["bare_mesa_ms"]
            lines.append(
                f"target 2, {label}: the default scenario's run in {total:.2f} ms "
                f"({split['rounds']:.1f} rounds): {total / split['rounds'] * 1e3:.1f} us per round all in; "
                f"{a[f'round_budget_us_{key}']:.1f} us per round with today's setup "
                f"({split['setup_ms']:.2f} ms) and outcomes ({split['outcomes_ms']:.2f} ms); "
                f"today {split['round_us']:.0f} us per round"
            )
    return lines


def report(targets: list[Target]) -> str:
    """The targets as a Markdown table."""
    lines = ["| target | measured | goal | met |", "| --- | --- | --- | --- |"]
    for t in targets:
        met = "not measured" if t.met is None else "yes" if t.met else "NO"
        lines.append(f"| {t.number}. {t.name} | {t.measured} | {t.target} | {met} |")
    return "\n".join(lines)
