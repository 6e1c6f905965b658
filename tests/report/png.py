"""A small PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium writes), with numpy.

Chromium's screenshots mix all five scanline filters; None, Sub and Up vectorise, Average
and Paeth depend on the pixel to the left and are undone pixel by pixel.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np


def read_png(data: bytes) -> np.ndarray:
    """The image as an array of shape (height, width, channels), dtype uint8."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:
            row = np.cumsum(line.reshape(width, channels), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:
            row = line + previous
        elif kind in (3, 4):
            row = _sequential(kind, line.tolist(), previous.tolist(), channels)
        else:
            raise ValueError(f"unknown PNG filter {kind} on row {y}")
        out[y] = row
        previous = out[y]
    return out.reshape(height, width, channels)


def _sequential(kind: int, line: list[int], up: list[int], channels: int) -> np.ndarray:
    row = [0] * len(line)
    for i, value in enumerate(line):
        a = row[i - channels] if i >= channels else 0
        b = up[i]
        if kind == 3:
            row[i] = (value + (a + b) // 2) & 0xFF
            continue
        c = up[i - channels] if i >= channels else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        row[i] = (value + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 0xFF
    return np.array(row, dtype=np.uint8)
