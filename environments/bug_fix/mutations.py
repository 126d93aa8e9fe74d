"""Seeded bug injection: find semantically meaningful AST mutations in a project's source.

Each :class:`Mutation` is a replacement of whole source lines (so it is also its own patch:
swapping ``original`` and ``mutated`` undoes it). Kinds: ``off_by_one`` (integer constants
and ``<``/``<=`` boundaries), ``wrong_operator`` (arithmetic, comparison, boolean, min/max),
``swapped_arguments``, ``missing_edge_case`` (a guard clause deleted) and ``wrong_default``.
Discovery is pure and deterministic; whether a mutant really breaks a test is decided by
running the tests (see ``catalog.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("off_by_one", "wrong_operator", "swapped_arguments", "missing_edge_case", "wrong_default")

_BIN_SWAPS = {ast.Add: "-", ast.Sub: "+", ast.Mult: "//", ast.FloorDiv: "*", ast.Mod: "//"}
_BIN_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%"}
_CMP_SWAPS = {
    ast.Lt: ("<", "<=", "off_by_one"),
    ast.LtE: ("<=", "<", "off_by_one"),
    ast.Gt: (">", ">=", "off_by_one"),
    ast.GtE: (">=", ">", "off_by_one"),
    ast.Eq: ("==", "!=", "wrong_operator"),
    ast.NotEq: ("!=", "==", "wrong_operator"),
    ast.In: ("in", "not in", "wrong_operator"),
}


@dataclass(frozen=True)
class Mutation:
    """Replace lines ``start_line..end_line`` (1-based, inclusive) of ``path``."""

    path: str
    start_line: int
    end_line: int
    original: str
    mutated: str
    kind: str

    @property
    def key(self) -> str:
        """A stable identifier of this mutation within its project."""
        return f"{self.path}:{self.start_line}:{self.kind}:{abs(hash_text(self.mutated))}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mutation:
        return cls(**data)


def hash_text(text: str) -> int:
    """A deterministic 32-bit hash (Python's ``hash`` is salted per process)."""
    value = 2166136261
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def apply_mutations(files: dict[str, str], mutations: list[Mutation]) -> dict[str, str]:
    """Return a copy of ``files`` with ``mutations`` applied (bottom-up within a file)."""
    out = dict(files)
    for m in sorted(mutations, key=lambda m: (m.path, -m.start_line)):
        lines = out[m.path].split("\n")
        current = "\n".join(lines[m.start_line - 1 : m.end_line])
        if current != m.original:
            raise ValueError(
                f"mutation {m.key} expects {m.original!r} at {m.path}:{m.start_line}, "
                f"found {current!r}; the project changed since the mutation was recorded"
            )
        replacement = m.mutated.split("\n") if m.mutated else []
        lines[m.start_line - 1 : m.end_line] = replacement
        out[m.path] = "\n".join(lines)
    return out


def find_mutations(path: str, source: str) -> list[Mutation]:
    """Every candidate mutation of one file, in source order, each yielding valid Python."""
    tree = ast.parse(source)
    lines = source.split("\n")
    in_fstring = {
        id(n) for j in ast.walk(tree) if isinstance(j, ast.JoinedStr) for n in ast.walk(j)
    }
    docstrings = _docstring_nodes(tree)
    seen: set[tuple[int, str]] = set()
    found = []
    for node in ast.walk(tree):
        if id(node) in in_fstring or id(node) in docstrings:
            continue
        for line_no, end_line, new_text, kind in _candidates(node, lines):
            original = "\n".join(lines[line_no - 1 : end_line])
            if new_text == original or (line_no, new_text) in seen:
                continue
            mutated_lines = (
                lines[: line_no - 1] + ([new_text] if new_text else []) + lines[end_line:]
            )
            try:
                ast.parse("\n".join(mutated_lines))
            except SyntaxError:
                continue
            seen.add((line_no, new_text))
            found.append(Mutation(path, line_no, end_line, original, new_text, kind))
    return sorted(found, key=lambda m: (m.start_line, m.kind, m.mutated))


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            out.add(id(body[0].value))
    return out


def _replace_span(
    lines: list[str], node_from: ast.expr, node_to: ast.expr, old: str, new: str
) -> tuple[int, str] | None:
    """Replace ``old`` by ``new`` in the text between two nodes on one line."""
    line_no = node_from.end_lineno
    if line_no is None or line_no != node_to.lineno or node_from.end_col_offset is None:
        return None
    line = lines[line_no - 1]
    start, end = node_from.end_col_offset, node_to.col_offset
    between = line[start:end]
    if between.strip() != old:
        return None
    return line_no, line[:start] + between.replace(old, new, 1) + line[end:]


def _replace_node(lines: list[str], node: ast.expr, new: str) -> tuple[int, str] | None:
    if node.lineno != node.end_lineno or node.end_col_offset is None:
        return None
    line = lines[node.lineno - 1]
    return node.lineno, line[: node.col_offset] + new + line[node.end_col_offset :]


def _int_constants(node: ast.AST) -> Iterator[ast.Constant]:
    """Integer constants where an off-by-one is meaningful."""
    targets: list[ast.expr | None] = []
    if isinstance(node, ast.Compare):
        targets = [node.left, *node.comparators]
    elif isinstance(node, ast.Subscript):
        s = node.slice
        targets = [s.lower, s.upper] if isinstance(s, ast.Slice) else [s]
    elif isinstance(node, ast.BinOp):
        targets = [node.left, node.right]
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("range", "round", "divmod")
    ):
        targets = list(node.args)
    for t in targets:
        if isinstance(t, ast.Constant) and type(t.value) is int:
            yield t


