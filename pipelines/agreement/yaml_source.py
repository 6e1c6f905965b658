"""YAML loading that remembers where every key and value came from.

Errors must name the line and column of the offending field, so documents are composed
into nodes first and built into plain Python values while recording each path's position.
Merge keys (`<<: *defaults`) are resolved there too; aliases that never end or expand
beyond reason, and values YAML cannot construct, are problems with a line, not tracebacks.
Floats are read as `Decimal` straight from their text: 0.02 stays exactly 0.02 all the way
to the planner's exact arithmetic.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from pipelines.agreement.months import is_month_field, not_a_month
from pipelines.errors import InputError, Problem

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    pass


# YAML 1.1 reads 012000 as octal (5120), 0x1A as 26, 1:30 as base 60 (90) and drops
# underscores (1_0 is 10): a deal size or a revision label that silently becomes another
# number. Numbers are read only as plain decimals.
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    if not _PLAIN_INT.fullmatch(node.value):
        _refuse_number(loader, node, yaml.SafeLoader.construct_yaml_int)
    return int(node.value)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | float:
    if "_" in node.value or ":" in node.value:
        _refuse_number(loader, node, yaml.SafeLoader.construct_yaml_float)
    try:
        return Decimal(node.value)
    except InvalidOperation:
        return yaml.SafeLoader.construct_yaml_float(loader, node)  # .inf, .nan


def _refuse_number(loader: yaml.SafeLoader, node: yaml.ScalarNode, yaml_reading: Any) -> None:
    raise yaml.constructor.ConstructorError(
        None, None,
        f"{node.value!r} is not a plain decimal number: YAML 1.1 reads it as {yaml_reading(loader, node)}; "
        "write it as a plain decimal number, or quote it if it is text",
        node.start_mark,
    )


# What a number that reads as something else (0,35, 600,000) should have been.
PLAIN_NUMBER = "a number with a decimal point and no thousands separator, e.g. 0.35 or 600000"

_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
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
        if isinstance(part, bool):  # a key YAML read as a boolean (on:, yes:), not an index
            out += ("." if out else "") + str(part).lower()
        elif isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_yaml(text: str, file: str, expected: str = "an Agreement document") -> SourceDocument:
    """Parse one YAML document; syntax errors and duplicate keys raise InputError with lines.
    `expected` names what an empty file should have held."""
    # Without a byte-order mark, so that the marks of either loader count from the text's first
    # character (libyaml's skip the mark, PyYAML's count it).
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_CHARS:
        raise InputError(Problem(f"the file is {len(text):,} characters long: expected {expected} of at most "
                                 f"{MAX_CHARS:,} characters (one is a few kilobytes)", file=file))
    loader = _Loader(text)
    lines = _Lines(text)
    try:
        node = _single_node(loader, lines, file)
        if node is None:
            raise InputError(Problem(f"the file is empty: expected {expected}", file=file))
        doc = SourceDocument(file=file, data=None)
        builder = _Builder(loader, doc, lines)
        doc.data = builder.build(node, ())
    finally:
        loader.dispose()
    if builder.problems:
        raise InputError(builder.problems)
    return doc


def _single_node(loader: "_Loader", lines: "_Lines", file: str):
    """The document's node tree; a YAML error becomes an InputError with its line."""
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = lines.where(mark) if mark else (None, None)
        reason = exc.problem or str(exc)
        if exc.context:
            reason = f"{exc.context}, {reason}"
            opened = exc.context_mark and lines.where(exc.context_mark)
            if opened and mark and opened[0] != line:
                # An unclosed bracket is found lines later; name where it was opened too.
                reason += f" (the {exc.context.split()[-1]} starts at line {opened[0]}, column {opened[1]})"
        if "mapping values are not allowed" in reason:
            reason += " (check the indentation of this line and the one before, or quote a value holding ': ')"
        elif "but found another document" in reason:
            # Two revisions pasted into one file: each revision is a file of its own in sla/.
            reason += "; a file holds one revision: remove this '---' and put the next revision in a file of its own"
        elif mark and lines.char_at(mark) == "\t":
            # libyaml says "found character that cannot start any token", never which one.
            reason += " (a tab: indent with spaces)"
        hidden = _hidden_break(lines.text, mark.index) if mark else None
        if hidden is not None:  # the line to fix is the one holding it, not where YAML gives up
            reason = (f"the invisible character U+{ord(lines.text[hidden]):04X} here is a line break to YAML, not "
                      f"to editors: delete it (YAML then finds at line {line}, column {column}: {reason})")
            line, column = lines.at(hidden)
        raise InputError(
            Problem(f"invalid YAML: {reason}", file=file, line=line, column=column)
        ) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses anywhere in the text (a control character pasted with a
        # label): the reader names its offset in bytes (libyaml) or characters (PyYAML), in
        # "<unicode string>", not a line. Found again here, it is named with its line.
        found = yaml.reader.Reader.NON_PRINTABLE.search(lines.text)
        if found is None:
            raise InputError(Problem(f"invalid YAML: {exc}", file=file)) from None
        line, column = lines.at(found.start())
        raise InputError(Problem(f"invalid YAML: the character U+{ord(found.group()):04X} is not allowed "
                                 "(YAML holds no control characters): delete it", file=file, line=line,
                                 column=column)) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"invalid YAML: {exc}", file=file)) from None
    except RecursionError:  # the pure-Python parser composes nested collections recursively
        raise InputError(Problem(f"invalid YAML: nested more than {MAX_DEPTH} levels deep", file=file)) from None


