"""Collecting the facts of a data set: which files are what, then each file scanned (in a process pool, on a Dask
cluster, or in this process), then the layouts (ImageFolder classes, YOLO and COCO labels) and the code's claims.

Everything returned is plain data in a deterministic order (sorted by path), so the
same files give the same facts whichever way the work was spread.
"""

from __future__ import annotations

import glob
import os
import random
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

from dldoctor.probes.data import images, labels, tfrecords

CHUNK = 32  # files per task: large enough to amortise a task, small enough to balance the workers
INLINE_BELOW = 48  # fewer image files than this are decoded in this process (a pool costs more to start)
LABEL_EXTENSIONS = (".txt",)
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
TEXT_EXTENSIONS = {".txt", ".json", ".yaml", ".yml", ".csv", ".py", ".md", ".xml", ".lst", ".cfg", ".ini", ".sh",
                   ".names", ".log"}
# Directories that are parts of a detection or segmentation data set, never ImageFolder classes.
NOT_CLASS_DIRS = {"images", "labels", "masks", "annotations", "annots", "gt", "groundtruth", "depth", "jpegimages",
                  "imagesets", "segmentationclass", "segmentationobject", "anno", "ann", "labels_txt"}
NESTING, MAX_NESTED = 2, 50  # how deep under a named folder, and into how many sub-folders, classes are looked for
SPLIT_DIRS = {"train", "training", "val", "valid", "validation", "test", "testing", "dev", "eval"}


class UsageError(Exception):
    """An input the user named that cannot be read (exit 2)."""


def _is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _extension(path: str) -> str:
    base = os.path.basename(path).lower()
    if base.endswith(".gz"):
        base = base[:-3]
    return os.path.splitext(base)[1]


def _looks_like_tfrecord_name(path: str) -> bool:
    base = os.path.basename(path).lower()
    return _extension(path) in tfrecords.TFRECORD_EXTENSIONS or "tfrecord" in base


class Inventory:
    def __init__(self):
        self.images: list[str] = []
        self.tfrecords: list[str] = []
        self.json_files: list[str] = []
        self.label_files: list[str] = []
        self.others: list[str] = []
        self.roots: list[str] = []

    def add_file(self, path: str, sniff: bool = True) -> None:
        ext = _extension(path)
        if os.path.basename(path).lower() in IGNORED_NAMES:
            return
        if images.extension_format(path):
            self.images.append(path)
        elif _looks_like_tfrecord_name(path):
            self.tfrecords.append(path)
        elif ext == ".json":
            self.json_files.append(path)
        elif ext in LABEL_EXTENSIONS:
            self.label_files.append(path)
        elif sniff and not _is_url(path) and ext not in TEXT_EXTENSIONS and _has_tfrecord_header(path):
            self.tfrecords.append(path)  # `train-00000-of-01024`: TFRecord shards are often named without extension
        else:
            self.others.append(path)

    def finish(self) -> None:
        for name in ("images", "tfrecords", "json_files", "label_files", "others"):
            setattr(self, name, sorted(set(getattr(self, name))))


