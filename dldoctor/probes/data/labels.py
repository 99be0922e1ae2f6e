"""Facts about detection labels: YOLO `.txt` files beside the images and COCO JSON annotation files.

YOLO: an image's label is found as Ultralytics finds it (the last `/images/` of the path
replaced by `/labels/`, the extension by `.txt`) or beside the image; each line is
`class x_center y_center width height` with coordinates normalised to [0, 1]. The class
count comes from `data.yaml` (`nc:` or `names:`) or `classes.txt` when one is found.
COCO: `images`, `annotations` and `categories`; boxes are `[x, y, width, height]` in pixels.
"""

from __future__ import annotations

import json
import os
import re
from typing import Optional

MAX_LISTED = 20


def yolo_label_path(image_path: str) -> str:
    stem = os.path.splitext(image_path)[0]
    marker = f"{os.sep}images{os.sep}"
    if marker in stem:
        head, _, tail = stem.rpartition(marker)
        return f"{head}{os.sep}labels{os.sep}{tail}.txt"
    return stem + ".txt"


def yolo_class_count(roots: list[str]) -> tuple[Optional[int], Optional[str]]:
    """The number of classes a YOLO dataset declares (data.yaml's nc or names, classes.txt), and where."""
    for root in roots:
        for directory in (root, os.path.dirname(root.rstrip(os.sep))):
            for name in ("data.yaml", "dataset.yaml", "data.yml"):
                path = os.path.join(directory, name)
                if os.path.isfile(path):
                    count = _yaml_class_count(path)
                    if count is not None:
                        return count, path
            path = os.path.join(directory, "classes.txt")
            if os.path.isfile(path):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    return sum(1 for line in handle if line.strip()), path
    return None, None


def _yaml_class_count(path: str) -> Optional[int]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    match = re.search(r"^nc\s*:\s*(\d+)", text, re.MULTILINE)
    if match:
        return int(match.group(1))
    match = re.search(r"^names\s*:\s*\[(.*?)\]", text, re.MULTILINE | re.DOTALL)
    if match:
        return len([part for part in match.group(1).split(",") if part.strip()])
    match = re.search(r"^names\s*:\s*\n((?:[ \t]+.*\n?)+)", text, re.MULTILINE)
    if match:
        return len([line for line in match.group(1).splitlines() if line.strip() and not line.strip().startswith("#")])
    return None


