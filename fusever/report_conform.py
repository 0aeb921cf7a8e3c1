"""The formatter of ``fusever conform`` and ``fusever simulate``: plain text, the same
bytes run after run."""

from __future__ import annotations

from collections.abc import Sequence

from fusever.conform_data import ConformReport, Divergence, TraceResult
from fusever.report_tables import plain_table

__all__ = ["divergence_text", "render_conform", "render_simulation", "trace_table"]


def divergence_text(d: Divergence) -> str:
    if d.what == "control":
        head = f"the model's step ends at {d.model}; the code {d.c}"
    else:
        head = f"{d.what}: model {d.model}, C {d.c}"
    where = f" at {d.where}" if d.where not in ("", "-") else ""
    note = f" ({d.note})" if d.note else ""
    return f"diverges at step {d.step}, {d.action}: {head}{where}{note}"


def trace_table(t: TraceResult) -> list[str]:
    """The step table of one replayed trace: what ran in C, where it stopped, and the
    compared values that changed (as the C has them); the divergence last."""
    rows = [
        [str(r.step), r.action, r.thread, r.where, ", ".join(f"{k}={v}" for k, v in r.changed)]
        for r in t.rows
    ]
    out = plain_table(
        ["step", "action", "C thread", "stopped at", "C values (changed)"],
        rows,
        [True, False, False, False, False],
        indent="    ",
    )
    if t.divergence is not None:
        out.append("    " + divergence_text(t.divergence))
    return out


def _status(t: TraceResult) -> str:
    if t.divergence is None:
        return "ok"
    return f"DIVERGES at step {t.divergence.step} ({t.divergence.what})"


def render_conform(rep: ConformReport, tables: bool = False) -> str:
    """A line per trace (with its step table when it diverges, or with ``tables``),
    the coverage per configuration, and the summary line."""
    lines: list[str] = [f"conform {rep.spec} against {rep.kernel_tree}"]
    rows = [
        [t.config, t.source, str(len(t.actions)), _status(t)]
        for t in rep.traces
    ]  # fmt: skip
    table = plain_table(
        ["configuration", "trace", "steps", "result"], rows, [False, False, True, False]
    )
    per = iter(rep.traces)
    lines.extend(table[:2])
    for row_text, t in zip(table[2:], per, strict=True):
        lines.append(row_text)
        if tables or t.divergence is not None:
            lines.extend(trace_table(t))
    for config, taken, total in rep.coverage:
        lines.append(f"coverage {config}: {taken} of {total} action instances taken")
    if tables:
        for config, untaken in rep.untaken:
            if untaken:
                lines.append(f"  never taken in {config}: " + ", ".join(untaken))
    lines.append(summary(rep))
    return "\n".join(lines) + "\n"


def summary(rep: ConformReport) -> str:
    bad = rep.divergent
    configs = len({t.config for t in rep.traces})
    first = f"; first: {bad[0].config}, {bad[0].source}" if bad else ""
    return (
        f"{len(rep.traces)} traces in {configs} configuration{'s' if configs != 1 else ''}, "
        f"{len(bad)} diverging{first}"
    )


def render_simulation(
    spec: str,
    config: str,
    seed: int,
    runs: Sequence[Sequence[str]],
    taken: Sequence[str],
    instances: Sequence[str],
    enabled: Sequence[str] = (),
    show_untaken: bool = True,
) -> str:
    """``fusever simulate``: each walk's actions, then the coverage of action instances
    (of all, and of those enabled somewhere on the walks: the others may be unreachable
    or switched off in this configuration)."""
    lines = [f"simulate {spec} ({config}), seed {seed}: {len(runs)} runs"]
    for k, calls in enumerate(runs):
        lines.append(f"run {k} ({len(calls)} steps): " + "; ".join(calls))
    done = set(taken)
    untaken = [i for i in instances if i not in done]
    lines.append(
        f"coverage: {len(taken)} of {len(instances)} action instances taken "
        f"({len(taken)} of the {len(enabled)} enabled somewhere on the walks)"
    )
    missed = [i for i in enabled if i not in done]
    if missed:
        lines.append("enabled but never taken: " + ", ".join(missed))
    if show_untaken and untaken:
        lines.append("never taken: " + ", ".join(untaken))
    return "\n".join(lines) + "\n"
