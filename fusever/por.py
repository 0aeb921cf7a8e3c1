"""Partial-order reduction for the unrolling engines: fewer orders of the same steps.

Two action instances are *independent* when neither writes a slot the other reads or
writes (Bernstein's conditions, :func:`independence`, on the footprints the encoder
computes from one step); swapping two independent neighbours in a run changes only
the state between them.  :class:`Reduction` constrains the choice of step ``k -> k+1``
given the steps before it (its ``order(k)``, ``k >= 1``):

- ``"adjacent"`` forbids only a neighbour pair ``b a`` with ``a < b`` independent
  (peephole POR: Wang, Yang, Kahlon, Gupta, TACAS 2008);
- ``"lex"`` admits only runs in lexicographic normal form (no factor ``b u a`` with
  ``a < b`` and ``a`` independent of ``b`` and of all of ``u``; Anisimov and Knuth,
  "Inhomogeneous sorting", 1979): one run per equivalence class, of the same length
  and final state;
- ``"off"``: no constraint.

Every state reachable in ``n`` steps stays reachable in ``n`` steps, so a shortest
counterexample keeps its length; an engine drops the constraint on a run's last step
for two-state goals.  Tested, not only argued: ``tests/test_differential.py`` checks
that every mode gives random systems the same verdicts and depths, and
``tests/test_kind.py`` the inductive step with and without it.  Nothing here encodes
a state: the encoder (:mod:`fusever.encode`) gives the selection terms.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal, assert_never

import z3

from fusever.terms import all_of, any_of

__all__ = ["PorEncoding", "Reduction", "independence"]

Z = Any  # z3 terms carry no types mypy can use

PorEncoding = Literal["off", "adjacent", "lex"]

Footprint = tuple[frozenset[Hashable], frozenset[Hashable]]  # (reads, writes)


def independence(footprints: Sequence[Footprint | None]) -> tuple[frozenset[int], ...]:
    """For each instance, the instances independent of it (neither writes a slot the
    other reads or writes).  Dead instances (``None``: guard false) never fire and
    are independent of none."""
    out: list[set[int]] = [set() for _ in footprints]
    for i, fi in enumerate(footprints):
        for j in range(i):
            fj = footprints[j]
            if fi is None or fj is None:
                continue
            (ri, wi), (rj, wj) = fi, fj
            if not (wi & (rj | wj)) and not (wj & ri):
                out[i].add(j)
                out[j].add(i)
    return tuple(frozenset(x) for x in out)


class Reduction:
    """The reduction of one unrolling: ``selected(k, i)`` is the encoder's term "step
    ``k -> k+1`` takes instance ``i``", ``independent[i]`` the instances independent
    of ``i``."""

    def __init__(
        self,
        mode: PorEncoding,
        ctx: z3.Context,
        selected: Callable[[int, int], Z],
        independent: tuple[frozenset[int], ...],
    ) -> None:
        self.mode = mode
        self.ctx = ctx
        self.selected = selected
        self.independent = independent
        self._order: dict[int, Z] = {}
        # _blocked[k][a]: instance a may not be the step after step k -> k+1 (lex)
        self._blocked: list[tuple[Z, ...]] = []

    def order(self, k: int) -> Z:
        """The constraint on step ``k -> k+1`` (``k >= 1``), given the steps before it."""
        assert k >= 1
        if k in self._order:
            return self._order[k]
        parts: list[Z] = []
        match self.mode:
            case "lex":
                for a, blocked in enumerate(self.blocked(k - 1)):
                    if not z3.is_false(blocked):
                        parts.append(z3.Implies(self.selected(k, a), z3.Not(blocked)))
            case "adjacent":
                for i, indep in enumerate(self.independent):
                    later = [z3.Not(self.selected(k, j)) for j in sorted(indep) if j < i]
                    if later:
                        parts.append(z3.Implies(self.selected(k - 1, i), all_of(self.ctx, later)))
            case "off":
                pass
            case _:
                assert_never(self.mode)
        self._order[k] = all_of(self.ctx, parts)
        return self._order[k]

    def blocked(self, k: int) -> tuple[Z, ...]:
        """For each instance ``a``, whether it is blocked after step ``k -> k+1``: some
        earlier step took a higher-numbered instance independent of ``a``, and every
        step since then was independent of ``a`` too (a sleep set)."""
        false = z3.BoolVal(False, self.ctx)
        while len(self._blocked) <= k:
            j = len(self._blocked)
            row: list[Z] = []
            for a, indep in enumerate(self.independent):
                if not indep:
                    row.append(false)
                    continue
                fresh = [self.selected(j, x) for x in sorted(indep) if x > a]
                passing = any_of(self.ctx, [self.selected(j, x) for x in sorted(indep)])
                kept = z3.And(self._blocked[j - 1][a], passing) if j > 0 else false
                row.append(any_of(self.ctx, [*fresh, kept]))
            self._blocked.append(tuple(row))
        return self._blocked[k]
