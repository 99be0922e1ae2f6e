"""Facts about one image file (or one encoded image inside a record), from decoding it for real.

Each file is read once, as bytes: the bytes are hashed (exact duplicates), their first
bytes say what the content is (a PNG named `.jpg`, HTML saved as `.jpg`), and Pillow
decodes them from memory, so nothing is ever opened for writing. JPEGs are decoded in
draft mode (libjpeg's DCT scaling to 1/8): the whole entropy-coded stream is still read,
so truncation is found as by a full decode (a test proves it), at a fraction of the cost.
The facts are plain data (JSON), so they travel from worker processes and Dask workers.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
from typing import Optional

IMAGE_EXTENSIONS = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG", ".png": "PNG", ".gif": "GIF", ".bmp": "BMP",
    ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP", ".ppm": "PPM", ".pgm": "PPM", ".pbm": "PPM", ".pnm": "PPM",
    ".ico": "ICO", ".jp2": "JPEG2000", ".j2k": "JPEG2000", ".tga": "TGA",
}
# A file this small holds no useful picture (the `find -size -1k` files of the field notes).
TINY_BYTES = 1024
_TRUNCATED_TAIL = re.compile(r"\((\d+) bytes not processed\)")


def sniff(head: bytes) -> Optional[str]:
    """What the first bytes of a file say it holds: an image format, `html`, `text`, `empty`, or None."""
    if not head:
        return "empty"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] in (b"P1", b"P2", b"P3", b"P4", b"P5", b"P6"):
        return "PPM"
    if head.startswith(b"\x00\x00\x00\x0cjP  ") or head.startswith(b"\xff\x4f\xff\x51"):
        return "JPEG2000"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:512]:
        return "html"
    if text.startswith((b"<?xml", b"<svg")):
        return "svg" if b"<svg" in text[:1024] else "xml"
    if text[:1] in (b"{", b"["):
        return "json"
    try:
        head[:512].decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return None


def extension_format(path: str) -> Optional[str]:
    dot = path.rfind(".")
    return IMAGE_EXTENSIONS.get(path[dot:].lower()) if dot > path.rfind("/") else None


def png_missing_bytes(data: bytes) -> Optional[int]:
    """How many bytes a cut PNG lacks to finish the chunk it ends in (None when its chunks are whole, or no PNG)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    offset = 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        end = offset + 12 + length
        if end > len(data):
            return end - len(data)
        if kind == b"IEND":
            return None
        offset = end
    return 12 if offset == len(data) else 12 - (len(data) - offset)  # the IEND chunk (12 bytes), or the rest of a header


def decode(data: bytes, path: str = "", *, draft: bool = True) -> dict:
    """The facts of one encoded image: what it is, its mode and size, EXIF orientation, and any decode error."""
    from PIL import Image

    facts: dict = {"bytes": len(data), "sniffed": sniff(data[:1024])}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as error:
            facts.update(error_kind="bomb", error=str(error), bomb="error")
            return facts
        except Exception as error:  # UnidentifiedImageError, SyntaxError of a bad header, struct errors
            facts.update(error_kind="unidentified" if type(error).__name__ == "UnidentifiedImageError" else "corrupt",
                         error=_error_text(error, path))
            return facts
        facts.update(format=image.format, mode=image.mode, width=image.size[0], height=image.size[1])
        if any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught):
            facts["bomb"] = "warning"
            facts["pixels"] = image.size[0] * image.size[1]
            return facts  # reported, not decoded: decoding it is the memory blow-up the limit exists for
        try:
            orientation = image.getexif().get(0x0112)
            if orientation is not None:
                facts["orientation"] = int(orientation)
        except Exception as error:  # a broken EXIF block: Pillow's own error, the pixels may still be fine
            facts["exif_error"] = _error_text(error, path)
        try:
            if draft and image.format == "JPEG" and min(image.size) >= 64:
                image.draft(image.mode, (image.size[0] // 8, image.size[1] // 8))
            image.load()
        except Exception as error:
            text = _error_text(error, path)
            truncated = "truncated" in text or isinstance(error, EOFError)
            facts.update(error_kind="truncated" if truncated else "corrupt", error=text)
            missing = png_missing_bytes(data)
            if missing:
                facts["missing_bytes"] = missing
            tail = _TRUNCATED_TAIL.search(text)
            if tail:
                facts["unprocessed_bytes"] = int(tail.group(1))
            return facts
        finally:
            image.close()
    missing = png_missing_bytes(data)
    if missing:  # the pixels decoded, but the file stops before its end chunk
        facts.update(error_kind="truncated-end", missing_bytes=missing)
    return facts


_IN_MEMORY = re.compile(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>")


def _error_text(error: BaseException, path: str) -> str:
    """The decoder's own error, with the in-memory stream's address replaced by the file's name (stable text)."""
    return _IN_MEMORY.sub(repr(path) if path else "the data", f"{type(error).__name__}: {error}")


def file_facts(path: str, data: bytes) -> dict:
    """The facts of an image file: its bytes' hash and what they decode to."""
    facts = {"path": path, "ext_format": extension_format(path),
             "hash": hashlib.blake2b(data, digest_size=16).hexdigest()}
    if len(data) == 0:
        facts.update(bytes=0, sniffed="empty", error_kind="empty", error="the file is empty (0 bytes)")
        return facts
    facts.update(decode(data, path))
    return facts


def read_file(path: str) -> bytes:
    """The file's bytes, read-only: a local path or an fsspec URL (`s3://`, `gs://`, `memory://`)."""
    if "://" in path and not path.startswith("file://"):
        import fsspec

        with fsspec.open(path, "rb") as handle:
            return handle.read()
    with open(path[7:] if path.startswith("file://") else path, "rb") as handle:
        return handle.read()


def scan_files(paths: list[str]) -> list[dict]:
    """The facts of each file (a worker's task: a chunk of files, in order)."""
    out = []
    for path in paths:
        try:
            data = read_file(path)
        except OSError as error:
            out.append({"path": path, "ext_format": extension_format(path), "error_kind": "unreadable",
                        "error": f"{type(error).__name__}: {error.strerror or error}"})
            continue
        out.append(file_facts(path, data))
    return out
