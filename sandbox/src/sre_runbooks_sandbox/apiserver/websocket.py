"""The server side of RFC 6455 WebSockets and Kubernetes' channel protocols, for pods/exec.

kubectl (1.30 and later) asks for ``v5.channel.k8s.io`` and the Python client for
``v4.channel.k8s.io``. In both, every message is binary and its first byte names the stream:
0 stdin, 1 stdout, 2 stderr, 3 the error channel carrying the final metav1.Status, 4 terminal
resize; v5 adds 255, by which a client says it closed one of its streams. Only what exec needs
is here: the handshake, frames both ways (client frames are masked), ping/pong and close.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import BinaryIO

# RFC 6455 section 1.3: the fixed GUID appended to the client's key.
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# What this server speaks, best first.
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE_STREAM = 0, 1, 2, 3, 4, 255
NORMAL_CLOSURE = 1000
# Nobody sends large frames to an exec; refuse absurd lengths rather than allocate them.
MAX_FRAME = 16 * 1024 * 1024


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key."""
    digest = hashlib.sha1((key.strip() + _GUID).encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def negotiate(offered: list[str]) -> str | None:
    """The first protocol of the client's list this server speaks (the client's preference)."""
    for protocol in offered:
        if protocol in PROTOCOLS:
            return protocol
    return None


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame, as a server sends them."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 1 << 16:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    return head + payload


def channel_message(channel: int, data: bytes) -> bytes:
    """A binary message on one of the channel protocols' streams."""
    return frame(OP_BINARY, bytes([channel]) + data)


def close_message(code: int = NORMAL_CLOSURE, reason: str = "") -> bytes:
    """A close frame with its status code."""
    return frame(OP_CLOSE, struct.pack("!H", code) + reason.encode())


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) < size:
        raise EOFError("connection closed in the middle of a frame")
    return data


def read_frame(stream: BinaryIO) -> tuple[int, bytes]:
    """Read one frame from a client: (opcode, unmasked payload). EOFError at end of stream."""
    first, second = _read_exactly(stream, 2)
    opcode = first & 0x0F
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", _read_exactly(stream, 2))[0]
    elif size == 127:
        size = struct.unpack("!Q", _read_exactly(stream, 8))[0]
    if size > MAX_FRAME:
        raise EOFError("frame too large")
    mask = _read_exactly(stream, 4) if second & 0x80 else b""
    payload = _read_exactly(stream, size) if size else b""
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload
