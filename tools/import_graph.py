"""Measures the package's structure from its own source: import cycles, deferred imports, tree helpers, sizes.

Run from the repository root::

    python tools/import_graph.py            # the summary table; the last line is the one-line verdict
    python tools/import_graph.py --cycles   # also list the modules of each cycle

What is counted:

* **import-time cycle**: the largest strongly connected component of the graph of imports that run when a
  module is first imported (module-level statements, ``if TYPE_CHECKING:`` blocks excluded). Importing
  ``lamina.a.b`` also runs the package ``lamina.a``'s ``__init__``, so that edge is counted too; the root
  ``lamina/__init__.py`` (the public facade, already loading when any submodule runs) is not.
* **cycle counting deferred imports**: the same with imports inside functions and methods added. The goal is
  that only ``models`` <-> ``saving`` (a model's ``save`` method, a loop Keras keeps too) remains.
* **deferred share**: imports of ``lamina`` modules inside functions, over all imports of ``lamina`` modules.
* **nested-structure implementations**: ``lamina/tree`` plus every module that defines its own small walker
  over lists, tuples and dicts (recursive or with a stack, type-testing both; at most 25 lines, since longer
  recursive functions over configs do domain work). Goal: one, ``lamina/tree``.
* **files over 600 lines** outside the op tables (``ops/numpy.py``, ``ops/nn.py``), and the longest function
  (its lines of code: the docstring is not counted).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "lamina"
OP_TABLES = {"lamina/ops/numpy.py", "lamina/ops/nn.py"}
LINE_LIMIT = 600
# models <-> saving: `Model.save`/`load_weights` call the file formats, and the formats rebuild models.
ALLOWED_LOOP = ("lamina.models", "lamina.saving")
TREE_MAX_LINES = 25


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    """Collects (target module, deferred?) for every import of a ``lamina`` module."""

    def __init__(self, name: str, is_package: bool, modules: dict[str, Path]) -> None:
        self.name = name
        self.package = name if is_package else name.rpartition(".")[0]
        self.modules = modules
        self.depth = 0
        self.imports: list[tuple[str, bool, int]] = []

    def _resolve(self, module: str | None, level: int) -> str | None:
        if level == 0:
            return module
        base = self.package.split(".")
        if level > 1:
            base = base[: len(base) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def _add(self, target: str, line: int) -> None:
        if target == "lamina" or target.startswith("lamina."):
            self.imports.append((target, self.depth > 0, line))

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node):
            return
        self.generic_visit(node)

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._resolve(node.module, node.level)
        if base is None:
            return
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self._add(sub if sub in self.modules else base, node.lineno)


def targets_of(target: str, modules: dict[str, Path]) -> list[str]:
    """The modules that importing ``target`` runs: itself and its parent packages below the root facade."""
    out = []
    parts = target.split(".")
    for i in range(2, len(parts) + 1):
        name = ".".join(parts[:i])
        if name in modules:
            out.append(name)
    return out


def build_graph(modules: dict[str, Path]) -> tuple[dict[str, set[str]], dict[str, set[str]], int, int]:
    eager: dict[str, set[str]] = {m: set() for m in modules}
    every: dict[str, set[str]] = {m: set() for m in modules}
    n_all = n_deferred = 0
    for name, path in modules.items():
        c = _Collector(name, path.name == "__init__.py", modules)
        c.visit(ast.parse(path.read_text(), str(path)))
        for target, deferred, _ in c.imports:
            n_all += 1
            n_deferred += deferred
            for t in targets_of(target, modules):
                if t == name or name.startswith(t + "."):  # a module importing its own package: not a new edge
                    continue
                every[name].add(t)
                if not deferred:
                    eager[name].add(t)
    return eager, every, n_all, n_deferred


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components with more than one module, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
    return sorted(comps, key=len, reverse=True)


def _allowed(comp: list[str]) -> bool:
    """A component made only of ``models`` and ``saving`` modules, touching both: the loop Keras keeps."""
    tops = {".".join(m.split(".")[:2]) for m in comp}
    return tops == set(ALLOWED_LOOP)


def _isinstance_types(fn: ast.AST) -> set[str]:
    names: set[str] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "isinstance" and len(n.args) == 2:
            spec = n.args[1]
            for e in spec.elts if isinstance(spec, ast.Tuple) else [spec]:
                if isinstance(e, ast.Name):
                    names.add(e.id)
    return names


def _is_tree_impl(fn: ast.FunctionDef) -> bool:
    """A small function that walks lists/tuples and dicts generically: recursive (or a stack loop) and
    type-testing both ``dict`` and ``list``/``tuple``. Longer functions that recurse over configs do
    domain work and are not counted."""
    if fn.end_lineno - fn.lineno + 1 > TREE_MAX_LINES:
        return False
    types = _isinstance_types(fn)
    if "dict" not in types or not types & {"list", "tuple"}:
        return False
    recursive = any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == fn.name for n in ast.walk(fn))
    stack_loop = any(isinstance(n, ast.While) for n in ast.walk(fn))
    return recursive or stack_loop


def tree_implementations(modules: dict[str, Path]) -> list[str]:
    """``lamina.tree`` (the designated one) plus every other module with its own structure walker."""
    found = ["lamina.tree"] if "lamina.tree" in modules else []
    for name, path in modules.items():
        if name == "lamina.tree":
            continue
        tree = ast.parse(path.read_text())
        walkers = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and _is_tree_impl(n)]
        if walkers:
            found.append(f"{name} ({', '.join(walkers)})")
    return found


def _code_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function without its docstring (Keras-style docstrings with Args/Example run long)."""
    length = fn.end_lineno - fn.lineno + 1
    first = fn.body[0] if fn.body else None
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        if isinstance(first.value.value, str):
            length -= first.end_lineno - first.lineno + 1
    return length


