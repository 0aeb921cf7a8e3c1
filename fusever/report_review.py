"""The one-page review (``fusever review``): plain text at most 80 columns wide and
about :data:`BUDGET` lines long, for a reviewer to paste into a reply.

A table of every property (where it holds, where it fails, which compared variants
fix it), then per property that fails somewhere: its description, the configurations
where it fails with their steps, the variants that fix it (hold in every one of those
configurations) or help (hold in some), and the shortest counterexample as a race
diagram (:mod:`fusever.report_race`).  A race already drawn for another property is
named, not drawn again; once the page is full, a counterexample is told by the
command that draws it.
"""

from __future__ import annotations

import textwrap

from fusever.report_race import render_race
from fusever.review import PropertyReview, Review

WIDTH = 80
BUDGET = 120  # lines: one page


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
        break_on_hyphens=False, break_long_words=False,
    ) or [""]  # fmt: skip


def _fixed_by(p: PropertyReview) -> str:
    fix = [a.spec for a in p.against if a.fixes]
    return ", ".join(fix) if fix else ("none" if p.fails else "")


def _table(rv: Review) -> list[str]:
    name_w = max([len("property"), *(len(p.name) for p in rv.properties)])
    head = f"{'property'.ljust(name_w)}  holds  fails  first  fixed by"
    out = [head, "-" * len(head)]
    fixed_col = name_w + 2 + 7 + 7 + 7
    for p in rv.properties:
        first = str(p.fails[0][1]) if p.fails else "-"
        cells = (
            f"{p.name.ljust(name_w)}  {len(p.holds):>2}/{rv.configurations:<2}  "
            f"{len(p.fails):>5}  {first:>5}  "
        )
        fixed = textwrap.wrap(_fixed_by(p), WIDTH - fixed_col) or [""]
        out.append((cells + fixed[0]).rstrip())
        out += [" " * fixed_col + line for line in fixed[1:]]
    return out


def _race_body(p: PropertyReview) -> list[str]:
    """The race diagram without its title and description (the review says them)."""
    assert p.shortest is not None
    lines = render_race(p.shortest, p.shortest_ts, calls=False).rstrip("\n").split("\n")
    blank = lines.index("") if "" in lines else -1
    return lines[blank + 1 :]


def _property(p: PropertyReview, configurations: int) -> list[str]:
    out = [f"== {p.name}: holds in {len(p.holds)} of {configurations}, fails in {len(p.fails)}"]
    if p.description:
        out += _wrap(p.description, "   ")
    out += _wrap("fails in: " + ", ".join(f"{c} ({k})" for c, k in p.fails), "   ")
    if p.undecided:
        out += _wrap("undecided: " + ", ".join(p.undecided), "   ")
    if p.against:
        fix = [a.spec for a in p.against if a.fixes]
        helps = [f"{a.spec} ({a.held} of {a.of})" for a in p.against if not a.fixes and a.held]
        told = "fixed by: " + (", ".join(fix) or "none compared")
        if helps:
            told += "; holds in some of them: " + ", ".join(helps)
        out += _wrap(told, "   ")
    return out


def render_review(rv: Review, spec_file: str) -> str:
    """The review; ``spec_file`` is the spec's path (for the command that draws a
    counterexample left out)."""
    out = _wrap(f"Review of {rv.spec}" + (f" ({rv.description})" if rv.description else ""))
    compared = f", against {', '.join(rv.compared)}" if rv.compared else ""
    out += _wrap(
        f"From proofs/: {rv.configurations} configurations{compared} "
        "(fusever review; no solver run); (n): the shortest counterexample's steps."
    )
    out += ["", *_table(rv), ""]
    if rv.vacuous:
        out += _wrap(
            "Cover goals never reached (what they support is vacuous there): "
            + "; ".join(f"{c}: {', '.join(g)}" for c, g in rv.vacuous)
        )
        out.append("")
    # every property's text first; the race diagrams get what is left of the page,
    # in the properties' order (a race drawn already is named, not drawn again)
    blocks = [(p, _property(p, rv.configurations)) for p in rv.properties if p.fails]
    room = BUDGET - len(out) - sum(len(b) + 2 for _, b in blocks)
    drawn: dict[tuple[str | None, ...], str] = {}
    left_out = False
    for p, block in blocks:
        if p.shortest is not None and p.shortest.trace is not None:
            seq = tuple(s.action for s in p.shortest.trace.steps)
            how = f"shortest counterexample: {p.shortest_config}, {len(seq) - 1} steps"
            body = _race_body(p)
            if seq in drawn:
                block += _wrap(f"{how}: the same race as {drawn[seq]} above", "   ")
            elif len(body) + 1 <= room:
                block += [f"   {how}:", "", *body]
                room -= len(body) + 1
                drawn[seq] = p.name
            else:
                block += _wrap(f"{how} (not drawn: one page)", "   ")
                left_out = True
        out += [*block, ""]
    if left_out:
        out += _wrap(
            f"A counterexample not drawn here: fusever prove {spec_file} --config C "
            "--property P --trace-dir D --trace-format race"
        )
    return "\n".join(out).rstrip("\n") + "\n"
