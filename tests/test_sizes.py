"""Issue 21: no module in ``helpers/`` over 300 lines, no function over 60 lines without a reason in its docstring.

A module is measured in lines as ``wc -l`` counts them; a function from its ``def`` line
to its last line, nested functions and methods included. A function may be longer when
its docstring says why, in a sentence that starts "Long because".
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from helpers.core.paths import REPO_ROOT

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
REASON = "Long because"
HELPERS = REPO_ROOT / "helpers"


def long_functions(source: str) -> list[tuple[str, int]]:
    """Every function in ``source`` over the limit whose docstring gives no reason: its name and its length."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and REASON not in (ast.get_docstring(node) or ""):
                found.append((node.name, length))
    return found


def _modules() -> list[Path]:
    return sorted(HELPERS.rglob("*.py"))


def _shown(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def test_no_module_is_over_300_lines():
    too_long = [
        f"{_shown(p)}: {n} lines" for p in _modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not too_long, (
        f"Split these modules along a real seam (one concept each), under {MAX_MODULE_LINES} lines:\n" + "\n".join(too_long)
    )


def test_no_function_is_over_60_lines_without_a_reason():
    too_long = [
        f"{_shown(p)}: {name} ({n} lines)" for p in _modules() for name, n in long_functions(p.read_text(encoding="utf-8"))
    ]
    assert not too_long, (
        f"Split these functions into named steps, or say in the docstring why one long function is clearer "
        f"(a sentence starting {REASON!r}):\n" + "\n".join(too_long)
    )


def _function(name: str, body_lines: int, docstring: str = "Short.", *, indent: str = "") -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    return textwrap.indent(f'def {name}():\n    """{docstring}"""\n{body}', indent)


def test_the_measure_counts_from_def_to_last_line_nested_functions_and_methods_included():
    at_limit = _function("fits", MAX_FUNCTION_LINES - 2)  # def line + docstring + body
    assert long_functions(at_limit) == []
    assert long_functions(_function("over", MAX_FUNCTION_LINES - 1)) == [("over", MAX_FUNCTION_LINES + 1)]
    nested = "def outer():\n" + _function("inner", MAX_FUNCTION_LINES, indent="    ")
    assert [name for name, _ in long_functions(nested)] == ["outer", "inner"]
    method = "class Served:\n" + _function("handle", MAX_FUNCTION_LINES, indent="    ")
    assert [name for name, _ in long_functions(method)] == ["handle"]
    asynchronous = _function("stream", MAX_FUNCTION_LINES).replace("def ", "async def ", 1)
    assert [name for name, _ in long_functions(asynchronous)] == ["stream"]


def test_a_reason_in_the_docstring_allows_a_long_function():
    reasoned = _function("table", MAX_FUNCTION_LINES, "One table. Long because each row reads best beside the next.")
    assert long_functions(reasoned) == []
    assert long_functions(_function("table", MAX_FUNCTION_LINES, "One table, long for no stated reason.")) == [
        ("table", MAX_FUNCTION_LINES + 2)
    ]
