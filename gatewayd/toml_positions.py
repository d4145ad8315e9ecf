"""Where each key of a TOML document was written: key path -> (line, column), both 1-based.

tomllib gives values, not positions, and an installer needs "line 14, column 27" to find
`devices[3].points[1].register` in a 200-line file. This scanner walks a document that
tomllib has already accepted and records where every key, table header and array element
starts. It is best effort: anything it does not understand ends the scan with what it has,
and a message then goes out without a position rather than with a wrong one.

    [[devices]]                      ("devices", 0)              -> (1, 1)
    name = "meter"                   ("devices", 0, "name")      -> (2, 1)
    points = [ { alias = 1 } ]       ("devices", 0, "points", 0) -> (3, 12)
"""

from __future__ import annotations

import contextlib

Path = tuple[str | int, ...]
Position = tuple[int, int]

MAX_DEPTH = 64  # nesting beyond this is refused by the loader before we get here
_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Stop(Exception):
    """The scanner met something it does not follow: keep what was found so far."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.found: dict[Path, Position] = {}
        self.arrays: dict[Path, int] = {}  # array-of-tables path -> index of its last element
        # line starts, so a position is computed only for what is recorded
        self.line_starts = [0] + [k + 1 for k, c in enumerate(text) if c == "\n"]

    # -- positions -----------------------------------------------------------------------------
    def pos(self, index: int) -> Position:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= index:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, index - self.line_starts[lo] + 1

    def mark(self, path: Path, index: int) -> None:
        self.found.setdefault(path, self.pos(index))

    # -- characters ----------------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def skip_blank(self, newlines: bool) -> None:
        """Spaces and tabs; with `newlines`, also line ends and comments (inside arrays)."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#" and newlines:
                self.skip_comment()
            else:
                return

    def skip_comment(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = len(self.s) if end < 0 else end

    def expect(self, c: str) -> None:
        if self.peek() != c:
            raise _Stop
        self.i += 1

    # -- keys ----------------------------------------------------------------------------------
    def key(self) -> list[tuple[str, int]]:
        """A dotted key: each part with the index where it starts."""
        parts: list[tuple[str, int]] = []
        while True:
            self.skip_blank(False)
            start = self.i
            parts.append((self.key_part(), start))
            self.skip_blank(False)
            if self.peek() != ".":
                return parts
            self.i += 1

    def key_part(self) -> str:
        c = self.peek()
        if c in ('"', "'"):
            return self.string()
        start = self.i
        while self.i < len(self.s) and self.s[self.i] in _BARE:
            self.i += 1
        if self.i == start:
            raise _Stop
        return self.s[start:self.i]

    def string(self) -> str:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                end = self.s.find(quote, self.i + 3)
                while end >= 0 and self.s[end + 3:end + 4] == quote[0]:
                    end += 1  # up to two quotes may close a multi-line string's content
                if end < 0:
                    raise _Stop
                value = self.s[self.i + 3:end]
                self.i = end + 3
                return value
        quote = self.s[self.i]
        self.i += 1
        start = self.i
        while self.i < len(self.s) and self.s[self.i] != quote:
            if self.s[self.i] == "\n":
                raise _Stop
            self.i += 2 if quote == '"' and self.s[self.i] == "\\" else 1
        value = self.s[start:self.i]
        self.expect(quote)
        return value

    # -- values --------------------------------------------------------------------------------
    def value(self, path: Path, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _Stop
        self.skip_blank(False)
        c = self.peek()
        if c == "{":
            self.inline_table(path, depth)
        elif c == "[":
            self.array(path, depth)
        elif c in ('"', "'"):
            self.string()
        else:
            while self.i < len(self.s) and self.s[self.i] not in ",]}#\n":
                self.i += 1

    def inline_table(self, path: Path, depth: int) -> None:
        self.i += 1
        self.skip_blank(False)
        if self.peek() == "}":
            self.i += 1
            return
        while True:
            self.key_value(path, depth)
            self.skip_blank(False)
            if self.peek() == "}":
                self.i += 1
                return
            self.expect(",")

    def array(self, path: Path, depth: int) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip_blank(True)
            if self.peek() == "]":
                self.i += 1
                return
            self.mark((*path, index), self.i)
            self.value((*path, index), depth + 1)
            self.skip_blank(True)
            if self.peek() == ",":
                self.i += 1
                index += 1
            else:
                self.expect("]")
                return

    def key_value(self, table: Path, depth: int) -> None:
        path = table
        for part, start in self.key():
            path = (*path, part)
            self.mark(path, start)
        self.skip_blank(False)
        self.expect("=")
        self.value(path, depth + 1)

    # -- tables --------------------------------------------------------------------------------
    def resolve(self, names: list[str]) -> Path:
        """A header's names as a path, with the current index of each array of tables on it."""
        path: Path = ()
        for name in names:
            path = (*path, name)
            if path in self.arrays:
                path = (*path, self.arrays[path])
        return path

    def header(self) -> Path:
        start = self.i
        double = self.peek(2) == "[["
        self.i += 2 if double else 1
        names = [part for part, _ in self.key()]
        self.expect("]")
        if double:
            self.expect("]")
            base = (*self.resolve(names[:-1]), names[-1])
            self.arrays[base] = self.arrays.get(base, -1) + 1
            self.mark(base, start)
            table: Path = (*base, self.arrays[base])
        else:
            table = self.resolve(names)
        self.mark(table, start)
        return table

    def document(self) -> None:
        table: Path = ()
        while self.i < len(self.s):
            self.skip_blank(True)
            if self.i >= len(self.s):
                return
            if self.peek() == "[":
                table = self.header()
            else:
                self.key_value(table, 0)
            self.skip_blank(False)
            if self.peek() == "#":
                self.skip_comment()


def key_positions(text: str) -> dict[Path, Position]:
    """Every key path of `text` (already accepted by tomllib) with its line and column."""
    scanner = _Scanner(text)
    with contextlib.suppress(_Stop, IndexError, RecursionError):
        scanner.document()
    return scanner.found


def locate(positions: dict[Path, Position], path: Path) -> Position | None:
    """Where `path` was written, or else its nearest enclosing key (a missing key is reported
    at the table that lacks it)."""
    for n in range(len(path), 0, -1):
        if path[:n] in positions:
            return positions[path[:n]]
    return None