def _candidates(node: ast.AST, lines: list[str]) -> Iterator[tuple[int, int, str, str]]:
    for const in _int_constants(node):
        value = const.value
        if not isinstance(value, int):  # never: _int_constants yields int constants only
            continue
        for delta in (1, -1):
            new = _replace_node(lines, const, str(value + delta))
            if new and value + delta >= 0:
                yield new[0], new[0], new[1], "off_by_one"
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        swap = _CMP_SWAPS.get(type(node.ops[0]))
        if swap:
            new = _replace_span(lines, node.left, node.comparators[0], swap[0], swap[1])
            if new:
                yield new[0], new[0], new[1], swap[2]
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN_SWAPS:
        new = _replace_span(
            lines, node.left, node.right, _BIN_TEXT[type(node.op)], _BIN_SWAPS[type(node.op)]
        )
        if new:
            yield new[0], new[0], new[1], "wrong_operator"
    if isinstance(node, ast.BoolOp) and len(node.values) == 2:
        old, new_op = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        new = _replace_span(lines, node.values[0], node.values[1], old, new_op)
        if new:
            yield new[0], new[0], new[1], "wrong_operator"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("min", "max")
    ):
        other = "max" if node.func.id == "min" else "min"
        new = _replace_node(lines, node.func, other)
        if new:
            yield new[0], new[0], new[1], "wrong_operator"
    if isinstance(node, ast.Call) and len(node.args) >= 2:
        a, b = node.args[0], node.args[1]
        simple = (ast.Name, ast.Attribute, ast.Constant, ast.Subscript)
        if (
            isinstance(a, simple)
            and isinstance(b, simple)
            and a.lineno == a.end_lineno == b.lineno == b.end_lineno
        ):
            line = lines[a.lineno - 1]
            ta, tb = line[a.col_offset : a.end_col_offset], line[b.col_offset : b.end_col_offset]
            if ta != tb:
                swapped = (
                    line[: a.col_offset]
                    + tb
                    + line[a.end_col_offset : b.col_offset]
                    + ta
                    + line[b.end_col_offset :]
                )
                yield a.lineno, a.lineno, swapped, "swapped_arguments"
    guard = (ast.Raise, ast.Return, ast.Continue, ast.Break)
    if (
        isinstance(node, ast.If)
        and not node.orelse
        and len(node.body) == 1
        and isinstance(node.body[0], guard)
    ):
        yield node.lineno, node.end_lineno or node.lineno, "", "missing_edge_case"
    if isinstance(node, ast.FunctionDef):
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            if not isinstance(default, ast.Constant):
                continue
            value = default.value
            if isinstance(value, bool):
                replacement = repr(not value)
            elif isinstance(value, int):
                replacement = str(value + 1)
            elif isinstance(value, str):
                replacement = '""' if value else '" "'
            else:
                continue
            new = _replace_node(lines, default, replacement)
            if new:
                yield new[0], new[0], new[1], "wrong_default"
