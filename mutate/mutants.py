"""Mutants of one module: small changes to function bodies, each named without line numbers.

Kinds (the ones that change what money code decides): a comparison flipped at its boundary or
negated, `and`/`or` swapped, an int constant ±1, `True`/`False` swapped, a call statement
deleted, a condition negated (or its `not` removed). Only function and method bodies are
mutated (decorators, defaults and annotations are evaluated elsewhere); logging calls and
`assert` statements are left alone: neither is behaviour a shop would notice.

A mutant's key is `function: before → after` (plus ` #n` when the same text occurs n times in
one function), so a list of accepted mutants survives edits elsewhere in the file.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
LOGGERS = ("log", "logger", "logging")
CONTEXT_CHARS = 90  # a constant is named with the smallest enclosing expression up to this long


@dataclass(frozen=True)
class Mutant:
    path: str  # as given in the targets, e.g. services/ledger.py
    function: str  # qualified name of the top-level function or method that holds it
    line: int
    before: str
    after: str
    occurrence: int  # 1 for the first mutant with this text in this function

    @property
    def key(self) -> str:
        text = f"{self.function}: {self.before} → {self.after}"
        return text if self.occurrence == 1 else f"{text} #{self.occurrence}"


@dataclass
class _Site:
    """Where a replacement goes: `parent.field` or `parent.field[index]`."""

    parent: ast.AST
    field: str
    index: int | None

    def get(self) -> ast.AST:
        value = getattr(self.parent, self.field)
        return value if self.index is None else value[self.index]  # type: ignore[no-any-return]

    def put(self, node: ast.AST) -> None:
        if self.index is None:
            setattr(self.parent, self.field, node)
        else:
            getattr(self.parent, self.field)[self.index] = node


@dataclass
class _Change:
    site: _Site
    new: ast.AST
    function: str
    before: str
    after: str
    line: int


def _is_log_call(node: ast.AST) -> bool:
    if isinstance(node, ast.Await):
        node = node.value
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    owner = node.func.value
    return isinstance(owner, ast.Name) and owner.id in LOGGERS


def _children(node: ast.AST) -> Iterator[_Site]:
    """Child nodes to descend into, skipping what is not run as part of the body."""
    for name, value in ast.iter_fields(node):
        if name in ("annotation", "returns", "decorator_list", "type_comment"):
            continue
        if isinstance(node, ast.arguments):
            continue  # defaults are evaluated where the function is defined
        if isinstance(value, ast.AST):
            yield _Site(node, name, None)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield _Site(node, name, index)


def _deletable(call: ast.expr) -> bool:
    """A call statement whose deletion is a mutant. `super().__init__(...)` is not: without it
    the code object loses its `__class__` cell and cannot be swapped in."""
    if isinstance(call, ast.Await):
        call = call.value
    if not isinstance(call, ast.Call):
        return False
    owner = call.func.value if isinstance(call.func, ast.Attribute) else None
    is_super = isinstance(owner, ast.Call) and ast.unparse(owner.func) == "super"
    return not is_super


def _negated_anyway(test: ast.expr) -> bool:
    """Negating this condition duplicates another mutant (`not` removed, `==` → `!=`, ...)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    negatable = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)
    single = isinstance(test, ast.Compare) and len(test.ops) == 1
    return single and isinstance(test.ops[0], negatable)  # type: ignore[attr-defined]


def _not(test: ast.expr) -> tuple[ast.expr, str]:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand, ast.unparse(test.operand)
    negated = ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=test), test)
    return negated, ast.unparse(negated)