def _has_tfrecord_header(path: str) -> bool:
    """Whether the file starts with a TFRecord header, plain or inside a GZIP or ZLIB stream."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 12)
    except OSError:
        return False
    if tfrecords.is_tfrecord(head):
        return True
    kind = tfrecords.compression(head)
    if kind == "NONE":
        return False
    try:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS if kind == "GZIP" else zlib.MAX_WBITS)
        return tfrecords.is_tfrecord(inflate.decompress(head, 12))
    except zlib.error:
        return False


def _list_file(path: str) -> Optional[list[str]]:
    """The paths a list file names (one a line, relative to the list's folder), when its lines are files."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    except OSError:
        return None
    if not lines:
        return None
    base = os.path.dirname(path)
    resolved = [line.split()[0] if not os.path.exists(line) else line for line in lines]
    resolved = [p if os.path.isabs(p) or _is_url(p) else os.path.normpath(os.path.join(base, p)) for p in resolved]
    head = resolved[:20]
    if sum(1 for p in head if images.extension_format(p) or _looks_like_tfrecord_name(p)) < max(1, len(head) // 2):
        return None
    return resolved


def discover(inputs: list[str]) -> Inventory:
    inventory = Inventory()
    for raw in inputs:
        if _is_url(raw):
            _discover_url(raw, inventory)
            continue
        path = raw[7:] if raw.startswith("file://") else raw
        if os.path.isdir(path):
            inventory.roots.append(os.path.normpath(path))
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if not name.startswith("."):
                        inventory.add_file(os.path.normpath(os.path.join(root, name)))
        elif os.path.isfile(path):
            listed = _list_file(path) if _extension(path) in (".txt", ".lst", ".list") else None
            if listed is not None:
                for item in listed:
                    inventory.add_file(item, sniff=False)
            else:
                inventory.add_file(os.path.normpath(path))
        elif any(c in path for c in "*?["):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise UsageError(f"{raw}: the pattern matches no file")
            for match in matches:
                if os.path.isfile(match):
                    inventory.add_file(os.path.normpath(match))
        else:
            raise UsageError(f"{raw}: no such file or directory")
    inventory.finish()
    return inventory


def _discover_url(url: str, inventory: Inventory) -> None:
    import fsspec

    fs, _, paths = fsspec.get_fs_token_paths(url)
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    found = []
    for path in paths:
        found += fs.find(path) if fs.isdir(path) else [path]
    if not found:
        raise UsageError(f"{url}: no such file or directory")
    for path in found:
        inventory.add_file(path if "://" in path else f"{protocol}://{path.lstrip('/')}" if protocol != "file" else path,
                           sniff=False)


def _chunks(items: list, size: int = CHUNK) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _scan_tfrecord_task(path: str, decode_images: bool, max_records: Optional[int]) -> dict:
    return tfrecords.scan(path, decode_images=decode_images, max_records=max_records)


class Progress:
    """A progress bar on a terminal (stderr), nothing elsewhere."""

    def __init__(self, total: int, enabled: bool):
        self._bar = None
        if enabled and total and hasattr(sys.stderr, "isatty") and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(console=Console(file=sys.stderr), transient=True)
            self._task = self._bar.add_task("scanning", total=total)
            self._bar.start()

    def advance(self, amount: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def run_tasks(image_chunks: list[list[str]], tfrecord_files: list[str], *, jobs: int, scheduler: Optional[str],
              decode_images: bool, max_records: Optional[int], progress: bool) -> tuple[list[dict], list[dict]]:
    """The facts of every image chunk and TFRecord file, each in input order."""
    total = sum(len(c) for c in image_chunks) + len(tfrecord_files)
    bar = Progress(total, progress)
    try:
        if scheduler:
            return _run_dask(scheduler, image_chunks, tfrecord_files, decode_images, max_records, bar)
        files = sum(len(c) for c in image_chunks)
        if jobs > 1 and (files >= INLINE_BELOW or len(tfrecord_files) > 1):
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                image_futures = [pool.submit(images.scan_files, chunk) for chunk in image_chunks]
                record_futures = [pool.submit(_scan_tfrecord_task, path, decode_images, max_records)
                                  for path in tfrecord_files]
                image_out = []
                for future, chunk in zip(image_futures, image_chunks):
                    image_out += future.result()
                    bar.advance(len(chunk))
                record_out = []
                for future in record_futures:
                    record_out.append(future.result())
                    bar.advance(1)
                return image_out, record_out
        image_out = []
        for chunk in image_chunks:
            image_out += images.scan_files(chunk)
            bar.advance(len(chunk))
        record_out = []
        for path in tfrecord_files:
            record_out.append(_scan_tfrecord_task(path, decode_images, max_records))
            bar.advance(1)
        return image_out, record_out
    finally:
        bar.close()


def _run_dask(address: str, image_chunks, tfrecord_files, decode_images, max_records, bar) -> tuple[list, list]:
    """The same tasks on an existing Dask distributed cluster: one per chunk of images, one per TFRecord shard."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask distributed: pip install 'dldoctor[data]'")
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise UsageError(f"--scheduler {address}: cannot connect: {error}")
    try:
        image_futures = client.map(images.scan_files, image_chunks, pure=False)
        record_futures = client.map(_scan_tfrecord_task, tfrecord_files, [decode_images] * len(tfrecord_files),
                                    [max_records] * len(tfrecord_files), pure=False)
        image_out = []
        for chunk_facts in client.gather(image_futures):
            image_out += chunk_facts
            bar.advance(len(chunk_facts))
        record_out = client.gather(record_futures)
        bar.advance(len(record_out))
        return image_out, list(record_out)
    finally:
        client.close()


# --- layouts ------------------------------------------------------------------------------------


def imagefolder_layouts(roots: list[str], image_paths: list[str], others: list[str]) -> list[dict]:
    """The ImageFolder layouts (class sub-folders) under the given directories: per split, each class's images."""
    out = []
    for root in roots:
        out += _find_layouts(root, image_paths, others, NESTING)
    return out


def _find_layouts(directory: str, image_paths: list[str], others: list[str], depth: int) -> list[dict]:
    """The ImageFolder layouts at `directory`, else in the sub-folders that hold images (`data/pets/cats/...`)."""
    found = []
    for split, class_root in _class_roots(directory):
        layout = _layout(class_root, image_paths, others)
        if layout is not None:
            layout["split"] = split
            found.append(layout)
    if found or depth == 0:
        return found
    prefix = directory.rstrip(os.sep) + os.sep
    holding = sorted({path[len(prefix):].split(os.sep, 1)[0] for path in image_paths
                      if path.startswith(prefix) and os.sep in path[len(prefix):]})
    for child in holding[:MAX_NESTED]:
        found += _find_layouts(os.path.join(directory, child), image_paths, others, depth - 1)
    return found


def _subdirs(path: str) -> list[str]:
    try:
        return sorted(name for name in os.listdir(path) if not name.startswith(".") and
                      os.path.isdir(os.path.join(path, name)))
    except OSError:
        return []


def _class_roots(root: str) -> list[tuple[Optional[str], str]]:
    children = _subdirs(root)
    splits = [c for c in children if c.lower() in SPLIT_DIRS]
    if splits and len(splits) == len(children):
        return [(split, os.path.join(root, split)) for split in splits]
    return [(None, root)]


def _layout(class_root: str, image_paths: list[str], others: list[str]) -> Optional[dict]:
    classes = _subdirs(class_root)
    if len(classes) < 2 or any(c.lower() in NOT_CLASS_DIRS for c in classes):
        return None
    prefix = class_root.rstrip(os.sep) + os.sep
    counts = {c: 0 for c in classes}
    members: dict[str, str] = {}
    direct_images = 0
    for path in image_paths:
        if not path.startswith(prefix):
            continue
        head = path[len(prefix):].split(os.sep, 1)
        if len(head) == 1:
            direct_images += 1
        elif head[0] in counts:
            counts[head[0]] += 1
            members[path] = head[0]
    if direct_images or sum(1 for n in counts.values() if n) < 2:
        return None
    not_images = sorted(p for p in others if p.startswith(prefix) and len(p[len(prefix):].split(os.sep)) > 1)
    return {"root": class_root, "classes": counts, "members": members, "not_images": not_images}


def collect(inputs: list[str], *, sample: Optional[int] = None, jobs: int = 0, scheduler: Optional[str] = None,
            code: Optional[str] = None, decode_record_images: bool = True, progress: bool = False) -> dict:
    """All the facts of one `dldoctor data` run."""
    inventory = discover(inputs)
    image_paths = inventory.images
    sampled = None
    if sample is not None and sample < len(image_paths):
        sampled = len(image_paths)
        image_paths = sorted(random.Random(0).sample(image_paths, sample))
    jobs = jobs or os.cpu_count() or 1
    image_facts, record_facts = run_tasks(_chunks(image_paths), inventory.tfrecords, jobs=jobs, scheduler=scheduler,
                                          decode_images=decode_record_images, max_records=sample, progress=progress)
    image_facts.sort(key=lambda f: f["path"])
    record_facts.sort(key=lambda f: f["path"])
    facts: dict = {"inputs": list(inputs), "images": image_facts, "tfrecords": record_facts,
                   "image_files_found": len(inventory.images), "sampled_from": sampled, "sample": sample,
                   "other_files": len(inventory.others)}
    local_roots = [r for r in inventory.roots if not _is_url(r)]
    facts["imagefolder"] = imagefolder_layouts(local_roots, image_paths,
                                               inventory.others + inventory.label_files + inventory.json_files)
    facts["yolo"] = labels.yolo_facts(image_paths, inventory.label_files, local_roots) if image_paths else None
    sizes = {f["path"]: (f["width"], f["height"]) for f in image_facts if "width" in f}
    facts["coco"] = []
    for path in inventory.json_files:
        document = labels.load_coco(path)
        if document is not None:
            facts["coco"].append(labels.coco_facts(path, document, sizes))
    if code:
        from dldoctor.probes.data import against_code

        facts["code"] = against_code.code_facts(code)
    return facts