def sizes(modules: dict[str, Path]) -> tuple[list[tuple[int, str]], tuple[int, str]]:
    big = []
    longest = (0, "")
    for path in modules.values():
        rel = str(path.relative_to(ROOT))
        text = path.read_text()
        n = text.count("\n")
        if n > LINE_LIMIT and rel not in OP_TABLES:
            big.append((n, rel))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = _code_lines(node)
                if length > longest[0]:
                    longest = (length, f"{rel}:{node.lineno} {node.name}")
    return sorted(big, reverse=True), longest


def main(argv: list[str]) -> int:
    modules = all_modules()
    eager, every, n_all, n_deferred = build_graph(modules)
    eager_cycles = strongly_connected(eager)
    all_cycles = strongly_connected(every)
    bad_cycles = [c for c in all_cycles if not _allowed(c)]
    trees = tree_implementations(modules)
    big, longest = sizes(modules)
    share = n_deferred / n_all if n_all else 0.0

    largest_eager = len(eager_cycles[0]) if eager_cycles else 0
    largest_all = len(all_cycles[0]) if all_cycles else 0
    rows = [
        ("modules", len(modules), ""),
        ("largest import-time cycle (modules)", largest_eager, "goal 0"),
        ("largest cycle counting deferred imports", largest_all, "goal: only models <-> saving"),
        ("cycles other than models <-> saving", len(bad_cycles), "goal 0"),
        ("deferred imports", f"{n_deferred}/{n_all} = {share:.0%}", "goal <= 10%"),
        ("nested-structure implementations", len(trees), "goal 1: " + "; ".join(trees)),
        (f"files over {LINE_LIMIT} lines (op tables aside)", len(big), ", ".join(f"{p} ({n})" for n, p in big)),
        ("longest function (lines, docstring aside)", longest[0], longest[1]),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value, note in rows:
        print(f"{label:<{width}}  {value!s:>12}  {note}")
    if "--cycles" in argv:
        for title, comps in (("import-time", eager_cycles), ("with deferred imports", all_cycles)):
            for comp in comps:
                print(f"\n{title} cycle of {len(comp)}: {' '.join(comp)}")
    ok = largest_eager == 0 and not bad_cycles and share <= 0.10 and len(trees) == 1 and not big
    print(
        f"import_graph: import-time cycle {largest_eager}, other cycles {len(bad_cycles)} (largest {largest_all}), "
        f"deferred {share:.0%}, tree impls {len(trees)}, files>{LINE_LIMIT} {len(big)}, "
        f"longest fn {longest[0]} -> {'OK' if ok else 'NOT YET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