# YAML 1.1 also breaks lines at NEL, LS and PS; editors (YAML 1.2), git and _Lines do not. In a
# comment one ends the comment, the rest of it is read as a value, and the error that follows
# named a line below it, where nothing is wrong ("# The\x85smarketing SLA" on line 2: "4:1 did
# not find expected <document start>"). NEL comes of "…" in Windows-1252 read as Latin-1.
_YAML_ONLY_BREAK = re.compile("[\x85\u2028\u2029]")


def _hidden_break(text: str, end: int) -> int | None:
    """The index of the last NEL, LS or PS before `end` that YAML reads as a line break: one
    outside quotes (inside them it is a character of the text)."""
    found = [m.start() for m in _YAML_ONLY_BREAK.finditer(text, 0, end)]
    if not found:
        return None
    quoted = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.ScalarToken) and token.style in ("'", '"'):
                quoted.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError:
        pass  # the error being reported: the quotes before it are known
    return next((i for i in reversed(found) if not any(start <= i < stop for start, stop in quoted)), None)


class _Lines:
    """Positions in a YAML text as editors, git and pull requests number its lines: broken at
    \\n, \\r\\n or \\r. YAML 1.1 also breaks lines at NEL, LS and PS (U+0085, U+2028,
    U+2029): after a label pasted with one, its line numbers named the line below the one to
    fix. A mark's index counts characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in re.finditer(r"\r\n?|\n", self.text))]

    def where(self, mark: Any) -> tuple[int, int]:
        """1-based line and column of a mark."""
        return self.at(mark.index)

    def at(self, index: int) -> tuple[int, int]:
        """1-based line and column of the character at `index`."""
        line = bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1

    def char_at(self, mark: Any) -> str | None:
        return self.text[mark.index] if mark.index < len(self.text) else None


MERGE_TAG = "tag:yaml.org,2002:merge"
# Aliases (*name) repeat what an anchor (&name) holds; nested ones multiply: ten lists of ten
# aliases of ten lists... made 1 KB of YAML expand to 10^7 values and validate take 36 s.
# An agreement holds a few hundred values.
MAX_VALUES = 100_000
# Composing costs ~170 bytes of memory a value before MAX_VALUES can count them: 4 MB of a
# list from a pull request took 8 s and 665 MB, 40 MB would exhaust a CI runner. An
# agreement or a column mapping is a few kilobytes.
MAX_CHARS = 1 << 20
# An agreement nests five levels deep; Python's stack would give out near 500.
MAX_DEPTH = 100


class _Builder:
    """Builds composed YAML nodes into plain Python values, recording the position of every
    path, resolving merge keys (`<<: *defaults`) and refusing what would never end: an
    alias inside the collection it names, or aliases that expand beyond MAX_VALUES."""

    def __init__(self, loader: Any, doc: SourceDocument, lines: _Lines) -> None:
        self.loader = loader
        self.doc = doc
        self.lines = lines
        self.problems: list[Problem] = []
        self._reported: set[tuple[int, int, str]] = set()
        self.values = 0
        self.open: set[int] = set()  # ids of the collections being built: a cycle's way back

    def problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        line, column = self._position(node)
        # A mapping merged with `<<` is read where it is defined and again where it is
        # merged: report each mistake in it once.
        if (line, column, message) not in self._reported:
            self._reported.add((line, column, message))
            self.problems.append(Problem(message, file=self.doc.file, line=line, column=column, field=dotted(path)))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self._count(node, path)
        self.doc.positions.setdefault(path, self._position(node))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.open:
            self.problem(node, path, "this alias (*name) repeats a list or mapping that contains it, so it "
                                     "never ends: expected an alias of a value defined outside it")
            return None
        if len(path) > MAX_DEPTH:
            self.problem(node, path, f"nested more than {MAX_DEPTH} levels deep: expected an agreement")
            return None
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            entries = {**self._merged(node, path), **self._entries(node, path)}
            result: dict[Any, Any] = {}
            for key, (key_node, value_node) in entries.items():
                child = (*path, key)
                # Point errors about a field at its key, where a reader looks for it.
                self.doc.positions[child] = self._position(key_node)
                result[key] = self.build(value_node, child)
            return result
        finally:
            self.open.discard(id(node))

    def _position(self, node: yaml.Node) -> tuple[int, int]:
        return self.lines.where(node.start_mark)

    def _count(self, node: yaml.Node, path: Path_) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            line, column = self._position(node)
            raise InputError(Problem(
                f"the document expands to more than {MAX_VALUES:,} values through its aliases (*name): "
                "expected an agreement that repeats itself less", file=self.doc.file, line=line, column=column,
                field=dotted(path)))

    def _entries(self, node: yaml.MappingNode, path: Path_) -> dict[Any, tuple[yaml.Node, yaml.Node]]:
        """The mapping's own keys (not its merge keys) and their nodes; the same key twice,
        and a key that is not text, are problems."""
        out: dict[Any, tuple[yaml.Node, yaml.Node]] = {}
        previous: tuple[Any, yaml.Node] | None = None  # the last key and value read
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            self._count(key_node, path)
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, path, "a key must be plain text, not a list or mapping")
                continue
            if previous and _decimal_comma(previous[1], key_node, value_node):
                number = f"{previous[1].value},{key_node.value}"
                self.problem(previous[1], (*path, previous[0]), (
                    f"{number} is not a number: in {{…}} YAML reads the comma as the end of the value "
                    f"{previous[1].value}, and {key_node.value} as the next key; expected {PLAIN_NUMBER}"))
                continue
            key = self._scalar(key_node, (*path, key_node.value))
            if not isinstance(key, (str, int)):
                # As YAML writes it (null:, true:, 2026-01-01:), not as Python's str() ('None').
                key = "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)
            if key in out:
                self.problem(key_node, (*path, key), f"duplicate key {key!r}: each key may appear once")
                continue
            out[key] = (key_node, value_node)
            previous = (key, value_node)
        return out

    def _merged(self, node: yaml.MappingNode, path: Path_) -> dict[Any, tuple[yaml.Node, yaml.Node]]:
        """The entries `<<: *defaults` (or `<<: [*first, *second]`) merges into the mapping.
        Its own keys override them, and of several merged mappings the first wins (YAML's
        merge key). PyYAML's flatten_mapping rewrites the anchored nodes in place, after
        which a mapping visited twice (through two aliases) no longer tells its own keys
        from merged ones: a duplicate key error where there is none."""
        out: dict[Any, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in reversed(sources):
                self._count(source, path)
                if not isinstance(source, yaml.MappingNode):
                    self.problem(key_node, path, "'<<' merges mappings: expected '<<: *name' naming a "
                                                 "mapping, or a list of such aliases")
                elif id(source) in self.open:
                    self.problem(key_node, path, "'<<' merges a mapping that contains it, so it never ends: "
                                                 "expected an alias of a mapping defined outside it")
                else:
                    self.open.add(id(source))
                    out.update(self._merged(source, path))
                    out.update(self._entries(source, path))
                    self.open.discard(id(source))
        return out

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            message = f"invalid YAML: {exc.problem or exc}"
        except (yaml.YAMLError, ValueError, OverflowError) as exc:  # 2026-02-30 read as a date, say
            if is_month_field(path):  # a window's `from: 2026-02-30`, a seasonality month
                message = not_a_month(node.value)
            else:
                message = f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}: {exc}; quote it if it is text"
        self.problem(node, path, message)
        return None


def _decimal_comma(value: yaml.Node, key: yaml.ScalarNode, key_value: yaml.Node) -> bool:
    """Whether `{rate: 0,35}` is what was meant: a plain whole number, then straight after its
    comma a plain whole number as a key without a value (YAML reads {rate: 0, 35: null})."""
    def plain_digits(node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and not node.style and re.fullmatch(r"[-+]?[0-9]+", node.value) is not None

    return (plain_digits(value) and plain_digits(key)
            and isinstance(key_value, yaml.ScalarNode) and key_value.tag.endswith(":null") and key_value.value == ""
            and key.start_mark.line == value.end_mark.line and key.start_mark.column == value.end_mark.column + 1)
