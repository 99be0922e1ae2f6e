"""Real data sets for the `dldoctor data` tests, written with Pillow (images) and TensorFlow (TFRecords).

Every broken file is broken the way it happens in the field: a JPEG cut short, a PNG
saved under `.jpg`, an HTML error page saved as `.jpg`, a 1x1 tracking pixel, a CMYK and
a grayscale JPEG among RGB ones, a photo whose EXIF says "rotate 90°", the same picture
in two class folders, an empty class folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n"


def noise(seed: int, size=(64, 48), mode: str = "RGB") -> Image.Image:
    """A distinct picture per seed (random pixels), in the given mode."""
    rng = np.random.default_rng(seed)
    width, height = size
    array = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    image = Image.fromarray(array, "RGB")
    return image if mode == "RGB" else image.convert(mode)


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def rotated_jpeg(seed: int, orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(noise(seed), "JPEG", exif=exif.tobytes())


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height (the pixels are never reached: the size check comes first)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + \
        chunk(b"IEND", b"")


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def messy_imagefolder(root: Path) -> dict[str, Path]:
    """An ImageFolder (cats, dogs, an empty class) holding one of each field failure; returns the named files."""
    named = {}
    for i in range(8):
        write(root / "dogs" / f"dog{i}.jpg", encode(noise(100 + i)))
    for i in range(8):
        write(root / "cats" / f"cat{i}.jpg", encode(noise(200 + i)))
    (root / "empty_class").mkdir(parents=True, exist_ok=True)
    full = encode(noise(300, size=(256, 192)))
    named["truncated"] = write(root / "cats" / "truncated.jpg", full[: len(full) * 2 // 3])
    named["png_as_jpg"] = write(root / "cats" / "really_png.jpg", encode(noise(301), "PNG"))
    named["html"] = write(root / "cats" / "error_page.jpg", HTML_PAGE)
    named["pixel"] = write(root / "cats" / "pixel.png", encode(Image.new("RGB", (1, 1), (255, 0, 0)), "PNG"))
    named["gray"] = write(root / "cats" / "gray.jpg", encode(noise(302, mode="L")))
    named["cmyk"] = write(root / "cats" / "cmyk.jpg", encode(noise(303, mode="CMYK")))
    named["rotated"] = write(root / "cats" / "rotated.jpg", rotated_jpeg(304))
    named["empty"] = write(root / "cats" / "zero.jpg", b"")
    named["dup_dog"] = root / "dogs" / "dog0.jpg"
    named["dup_cat"] = write(root / "cats" / "also_dog0.jpg", (root / "dogs" / "dog0.jpg").read_bytes())
    named["notes"] = write(root / "cats" / "notes.txt", b"scraped 2019-05-20\n")
    return named


def clean_imagefolder(root: Path) -> Path:
    for cls, base in (("ants", 400), ("bees", 500)):
        for i in range(5):
            write(root / cls / f"{cls}{i}.jpg", encode(noise(base + i)))
    return root


def tree_hashes(root: Path) -> dict[str, tuple[str, int, int]]:
    """Each file's content hash, size and mtime (ns), to prove a run changed nothing."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            out[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_size, stat.st_mtime_ns)
    return out


# --- TFRecords (written with TensorFlow) ---------------------------------------------------------


def tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return tf


def feature(tf, value):
    if isinstance(value, bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
    if isinstance(value, list) and value and isinstance(value[0], float):
        return tf.train.Feature(float_list=tf.train.FloatList(value=value))
    if isinstance(value, float):
        return tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
    if isinstance(value, list):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=value))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def example(tf, features: dict) -> bytes:
    return tf.train.Example(features=tf.train.Features(
        feature={key: feature(tf, value) for key, value in features.items()})).SerializeToString()


def write_records(path: Path, records: list[bytes], compression: str = "") -> Path:
    tf = tensorflow()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path), options=compression or None) as writer:
        for record in records:
            writer.write(record)
    return path


def record_offsets(records: list[bytes]) -> list[int]:
    """The byte offset of each record in an uncompressed file."""
    offsets, offset = [], 0
    for record in records:
        offsets.append(offset)
        offset += 12 + len(record) + 4
    return offsets