def yolo_facts(image_paths: list[str], label_files: list[str], roots: list[str]) -> Optional[dict]:
    """The YOLO labels of these images (None when no image has a label file)."""
    labels_of = {path: yolo_label_path(path) for path in image_paths}
    existing = set(label_files)
    present = {image: label for image, label in labels_of.items() if label in existing or os.path.isfile(label)}
    if not present:
        return None
    count, count_source = yolo_class_count(roots)
    facts: dict = {"labelled": len(present), "images": len(image_paths), "classes": count, "classes_from": count_source,
                   "unlabelled": sorted(set(image_paths) - set(present)), "bad_lines": [], "bad_line_count": 0,
                   "class_ids": {}, "boxes": 0, "empty_labels": 0}
    claimed = set(present.values())
    label_dirs = {os.path.dirname(label) for label in claimed}
    facts["orphans"] = sorted(label for label in existing if label not in claimed and os.path.dirname(label) in label_dirs
                              and os.path.basename(label) != "classes.txt")
    for image, label in sorted(present.items()):
        try:
            with open(label, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError as error:
            _bad(facts, label, 0, f"unreadable: {error.strerror or error}")
            continue
        if not any(line.strip() for line in lines):
            facts["empty_labels"] += 1
        for number, line in enumerate(lines, start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 5 and (len(parts) < 7 or len(parts) % 2 == 0):  # a box, or a segment polygon
                _bad(facts, label, number, f"{len(parts)} values (a box is `class x y w h`)", line)
                continue
            try:
                class_id = float(parts[0])
                values = [float(part) for part in parts[1:]]
            except ValueError:
                _bad(facts, label, number, "a value is not a number", line)
                continue
            if class_id != int(class_id) or class_id < 0:
                _bad(facts, label, number, f"class id {parts[0]} is not a non-negative integer", line)
                continue
            class_id = int(class_id)
            facts["class_ids"][str(class_id)] = facts["class_ids"].get(str(class_id), 0) + 1
            facts["boxes"] += 1
            if count is not None and class_id >= count:
                _bad(facts, label, number, f"class id {class_id} is out of range: {count_source} declares {count} "
                                           f"classes (0..{count - 1})", line, kind="class-range")
            outside = [v for v in values if not 0.0 <= v <= 1.0]
            if outside:
                _bad(facts, label, number, f"coordinate {outside[0]:g} is outside [0, 1]: YOLO coordinates are "
                                           "fractions of the image size", line, kind="coordinates")
            elif len(values) == 4 and (values[2] <= 0 or values[3] <= 0):
                _bad(facts, label, number, "the box has zero width or height", line, kind="degenerate")
    facts["unlabelled_count"] = len(facts["unlabelled"])
    facts["unlabelled"] = facts["unlabelled"][:MAX_LISTED]
    facts["orphan_count"] = len(facts["orphans"])
    facts["orphans"] = facts["orphans"][:MAX_LISTED]
    return facts


def _bad(facts: dict, path: str, line: int, problem: str, text: str = "", kind: str = "format") -> None:
    facts["bad_line_count"] += 1
    facts.setdefault("bad_kinds", {})
    facts["bad_kinds"][kind] = facts["bad_kinds"].get(kind, 0) + 1
    if len(facts["bad_lines"]) < MAX_LISTED:
        facts["bad_lines"].append({"file": path, "line": line, "problem": problem, "text": text.strip()[:80],
                                   "kind": kind})


def is_coco(document) -> bool:
    return isinstance(document, dict) and isinstance(document.get("images"), list) and \
        isinstance(document.get("annotations"), list)


def coco_facts(path: str, document: dict, decoded_sizes: dict[str, tuple[int, int]]) -> dict:
    """Checks of one COCO annotation file: ids that resolve, boxes inside their image, degenerate boxes; and the
    listed image files that are missing or whose real size differs from the JSON's."""
    base = os.path.dirname(path)
    images = {img.get("id"): img for img in document["images"] if isinstance(img, dict)}
    categories = {cat.get("id") for cat in document.get("categories") or [] if isinstance(cat, dict)}
    problems: dict[str, list] = {"image-id": [], "category-id": [], "outside": [], "degenerate": [], "bbox-format": []}
    counts = {kind: 0 for kind in problems}
    size_mismatch, missing_files, resolved = [], [], 0

    def note(kind, entry):
        counts[kind] += 1
        if len(problems[kind]) < MAX_LISTED:
            problems[kind].append(entry)

    for index, annotation in enumerate(document["annotations"]):
        if not isinstance(annotation, dict):
            continue
        ann_id = annotation.get("id", index)
        image = images.get(annotation.get("image_id"))
        if image is None:
            note("image-id", {"annotation": ann_id, "image_id": annotation.get("image_id")})
        if categories and annotation.get("category_id") not in categories:
            note("category-id", {"annotation": ann_id, "category_id": annotation.get("category_id")})
        box = annotation.get("bbox")
        if box is None:
            continue
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
            note("bbox-format", {"annotation": ann_id, "bbox": box})
            continue
        x, y, w, h = box
        if w <= 0 or h <= 0:
            note("degenerate", {"annotation": ann_id, "bbox": box})
        elif image is not None and isinstance(image.get("width"), (int, float)) and isinstance(image.get("height"), (int, float)):
            tolerance = 1.0  # rounding of float pixel coordinates
            if x < -tolerance or y < -tolerance or x + w > image["width"] + tolerance or y + h > image["height"] + tolerance:
                note("outside", {"annotation": ann_id, "bbox": box, "image": image.get("file_name"),
                                 "image_size": [image["width"], image["height"]]})
    for image in images.values():
        name = image.get("file_name")
        if not isinstance(name, str):
            continue
        candidates = [os.path.join(base, name), os.path.join(base, "images", name),
                      os.path.join(os.path.dirname(base), "images", name), os.path.join(os.path.dirname(base), name)]
        found = next((c for c in map(os.path.normpath, candidates) if c in decoded_sizes), None)
        if found is None:
            if not any(os.path.isfile(c) for c in candidates):
                missing_files.append(name)
            continue
        resolved += 1
        real = decoded_sizes[found]
        if real and (image.get("width"), image.get("height")) != tuple(real):
            size_mismatch.append({"image": name, "json_size": [image.get("width"), image.get("height")],
                                  "real_size": list(real)})
    return {"path": path, "images": len(images), "annotations": len(document["annotations"]),
            "categories": len(categories), "problems": problems, "counts": counts,
            "missing_files": missing_files[:MAX_LISTED], "missing_count": len(missing_files), "resolved_files": resolved,
            "size_mismatch": size_mismatch[:MAX_LISTED], "size_mismatch_count": len(size_mismatch)}


def load_coco(path: str):
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8-sig"))
    except (OSError, ValueError):
        return None
    return document if is_coco(document) else None