class _Collector:
    def __init__(self) -> None:
        self.changes: list[_Change] = []

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> None:
        for site in _children(node):
            self._walk(site, qualname, [])

    def _add(self, site: _Site, new: ast.AST, function: str, before: str, after: str) -> None:
        old = site.get()
        ast.copy_location(new, old)
        ast.fix_missing_locations(new)
        line = getattr(old, "lineno", 0)
        self.changes.append(_Change(site, new, function, before, after, line))

    def _walk(self, site: _Site, function: str, parents: list[ast.AST]) -> None:
        node = site.get()
        if isinstance(node, ast.Assert | ast.JoinedStr):
            return
        if isinstance(site.parent, ast.Subscript) and site.field == "slice":
            return  # row[0] → row[1] fails loudly at once; it says nothing about the tests
        if isinstance(node, ast.Expr) and _is_log_call(node.value):
            return
        self._mutations(site, node, function, parents)
        for child in _children(node):
            self._walk(child, function, [*parents, node])

    def _mutations(self, site: _Site, node: ast.AST, function: str, parents: list[ast.AST]) -> None:
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swapped = copy.copy(node)
                swapped.ops = list(node.ops)
                swapped.ops[i] = COMPARE_SWAP[type(op)]()
                self._add(site, swapped, function, ast.unparse(node), ast.unparse(swapped))
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            flipped = ast.BoolOp(op=other, values=node.values)
            self._add(site, flipped, function, ast.unparse(node), ast.unparse(flipped))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand = copy.copy(node.operand)
            self._add(site, operand, function, ast.unparse(node), ast.unparse(operand))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            self._constant(site, node, not node.value, function, parents)
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            self._constant(site, node, node.value + 1, function, parents)
            self._constant(site, node, node.value - 1, function, parents)
        elif isinstance(node, ast.Expr) and _deletable(node.value):
            self._add(site, ast.Pass(), function, ast.unparse(node), "pass")
        elif isinstance(node, ast.If | ast.While | ast.IfExp) and not _negated_anyway(node.test):
            word = {ast.If: "if", ast.While: "while", ast.IfExp: "… if"}[type(node)]
            test, after = _not(node.test)
            changed = copy.copy(node)
            changed.test = test
            before = f"{word} {ast.unparse(node.test)}"
            self._add(site, changed, function, before, f"{word} {after}")

    def _constant(
        self,
        site: _Site,
        node: ast.Constant,
        value: int,
        function: str,
        parents: list[ast.AST],
    ) -> None:
        new = ast.Constant(value=value)
        before, after = repr(node.value), repr(value)
        # Named by the expression around it when that is short enough to read.
        parent = parents[-1] if parents else None
        if isinstance(parent, ast.expr) and len(text := ast.unparse(parent)) <= CONTEXT_CHARS:
            site.put(new)
            before, after = text, ast.unparse(parent)
            site.put(node)
        self._add(site, new, function, before, after)


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    def walk(
        body: list[ast.stmt], prefix: str
    ) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield prefix + node.name, node
            elif isinstance(node, ast.ClassDef):
                yield from walk(node.body, f"{prefix}{node.name}.")

    yield from walk(tree.body, "")


class ModuleMutants:
    """All mutants of one source file, and the compiled code of each one's function."""

    def __init__(self, root: Path, path: str) -> None:
        self.path = path
        self.filename = str(root / path)
        self.tree = ast.parse((root / path).read_text(encoding="utf-8"), self.filename)
        collector = _Collector()
        for qualname, node in _functions(self.tree):
            collector.function(node, qualname)
        self._changes = collector.changes
        seen: dict[tuple[str, str, str], int] = {}
        self.mutants: list[Mutant] = []
        for change in self._changes:
            text = (change.function, change.before, change.after)
            seen[text] = seen.get(text, 0) + 1
            self.mutants.append(
                Mutant(path, change.function, change.line, change.before, change.after, seen[text])
            )

    def code_of(self, index: int) -> CodeType:
        """The mutated function's code object (the module compiled with only this change)."""
        change = self._changes[index]
        old = change.site.get()
        change.site.put(change.new)
        try:
            module = compile(self.tree, self.filename, "exec", dont_inherit=True)
        finally:
            change.site.put(old)
        found = _find_code(module, change.function)
        if found is None:
            raise LookupError(f"no code for {change.function} in {self.path}")
        return found


def _find_code(code: CodeType, qualname: str) -> CodeType | None:
    for const in code.co_consts:
        if isinstance(const, CodeType):
            if const.co_qualname == qualname:
                return const
            found = _find_code(const, qualname)
            if found is not None:
                return found
    return None
