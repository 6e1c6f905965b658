"""Exports in another text encoding than UTF-8, read through a UTF-8 copy.

Excel saves "CSV" on Windows as Windows-1252 and "Unicode Text" as UTF-16; Salesforce's Data
Loader and older report exports may be ISO-8859-1. DuckDB and the checks around a read
(csv_check, report_footer) read UTF-8 only, so such an export is decoded once, in chunks
(constant memory, whatever its size), into a UTF-8 copy in the import's staging folder, which
goes with that folder on success and on failure alike; the import then reads the copy exactly
as it reads a UTF-8 export. The copy holds the same characters, line breaks included, so its
lines are the export's: messages name the export and its lines, never the copy.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipelines.errors import InputError, Problem

# Read directly, without a copy: DuckDB and the checks skip a UTF-8 byte order mark themselves.
_READ_AS_IS = ("utf-8", "utf-8-sig")
# Decoded at once: 1 MiB keeps memory flat and Python's per-call cost negligible.
_CHUNK = 1 << 20
EXAMPLES = ("utf-8 (the default), cp1252 or windows-1252 (Excel's 'CSV' saved on Windows), latin-1, "
            "iso-8859-15, utf-16 (Excel's 'Unicode Text'), shift_jis")
# A byte order mark says what a file is: read as another encoding, it is mojibake, and the
# first column's name ('ï»¿Record ID') was "missing". UTF-32's little-endian mark starts with
# UTF-16's: it is looked for first.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", ("utf-32", "utf-32-le")),
         (codecs.BOM_UTF32_BE, "utf-32", ("utf-32", "utf-32-be")),
         (codecs.BOM_UTF8, "utf-8", _READ_AS_IS),
         (codecs.BOM_UTF16_LE, "utf-16", ("utf-16", "utf-16-le")),
         (codecs.BOM_UTF16_BE, "utf-16", ("utf-16", "utf-16-be")))


@dataclass(frozen=True)
class Encoding:
    """The text encoding of an export, and where it was given, for messages: `option` is
    '--encoding', or a field of the mapping `mapping` ('encoding', 'tables.contacts.encoding')."""

    name: str  # as given: 'Windows-1252'
    codec: str  # Python's name for it: 'cp1252'
    option: str = "--encoding"
    mapping: str | None = None

    @property
    def as_is(self) -> bool:
        """Whether the export is read directly (UTF-8), not through a copy."""
        return self.codec in _READ_AS_IS

    def setting(self, name: str) -> str:
        """How the user says that the export is in `name`."""
        return f"--encoding {name}" if self.mapping is None else f"'encoding: {name}' in {Path(self.mapping).name}"

    @property
    def given_by(self) -> str:
        return self.option if self.mapping is None else f"{Path(self.mapping).name}'s {self.option}"


def check_encoding(name: str, option: str = "--encoding", mapping: str | None = None) -> Encoding:
    """The encoding `name` (any Python knows, in any case: 'Windows-1252' is 'cp1252'), or exit 2."""
    try:
        codec = codecs.lookup(name).name
        # Python's other codecs (base64, zlib, rot13) turn bytes into bytes, or text into text;
        # 'undefined' refuses to decode anything.
        text = isinstance(codecs.getincrementaldecoder(codec)().decode(b"", True), str)
    except (LookupError, UnicodeError, TypeError):
        text = False
    if not text:
        raise InputError(Problem(f"unknown encoding {name!r}; expected a text encoding Python knows (in any "
                                 f"case), such as {EXAMPLES}", file=mapping, field=option))
    return Encoding(name, codec, option, mapping)


UTF8 = check_encoding("utf-8")


def utf8_copy(export: Path, encoding: Encoding, copy: Path) -> list[str]:
    """Write `export`, text in `encoding`, into `copy` as UTF-8. Returns the notes for the
    user: a warning when the export reads as UTF-8 too (see _Utf8Guess)."""
    _refuse_other_bom(export, encoding)
    decoder = codecs.getincrementaldecoder(encoding.codec)()
    guess = _Utf8Guess()
    controls = _ControlsOfLatin1(encoding)
    offset = 0  # of the chunk in the export
    copy.parent.mkdir(exist_ok=True)
    with export.open("rb") as source, _writing(copy) as target:
        while True:
            chunk = source.read(_CHUNK)
            state = decoder.getstate()
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                target.write(_decoded_before(encoding, exc, chunk, state))
                target.flush()
                raise InputError(_undecodable(export, encoding, exc, offset - len(state[0]), copy)) from None
            except UnicodeError as exc:
                # Python's utf-16 and utf-32 read a file only after their byte order mark: "UTF-16
                # stream does not start with BOM" (a UTF-8 export read as utf-16).
                without_bom = (f"for {encoding.codec.upper()} without a byte order mark give {encoding.codec}-le "
                               f"or {encoding.codec}-be; else " if encoding.codec in ("utf-16", "utf-32") else "")
                raise InputError(Problem(
                    f"not {encoding.name} text ({exc}): expected text in {encoding.name}, as {encoding.given_by} says; "
                    f"{without_bom}give the encoding the export was saved in, such as {EXAMPLES}",
                    file=str(export), line=_lines(copy))) from None
            target.write(text.encode("utf-8"))
            guess.read(chunk, text)
            controls.read(text)
            if not chunk:
                break
            offset += len(chunk)
    return guess.notes(export, encoding) + controls.notes(export)


# A disk without room for the copy: bad input naming --out, not a crash.
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@contextlib.contextmanager
def _writing(copy: Path) -> Iterator[BinaryIO]:
    """`copy`, open for writing; a full disk, on a write or on the last one as it closes, is
    exit 2 naming --out."""
    try:
        with copy.open("wb") as target:
            yield target
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        raise InputError(Problem(
            f"cannot write the UTF-8 copy of an export in another encoding into the folder ({exc.strerror}); "
            "expected room for one more copy of the export there (it is removed when the import ends)",
            field="--out")) from None


def _refuse_other_bom(export: Path, encoding: Encoding) -> None:
    """Exit 2 when the export starts with the byte order mark of another encoding than `encoding`."""
    with export.open("rb") as handle:
        start = handle.read(4)
    for bom, family, codecs_of_it in _BOMS:
        if start.startswith(bom):
            if encoding.codec not in codecs_of_it:
                advice = ("leave the encoding out: UTF-8 is the default" if family == "utf-8"
                          else f"expected {encoding.setting(family)}")
                raise InputError(Problem(
                    f"the file starts with the byte order mark of {family.upper()}, so it is {family.upper()} "
                    f"text, but {encoding.given_by} says {encoding.name}: {advice}", file=str(export), line=1))
            return


def _decoded_before(encoding: Encoding, exc: UnicodeDecodeError, chunk: bytes, state: tuple) -> bytes:
    """The text of `chunk` before the bytes that are not text in `encoding`, as UTF-8: the
    decoder raised without returning it, and the lines it holds count."""
    decoder = codecs.getincrementaldecoder(encoding.codec)()
    decoder.setstate(state)  # as the chunk began, with the bytes held from the one before
    try:
        return decoder.decode(chunk[:max(exc.start - len(state[0]), 0)]).encode("utf-8")
    except UnicodeDecodeError:  # not expected: the same bytes decoded up to there
        return b""


def _undecodable(export: Path, encoding: Encoding, exc: UnicodeDecodeError, start: int, copy: Path) -> Problem:
    """The export's line of the bytes that are not text in `encoding` (the lines decoded
    before them, counted in the copy), the bytes and their offset in the file. `start`: the
    offset in the export of `exc.object`, the bytes the decoder was given."""
    bad = exc.object[exc.start:exc.end]
    what = (f"byte 0x{bad[0]:02x} is" if len(bad) == 1
            else "bytes " + " ".join(f"0x{b:02x}" for b in bad) + " are")
    return Problem(f"{what} not {encoding.name} text ({exc.reason}, at byte {start + exc.start:,} of the file): "
                   f"expected text in {encoding.name}, as {encoding.given_by} says; give the encoding the export "
                   f"was saved in, such as {EXAMPLES}", file=str(export), line=_lines(copy))


def _lines(path: Path) -> int:
    """The line the end of `path` is on, counting every kind of line break (CRLF, LF, CR)."""
    breaks = 0
    with path.open("rb") as handle:
        for raw in handle:  # a chunk ends after b"\n": a CRLF is never split
            breaks += raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n")
    return breaks + 1


class _Utf8Guess:
    """Whether an export read in another encoding is UTF-8 after all: valid UTF-8 holding
    characters beyond ASCII. Read as Windows-1252, a UTF-8 export silently became mojibake
    ('José' as 'JosÃ©'). Text in a single-byte encoding is valid UTF-8 only by chance (each
    accented letter must be followed by one of 64 symbols), and rarely: a warning, not an
    error. Chunks are checked only until one is not UTF-8: a real Windows-1252 export costs
    the check of one chunk."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._possible = True
        self._first = _FirstOnLine(_NON_ASCII)  # the first character beyond ASCII
        self._example: tuple[int, str] | None = None  # its line, and its value as read

    def read(self, chunk: bytes, text: str) -> None:
        if not self._possible:
            return
        try:
            self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            self._possible = False
            return
        if self._example is None and (first := self._first.read(text)):
            at = first.start()
            found = _VALUE.finditer(text, text.rfind("\n", 0, at) + 1)
            value = next(m.group().strip() for m in found if m.end() > at)
            self._example = (self._first.line, value[:40])

    def notes(self, export: Path, encoding: Encoding) -> list[str]:
        if not (self._possible and self._example):
            return []
        line, value = self._example
        try:  # the same bytes read as UTF-8
            as_utf8 = value.encode(encoding.codec).decode("utf-8")
        except UnicodeError:
            as_utf8 = None
        example = f"line {line}: {value!r}" + (f", as UTF-8 {as_utf8!r}" if as_utf8 else "")
        leave_out = "--encoding" if encoding.mapping is None else f"the encoding in {Path(encoding.mapping).name}"
        return [f"warning: {export.name}: read as {encoding.name} ({encoding.given_by}), but the file is valid "
                f"UTF-8 text: if it was saved as UTF-8, its accents and symbols now read wrong ({example}); "
                f"import it without {leave_out}"]


