"""Read the report back: the elements that carry data-* attributes, and every URL it names."""

from __future__ import annotations

from html.parser import HTMLParser


class Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.urls: list[tuple[str, str, str]] = []        # (tag, attribute, value)
        self.tags: set[str] = set()
        self.meta: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        self.elements.append((tag, values))
        if tag == "meta":
            self.meta.append(values)
        for name in ("src", "href", "action", "srcset", "poster", "data", "xlink:href", "formaction"):
            if name in values:
                self.urls.append((tag, name, values[name]))


def scan(text: str) -> Scan:
    parser = Scan()
    parser.feed(text)
    return parser


def kpi_rows(text: str) -> list[dict[str, str]]:
    """The scorecard rows: elements with data-kpi and data-actual."""
    return [attrs for tag, attrs in scan(text).elements if tag == "tr" and "data-kpi" in attrs and "data-actual" in attrs]


def number(text: str) -> float | None:
    return None if text == "" else float(text)


class Tables(HTMLParser):
    """Each table's heading classes and, per body row, each cell's (its heading's too) classes
    and whether it holds anything (text, or an element such as a bar). Report tables are not nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.in_head = False
        self.cell: dict | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr" and not self.in_head:
            self.tables[-1]["rows"].append([])
        elif tag == "th" and self.in_head:
            self.tables[-1]["head"].append(classes)
        elif tag in ("td", "th"):  # a body row's heading is one of its cells
            self.cell = {"tag": tag, "classes": classes, "filled": False}
            self.tables[-1]["rows"][-1].append(self.cell)
        elif self.cell is not None:
            self.cell["filled"] = True

    def handle_data(self, data: str) -> None:
        if self.cell is not None and data.strip():
            self.cell["filled"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self.in_head = False
        elif tag in ("td", "th"):
            self.cell = None


def tables(text: str) -> list[dict]:
    parser = Tables()
    parser.feed(text)
    return parser.tables


class Headings(HTMLParser):
    """Each table's caption and, per <th>, its scope and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.into: list | None = None          # where the text being read goes

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append({"caption": [], "th": []})
        elif tag == "caption":
            self.into = self.tables[-1]["caption"]
        elif tag == "th":
            self.tables[-1]["th"].append((dict(attrs).get("scope"), []))
            self.into = self.tables[-1]["th"][-1][1]

    def handle_data(self, data: str) -> None:
        if self.into is not None:
            self.into.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("caption", "th"):
            self.into = None


def table_headings(text: str) -> list[dict]:
    """Per table: its caption's text, and (scope, text) of each heading cell."""
    parser = Headings()
    parser.feed(text)
    return [{"caption": "".join(t["caption"]).strip(), "th": [(scope, "".join(words).strip()) for scope, words in t["th"]]}
            for t in parser.tables]
