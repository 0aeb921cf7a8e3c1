"""The layering rule of ARCHITECTURE.md, checked on the source with ``ast``: a module
imports only from lower layers; only the encoder and the engines import z3; only the
parser (parse and parse_build) imports lark; only the report stage imports rich."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fusever"
ARCHITECTURE = PACKAGE.parent / "ARCHITECTURE.md"

# Lowest first.  A module may import modules of strictly lower layers (and the package's
# __init__ for __version__).  A new module gets a layer here and a line in ARCHITECTURE.md.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("vocabulary",),
    ("syntax", "template", "files", "provenance", "cload"),
    ("diagnostics", "ts"),
    ("operators", "terms", "conform_data"),
    ("verdict",),
    ("job", "conform_extract"),
    ("parse_build", "conform_build"),
    ("parse", "expand"),
    ("diags",),
    ("lineage",),
    ("locks",),
    ("consts",),
    ("resolve",),
    ("flow", "properties"),
    ("validate",),
    ("check", "lexer"),
    ("load", "pins"),
    ("interpret", "solvers", "por"),
    ("ghosts", "layout"),
    ("closures",),
    ("liveness", "codegen"),
    ("deadness",),
    ("explicit_system",),
    ("encode", "explain", "explicit", "cgen"),
    ("ranking", "decode"),
    ("narrow",),
    ("bmc", "certificate", "cexplicit"),
    ("kind", "chc"),
    ("engines",),
    ("executor",),
    ("cluster",),
    ("diff", "merges", "deepen"),
    ("mutate", "explore"),
    ("kernel_names", "mermaid_svg"),
    ("report_diagnostics", "report_summary", "report_words"),
    ("report_tables",),
    ("report_race",),
    ("report_machine",),
    ("report",),
    ("report_explore", "report_trace", "report_conform"),
    ("regress", "jobs"),
    ("regress_merges", "claims"),
    ("findings", "regression"),
    ("simulate",),
    ("conform_run",),
    ("review",),
    ("report_review",),
    ("cli_args",),
    ("cli_traces",),
    ("cli",),
    ("__main__", "pytest_plugin"),
)
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}
ONLY_IN = {
    "z3": {"solvers", "por", "terms", "encode", "decode", "ranking", "narrow", "bmc"}
    | {"certificate", "kind"}
    | {"chc", "engines"},
    "lark": {"parse", "parse_build"},
    "rich": {"report"},
    "pygments": {"lexer"},
}


def modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def imports(module: str) -> set[str]:
    """Top-level names imported: ``fusever.x`` as ``x``, the package itself as
    ``fusever``, anything else by its first component (``z3``, ``lark``)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    out: set[str] = set()
    ours = set(modules())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                out.add(parts[1] if parts[0] == "fusever" and len(parts) > 1 else parts[0])
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level or base == "fusever" or base.startswith("fusever."):
                parts = base.split(".") if base else []
                sub = parts[1] if parts and parts[0] == "fusever" and len(parts) > 1 else None
                if node.level and parts:
                    sub = parts[0]
                if sub is not None:
                    out.add(sub)
                else:
                    for alias in node.names:
                        out.add(alias.name if alias.name in ours else "fusever")
            else:
                out.add(base.split(".")[0])
    return out


def test_every_module_has_a_layer_and_a_line_in_architecture_md() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    for module in modules():
        assert module in LEVEL, f"fusever/{module}.py has no layer in tests/test_layering.py"
        assert f"`{module}`" in text or f"`{module}.py`" in text, (
            f"fusever/{module}.py is not described in ARCHITECTURE.md"
        )


@pytest.mark.parametrize("module", modules())
def test_imports_only_from_lower_layers(module: str) -> None:
    level = LEVEL.get(module)
    if level is None:
        pytest.fail(f"fusever/{module}.py has no layer")
    ours = set(modules())
    for name in sorted(imports(module)):
        if name in ours:
            assert LEVEL[name] < level, (
                f"fusever/{module}.py imports fusever.{name}, which is not in a lower layer"
            )
        for lib, allowed in ONLY_IN.items():
            if name == lib:
                assert module in allowed, f"fusever/{module}.py imports {lib}"


def test_the_checker_itself_sees_imports() -> None:
    # guard against a checker that finds nothing and so passes everything
    assert {"report", "regress", "verdict", "diagnostics", "cli_args"} <= imports("cli")
    # the grammar builds a parser and runs nothing: of ours, only __version__, the
    # regress defaults its help quotes, explore's engine names and the Engine enum's
    assert imports("cli_args") & (set(modules()) | {"fusever"}) == {
        "fusever", "regression", "explore", "verdict",
    }  # fmt: skip
    assert "tomli_w" in imports("regress")
    assert "rich" in imports("report")
