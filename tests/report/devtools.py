"""Chromium driven over its DevTools protocol, for what its command line cannot do: lay a page
out for print (emulated print media), then measure it, and print it to PDF on a chosen paper.

The protocol runs on a pipe (--remote-debugging-pipe: JSON messages, each ending in NUL,
read from fd 3 and written to fd 4), so it needs no client library and opens no port.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import subprocess
import time
from pathlib import Path

TIMEOUT = 60.0


class DevToolsError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page attached; `call` sends a command to that page."""

    def __init__(self, command: list[str], log: Path) -> None:
        to_chromium, self._to = os.pipe()
        self._from, from_chromium = os.pipe()

        def plumb() -> None:          # in the child, before exec: Chromium reads fd 3, writes fd 4
            os.dup2(to_chromium, 3)
            os.dup2(from_chromium, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self._process = subprocess.Popen([*command, "--remote-debugging-pipe", "about:blank"], preexec_fn=plumb,
                                         close_fds=False, stdout=subprocess.DEVNULL,
                                         stderr=log.open("wb"))
        os.close(to_chromium)
        os.close(from_chromium)
        self._buffer, self._next_id, self._events = b"", 0, []
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")

    def call(self, method: str, **params) -> dict:
        return self._send(method, params, self._session)

    def open(self, url: str) -> None:
        """Load `url` in the page and wait for its load event."""
        self._events.clear()
        self.call("Page.navigate", url=url)
        self._wait(lambda: any(e.get("method") == "Page.loadEventFired" for e in self._events))

    def evaluate(self, function_body: str):
        """What the JavaScript function body returns, as JSON (DevTools runs it past the page's CSP)."""
        reply = self.call("Runtime.evaluate", expression=f"(() => {{ {function_body} }})()", returnByValue=True)
        if "exceptionDetails" in reply:
            raise DevToolsError(json.dumps(reply["exceptionDetails"])[:2000])
        return reply["result"].get("value")

    def pdf(self, **params) -> bytes:
        return base64.b64decode(self.call("Page.printToPDF", **params)["data"])

    def close(self) -> None:
        try:
            self._send("Browser.close", {})
        except DevToolsError:
            pass
        finally:
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            os.close(self._to)
            os.close(self._from)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, method: str, params: dict, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        ident = self._next_id
        reply = self._wait(lambda: next((e for e in self._events if e.get("id") == ident), None))
        self._events.remove(reply)
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        return reply["result"]

    def _wait(self, found):
        """Read messages until `found()` returns something (events are kept for it to look at)."""
        deadline = time.monotonic() + TIMEOUT
        while not (hit := found()):
            left = deadline - time.monotonic()
            if left <= 0 or self._process.poll() is not None:
                raise DevToolsError(f"no answer from chromium (exit {self._process.poll()})")
            if select.select([self._from], [], [], left)[0]:
                chunk = os.read(self._from, 1 << 20)
                if not chunk:
                    raise DevToolsError(f"chromium closed the pipe (exit {self._process.wait()})")
                *messages, self._buffer = (self._buffer + chunk).split(b"\0")
                self._events.extend(json.loads(m) for m in messages)
        return hit


def pdf_media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height (points) of each page of a PDF as Chromium writes it: one uncompressed
    page object each, with its own /MediaBox."""
    boxes = re.findall(rb"/Type /Page\b(?:(?!endobj).)*?/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf, re.S)
    return [(float(w), float(h)) for w, h in boxes]


def pdf_outline(pdf: bytes) -> list[tuple[str, int]]:
    """Title and page (from 0) of each entry of a PDF's outline, as Chromium writes it from the
    page's headings (Page.printToPDF with generateDocumentOutline): ASCII titles only."""
    pages = re.findall(rb"(\d+) 0 obj\s*<<\s*/Type /Page\b", pdf)
    entries = re.findall(rb"/Title \(((?:[^()\\]|\\.)*)\)\s*/Dest \[(\d+) 0 R", pdf)
    return [(title.decode("latin-1"), pages.index(page)) for title, page in entries]
