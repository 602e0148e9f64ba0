"""Say on stderr what is being fetched: a spinner on a terminal, plain lines otherwise.

A slow cluster (or a far one) takes seconds per request; the user sees what it waits for.
"""

from __future__ import annotations

import itertools
import threading
from types import TracebackType
from typing import Final, Self, TextIO

FRAMES: Final = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
INTERVAL: Final = 0.1


class Progress:
    """A context manager; call it with each step's description."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self._stream = stream
        self._quiet = quiet
        self._tty = stream.isatty()
        self._text = ""
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __call__(self, text: str) -> None:
        """Show that ``text`` is underway."""
        if self._quiet:
            return
        with self._lock:
            self._text = text
        if not self._tty:
            self._stream.write(f"ripple report: {text}...\n")
            self._stream.flush()

    def __enter__(self) -> Self:
        if self._tty and not self._quiet:
            self._thread = threading.Thread(target=self._spin, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._stream.write("\r\033[K")
            self._stream.flush()

    def _spin(self) -> None:
        for frame in itertools.cycle(FRAMES):
            if self._done.wait(INTERVAL):
                return
            with self._lock:
                text = self._text
            if text:
                self._stream.write(f"\r\033[K{frame} {text}")
                self._stream.flush()