class _ControlsOfLatin1:
    """Whether an export read as ISO-8859-1 holds its control characters U+0080..U+009F. Text
    has none; Windows-1252, which Windows and Salesforce exports labelled ISO-8859-1 often
    are, has '€', '’', '…', '–' there, which ISO-8859-1 silently read as invisible controls."""

    def __init__(self, encoding: Encoding) -> None:
        self._on = encoding.codec == "iso8859-1"
        self._first = _FirstOnLine(_C1)
        self._setting = encoding.setting("cp1252")
        self._given = f"{encoding.name} ({encoding.given_by})"

    def read(self, text: str) -> None:
        if self._on:
            self._first.read(text)

    def notes(self, export: Path) -> list[str]:
        if self._first.line is None:
            return []
        return [f"warning: {export.name}: read as {self._given}, it holds bytes 0x80..0x9f (first on line "
                f"{self._first.line}), which are control characters in ISO-8859-1 and no text; if the file came from "
                f"Windows they are Windows-1252's '€', '’', '…', '–' and the like: import it with {self._setting}"]


class _FirstOnLine:
    """The line of the first match of a pattern of characters beyond ASCII in text read chunk
    by chunk (`line`, None until found), lines counted across every kind of line break."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self._pattern = pattern
        self._lines = 1  # of the text read so far
        self._cr = False  # whether that text ended in a CR, whose LF may start the next chunk
        self.line: int | None = None

    def read(self, text: str) -> re.Match[str] | None:
        """The first match in `text` when it is the first of all; None otherwise."""
        if self.line is not None or not text:
            return None
        # A CRLF split between two chunks is one break: its CR was counted in the chunk before.
        joined = self._cr and text.startswith("\n")
        first = None if text.isascii() else self._pattern.search(text)  # isascii: a flag, no scan
        if first is None:
            self._lines += _breaks(text) - joined
            self._cr = text.endswith("\r")
            return None
        self.line = self._lines + _breaks(text[:first.start()]) - joined
        return first


_C1 = re.compile(r"[\x80-\x9f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A value of a line: up to the next delimiter or quote.
_VALUE = re.compile(r'[^,;\t|"\r\n]+')


def _breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")
