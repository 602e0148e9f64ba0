"""Reading one HTTP/1.1 response as it arrives: the head, then a body of any framing.

The upstream client feeds bytes in and learns when the response is complete; bodies
may be sized by Content-Length, chunked, or end when the server closes (``feed_eof``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .answer import BadBodyError

#: A response head longer than this is not one our services send.
MAX_HEAD = 16 * 1024


class HttpClientError(Exception):
    """The upstream connection failed in a way of its own (not an OS error)."""


class ServerDisconnectedError(HttpClientError):
    """The server closed the connection before the response's head was complete."""


class ResponseCutShortError(HttpClientError):
    """The server closed the connection within the response's body."""


class MalformedResponseError(HttpClientError):
    """The bytes the server sent are not an HTTP/1.x response."""


@dataclass(frozen=True, slots=True)
class Head:
    """The status line and the headers that frame the body."""

    status: int
    length: int | None
    """Content-Length, or None when the body is chunked or close-delimited."""
    chunked: bool
    keep_alive: bool


def parse_head(raw: bytes) -> Head:
    """Parse a response head (without its final blank line); raise MalformedResponseError."""
    lines = raw.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise MalformedResponseError("bad status line")
    length: int | None = None
    chunked = False
    connection = b""
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise MalformedResponseError("bad header line")
        name = name.strip().lower()
        if name == b"content-length":
            value = value.strip()
            if not value.isdigit():
                raise MalformedResponseError("bad content-length")
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = value.strip().lower().endswith(b"chunked")
        elif name == b"connection":
            connection = value.strip().lower()
    if chunked:
        length = None
    keep_alive = connection != b"close" if version == b"HTTP/1.1" else connection == b"keep-alive"
    return Head(status=int(code), length=length, chunked=chunked, keep_alive=keep_alive)


class ResponseReader:
    """Collect one response from fed bytes; ``done`` once it is complete.

    Bodies past ``max_body`` bytes are counted, not kept, and end in BadBodyError
    naming their full size (a Content-Length past it fails at once).
    """

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.head: Head | None = None
        self.done = False
        self.extra = False
        """Bytes beyond the response arrived: the connection cannot be reused."""
        self._buf = bytearray()
        self._body = bytearray()
        self._size = 0
        self._chunk_left = -1
        """Chunked: bytes left of the current chunk plus its CRLF; -1 reading a size line."""
        self._trailers = False

    @property
    def body(self) -> bytes:
        """The complete body."""
        if self._size > self.max_body:
            raise BadBodyError(f"too large: {self._size} bytes")
        return bytes(self._body)

    def feed(self, data: bytes) -> None:
        """Take the next bytes; sets ``head`` and then ``done``."""
        if self.done:
            self.extra = True
            return
        buf = self._buf
        buf += data
        if self.head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise MalformedResponseError("head too large")
                return
            self.head = parse_head(bytes(buf[:end]))
            del buf[: end + 4]
            if self.head.length is not None and self.head.length > self.max_body:
                raise BadBodyError(f"too large: {self.head.length} bytes")
        head = self.head
        if head.length is not None:
            if len(buf) >= head.length:
                self._keep(buf[: head.length])
                self.extra = len(buf) > head.length
                buf.clear()
                self.done = True
        elif head.chunked:
            self._read_chunks()
        else:
            self._keep(buf)
            buf.clear()

    def feed_eof(self) -> None:
        """Take the server's close: it ends a close-delimited body, and cuts any other."""
        if self.done:
            return
        if self.head is None:
            raise ServerDisconnectedError
        if self.head.length is None and not self.head.chunked:
            self.done = True
            return
        raise ResponseCutShortError

    def _keep(self, data: bytes | bytearray) -> None:
        self._size += len(data)
        if self._size <= self.max_body:
            self._body += data

    def _read_chunks(self) -> None:
        buf = self._buf
        pos = 0
        while not self.done:
            if self._chunk_left >= 0:
                take = min(self._chunk_left, len(buf) - pos)
                # The chunk's data is kept; the CRLF that ends it is not.
                data = min(take, max(self._chunk_left - 2, 0))
                self._keep(buf[pos : pos + data])
                pos += take
                self._chunk_left -= take
                if self._chunk_left > 0:
                    break
                self._chunk_left = -1
                continue
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if len(buf) - pos > MAX_HEAD:
                    raise MalformedResponseError("chunk line too long")
                break
            line = bytes(buf[pos:end])
            pos = end + 2
            if self._trailers:
                self.done = not line
                continue
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise MalformedResponseError("bad chunk size") from None
            if size == 0:
                self._trailers = True
            else:
                self._chunk_left = size + 2
        self.extra = self.done and pos < len(buf)
        del buf[:pos]
