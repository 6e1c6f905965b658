"""YAML loading that remembers where every key and value came from.

Errors must name the line and column of the offending field, so documents are composed
into nodes first and built into plain Python values while recording each path's position.
Floats are read as `Decimal` straight from their text: 0.02 stays exactly 0.02 all the way
to the planner's exact arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from pipelines.errors import InputError, Problem

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    pass


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal | float:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return yaml.SafeLoader.construct_yaml_float(loader, node)  # .inf, .nan


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


@dataclass
class SourceDocument:
    """A parsed YAML document plus the position of each path in it."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path_) -> tuple[int | None, int | None]:
        """Line and column (1-based) of `path`, or of its nearest ancestor that exists."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (None, None))

    def problem(self, path: Path_, message: str) -> Problem:
        line, column = self.position(path)
        return Problem(message, file=self.file, line=line, column=column, field=dotted(path))


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_yaml(text: str, file: str) -> SourceDocument:
    """Parse one YAML document; syntax errors and duplicate keys raise InputError with lines."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        reason = exc.problem or str(exc)
        if exc.context:
            reason = f"{exc.context}, {reason}"
            opened = exc.context_mark
            if opened and mark and opened.line != mark.line:
                # An unclosed bracket is found lines later; name where it was opened too.
                reason += f" (the {exc.context.split()[-1]} starts at line {opened.line + 1}, column {opened.column + 1})"
        if "mapping values are not allowed" in reason:
            reason += " (check the indentation of this line and the one before, or quote a value holding ': ')"
        raise InputError(
            Problem(f"invalid YAML: {reason}", file=file, line=line, column=column)
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"invalid YAML: {exc}", file=file)) from None
    finally:
        loader.dispose()
    if node is None:
        raise InputError(Problem("the file is empty: expected an Agreement document", file=file))
    doc = SourceDocument(file=file, data=None)
    problems: list[Problem] = []
    doc.data = _build(loader, node, (), doc, problems)
    if problems:
        raise InputError(problems)
    return doc


def _build(loader, node: yaml.Node, path: Path_, doc: SourceDocument, problems: list[Problem]) -> Any:
    doc.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                key = str(key)
            child = (*path, key)
            if key in result:
                problems.append(
                    Problem(
                        f"duplicate key {key!r}: each key may appear once",
                        file=doc.file,
                        line=key_node.start_mark.line + 1,
                        column=key_node.start_mark.column + 1,
                        field=dotted(child),
                    )
                )
                continue
            # Point errors about a field at its key, where a reader looks for it.
            doc.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(loader, value_node, child, doc, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), doc, problems) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
