"""The words the syntax tree and the checked transition system share: a source
span, the operators, the quantifiers and the kinds of property.

Its own module so that :mod:`fusever.ts` (and with it every engine) depends on these
few definitions only, not on the syntax tree: the front end's tree can change (a new
node, a name's position kept) without changing an engine's code closure, which
proofs/ fingerprints (:mod:`fusever.provenance`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns are 1-based, ``end_*`` exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Span("<none>", 0, 0, 0, 0)


# ---- operators (shared with the checked transition system) -----------------
# Their facts (typing, precedence, semantics) are in fusever/operators.py.


class BinOp(enum.Enum):
    IMPLIES = "==>"
    OR = "||"
    AND = "&&"
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    ADD = "+"
    SUB = "-"
    MUL = "*"
    MOD = "%"
    BAND = "&"
    BOR = "|"
    XOR = "^"
    SHL = "<<"
    SHR = ">>"


class UnOp(enum.Enum):
    NOT = "!"
    NEG = "-"
    BNOT = "~"


class Quantifier(enum.Enum):
    FORALL = "forall"
    EXISTS = "exists"


class PropKind(enum.Enum):
    INVARIANT = "invariant"
    TRANSITION = "transition"
    COVER = "cover"
    # an auxiliary invariant: checked like one, and once proved assumed by the
    # unbounded engines (k-induction) as a strengthening
    LEMMA = "lemma"
