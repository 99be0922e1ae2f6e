"""Facts -> checks for `dldoctor data`. Pure functions: no I/O, no clock, no environment reads.

The facts are those of scan.collect (images, TFRecords, layouts, labels, the code's
claims); each check is a `dldoctor.verdict.Check` with a catalogue id documented in
checks.py. Lists in the detail are cut to a few entries; the evidence keeps up to
LISTED of each, and the counts are always whole.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from math import gcd
from statistics import median
from typing import Optional

from dldoctor.verdict import FAIL, OK, SKIP, WARN, Check, Location, Report

SHOWN = 5  # entries named in a check's detail
LISTED = 50  # entries kept in its evidence
IMBALANCE = 10  # largest / smallest class
TINY_BYTES = 1024
TINY_RATIO = 20
S_IMAGES, S_LAYOUT, S_RECORDS, S_CODE, S_LABELS = "Images", "Classes", "TFRecords", "Against the code", "Labels"
RGB_LIKE = {"RGB", "YCbCr"}


def _check(id, status, title, detail="", fix=(), evidence=None, subject=None, section=None, location=None) -> Check:
    return Check(id, status, title, detail, list(fix), evidence or {}, location=location, subject=subject,
                 section=section)


def _plural(count: int, word: str, plural: Optional[str] = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _shown(items: list[str], total: Optional[int] = None) -> str:
    total = len(items) if total is None else total
    lines = "\n".join(items[:SHOWN])
    return lines + (f"\n… and {total - SHOWN} more" if total > SHOWN else "")


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1e5 else f"{count / 1e3:.1f} kB"


def report(facts: dict, *, min_side: int = 8) -> Report:
    checks = diagnose(facts, min_side=min_side)
    summary = summarise(facts)
    return Report("data", checks, summary, headline=headline(facts, checks))


def headline(facts: dict, checks: list[Check]) -> str:
    parts = []
    if facts.get("images"):
        sampled = f" (a sample of {facts['sampled_from']})" if facts.get("sampled_from") else ""
        parts.append(_plural(len(facts["images"]), "image") + sampled)
    if facts.get("tfrecords"):
        total = sum(f["records"] for f in facts["tfrecords"])
        parts.append(f"{_plural(total, 'record')} in {_plural(len(facts['tfrecords']), 'TFRecord file')}")
    report = Report("data", checks)
    return (", ".join(parts) + ": " if parts else "") + report.count_text()


def diagnose(facts: dict, *, min_side: int = 8) -> list[Check]:
    out: list[Check] = []
    images = facts.get("images") or []
    if images:
        out += image_checks(images, facts, min_side)
    for layout in facts.get("imagefolder") or []:
        out += layout_checks(layout, images)
    out += split_leak_checks(facts.get("imagefolder") or [], images)
    if facts.get("yolo"):
        out += yolo_checks(facts["yolo"])
    for coco in facts.get("coco") or []:
        out += coco_checks(coco)
    if facts.get("tfrecords"):
        out += tfrecord_checks(facts["tfrecords"], min_side, sampled=facts.get("sample"))
        if facts.get("code") is not None:
            out += code_checks(facts["code"], facts["tfrecords"], sampled=facts.get("sample"))
    elif facts.get("code") is not None:
        out.append(_check("data.example-count", SKIP, "no TFRecords to compare the code with", section=S_CODE))
    return out


# --- images -------------------------------------------------------------------------------------


def image_checks(images: list[dict], facts: dict, min_side: int) -> list[Check]:
    out = []
    decoded = [f for f in images if "width" in f and f.get("error_kind") in (None, "truncated-end") and not f.get("bomb")]
    total_bytes = sum(f.get("bytes", 0) for f in images)
    formats = Counter(f.get("format") or "?" for f in decoded)
    detail = ", ".join(f"{n} {fmt}" for fmt, n in formats.most_common())
    if decoded:
        widths = [f["width"] for f in decoded]
        heights = [f["height"] for f in decoded]
        detail += f"; sizes {min(widths)}×{min(heights)} to {max(widths)}×{max(heights)}; {_megabytes(total_bytes)}"
    sampled = f" (a sample of {facts['sampled_from']} image files)" if facts.get("sampled_from") else ""
    status = OK if decoded else FAIL
    out.append(_check("data.images", status, f"{len(decoded)} of {_plural(len(images), 'image')} decode{sampled}",
                      detail, evidence={"formats": dict(formats), "bytes": total_bytes}, section=S_IMAGES))

    by_kind = defaultdict(list)
    for f in images:
        kind = f.get("error_kind")
        if kind in ("empty",) or (kind in ("unidentified", "corrupt") and f.get("sniffed") in (
                "html", "text", "json", "xml", "svg", "empty")):
            by_kind["not-image"].append(f)
        elif kind in ("truncated", "truncated-end"):
            by_kind["truncated"].append(f)
        elif kind in ("unidentified", "corrupt", "unreadable"):
            by_kind["corrupt"].append(f)
        if f.get("bomb"):
            by_kind["bomb"].append(f)

    truncated = by_kind["truncated"]
    if truncated:
        lines = []
        for f in truncated:
            missing = f" ({f['missing_bytes']} bytes missing)" if f.get("missing_bytes") else ""
            what = f.get("error") or "the pixels decode, but the file ends before its end chunk"
            lines.append(f"{f['path']}: {what}{missing}")
        out.append(_check("data.truncated-image", FAIL, f"{_plural(len(truncated), 'image')} truncated", _shown(lines),
                          ["Download or copy these files again, or remove them (and their labels) from the data set."],
                          {"files": [{k: f.get(k) for k in ("path", "error", "missing_bytes", "bytes")}
                                     for f in truncated[:LISTED]], "count": len(truncated)}, section=S_IMAGES))
    corrupt = by_kind["corrupt"]
    if corrupt:
        lines = [f"{f['path']}: {f.get('error')}" for f in corrupt]
        out.append(_check("data.corrupt-image", FAIL, f"{_plural(len(corrupt), 'image')} the decoder rejects",
                          _shown(lines), ["Replace these files from their source, or remove them (and their labels)."],
                          {"files": [{"path": f["path"], "error": f.get("error")} for f in corrupt[:LISTED]],
                           "count": len(corrupt)}, section=S_IMAGES))
    not_images = by_kind["not-image"]
    if not_images:
        lines = [f"{f['path']}: " + ("empty (0 bytes)" if f.get("error_kind") == "empty" else
                                     f"holds {f.get('sniffed').upper() if f.get('sniffed') in ('html', 'xml', 'svg', 'json') else 'text'}, "
                                     f"{f.get('bytes', 0)} bytes") for f in not_images]
        out.append(_check("data.not-an-image", FAIL, f"{_plural(len(not_images), 'file')} named as images hold no image",
                          _shown(lines), ["Remove these files; re-download them if their source still has the images."],
                          {"files": [{"path": f["path"], "content": f.get("sniffed"), "bytes": f.get("bytes", 0)}
                                     for f in not_images[:LISTED]], "count": len(not_images)}, section=S_IMAGES))
    mismatched = [f for f in decoded if f.get("ext_format") and f.get("format") and
                  f["ext_format"] != f["format"] and not (f["ext_format"] == "PPM" and f["format"] == "PPM")]
    if mismatched:
        lines = [f"{f['path']}: {f['format']} data named as {f['ext_format']}" for f in mismatched]
        out.append(_check("data.extension-mismatch", WARN,
                          f"{_plural(len(mismatched), 'image')} of another format than the extension says",
                          _shown(lines) + "\nPillow and OpenCV read them by content; decoders that trust the name "
                                          "(tf.io.decode_jpeg, JPEG-only pipelines) fail on them.",
                          ["Decode by content (tf.io.decode_image, PIL.Image.open), or re-save each file in the "
                           "format its name says."],
                          {"files": [{"path": f["path"], "content": f["format"], "extension": f["ext_format"]}
                                     for f in mismatched[:LISTED]], "count": len(mismatched)}, section=S_IMAGES))
    sizes = [f["bytes"] for f in decoded if f.get("bytes")]
    typical = median(sizes) if sizes else 0
    tiny = [f for f in decoded if f.get("bytes", 0) < TINY_BYTES and f["bytes"] * TINY_RATIO < typical and
            min(f["width"], f["height"]) >= min_side]  # a small image is its own check
    if tiny:
        lines = [f"{f['path']}: {f['bytes']} bytes, {f['width']}×{f['height']}" for f in tiny]
        out.append(_check("data.tiny-file", WARN, f"{_plural(len(tiny), 'image file')} under 1 kB (the median is "
                                                  f"{_megabytes(int(typical))})", _shown(lines),
                          ["Look at these files; remove placeholders and thumbnails from the data set."],
                          {"files": [f["path"] for f in tiny[:LISTED]], "count": len(tiny)}, section=S_IMAGES))
    small = [f for f in decoded if min(f["width"], f["height"]) < min_side]
    if small:
        lines = [f"{f['path']}: {f['width']}×{f['height']}" for f in small]
        out.append(_check("data.small-image", WARN, f"{_plural(len(small), 'image')} with a side under {min_side} px",
                          _shown(lines), ["Remove them, or filter the data set's index by size."],
                          {"files": [{"path": f["path"], "size": [f["width"], f["height"]]} for f in small[:LISTED]],
                           "count": len(small), "min_side": min_side}, section=S_IMAGES))
    bombs = by_kind["bomb"]
    if bombs:
        refused = [f for f in bombs if f["bomb"] == "error"]
        lines = [f"{f['path']}: " + (f.get("error") or f"{f.get('width')}×{f.get('height')} = {f.get('pixels')} pixels")
                 for f in bombs]
        out.append(_check("data.decompression-bomb", FAIL if refused else WARN,
                          f"{_plural(len(bombs), 'image')} over Pillow's pixel limit (not decoded)", _shown(lines),
                          ["Downscale these files once; raise PIL.Image.MAX_IMAGE_PIXELS only for files you trust."],
                          {"files": [{"path": f["path"], "level": f["bomb"]} for f in bombs[:LISTED]],
                           "count": len(bombs)}, section=S_IMAGES))
    out += mode_checks(decoded, "data.mixed-modes", S_IMAGES)
    rotated = [f for f in decoded if f.get("orientation", 1) not in (1, 0)]
    if rotated:
        lines = [f"{f['path']}: orientation {f['orientation']}" for f in rotated]
        out.append(_check("data.exif-rotated", WARN, f"{_plural(len(rotated), 'photo')} stored rotated (EXIF "
                                                     "orientation ≠ 1); Image.open does not turn them", _shown(lines),
                          ["from PIL import ImageOps; image = ImageOps.exif_transpose(Image.open(path))"],
                          {"files": [{"path": f["path"], "orientation": f["orientation"]} for f in rotated[:LISTED]],
                           "count": len(rotated)}, section=S_IMAGES))
    out += duplicate_checks(images, facts.get("imagefolder") or [])
    return out


def mode_checks(decoded: list[dict], check_id: str, section: str, where=lambda f: f["path"]) -> list[Check]:
    modes = Counter(f["mode"] for f in decoded if f.get("mode"))
    if len(modes) < 2:
        return []
    (common, _), *_ = modes.most_common()
    odd = [f for f in decoded if f.get("mode") and f["mode"] != common]
    counts = ", ".join(f"{n} {mode}" for mode, n in modes.most_common())
    lines = [f"{where(f)}: {f['mode']}" for f in odd]
    target = "RGB" if common in RGB_LIKE or common in ("P", "CMYK", "RGBA") else common
    fix = [f'Convert when loading: Image.open(path).convert("{target}") (torchvision\'s default loader does this '
           f'already; in TensorFlow decode with channels={ {"L": 1, "RGBA": 4}.get(target, 3) })']
    if "I;16" in modes or "I" in modes:
        fix.append("16-bit images (I;16) lose their range in convert(\"RGB\"): scale them to 8 bits first, "
                   "or keep them 16-bit throughout.")
    return [_check(check_id, WARN, f"mixed colour modes: {counts}", "odd ones out:\n" + _shown(lines), fix,
                   {"modes": dict(modes), "odd": [where(f) for f in odd[:LISTED]], "odd_count": len(odd)},
                   section=section)]


def _class_of(path: str, layouts: list[dict]) -> Optional[tuple]:
    for layout in layouts:
        cls = layout["members"].get(path)
        if cls is not None:
            return layout.get("split"), cls
    return None


def duplicate_checks(images: list[dict], layouts: list[dict]) -> list[Check]:
    groups = defaultdict(list)
    for f in images:
        if f.get("hash") and f.get("bytes"):
            groups[f["hash"]].append(f["path"])
    # The same image in two classes (or splits) is a check of its own, with the layout.
    duplicates = [sorted(paths) for paths in groups.values() if len(paths) > 1 and
                  len({_class_of(path, layouts) for path in paths} - {None}) < 2]
    if not duplicates:
        return []
    duplicates.sort()
    extra = sum(len(g) - 1 for g in duplicates)
    lines = [" = ".join(g[:4]) + (f" (+{len(g) - 4})" if len(g) > 4 else "") for g in duplicates]
    return [_check("data.duplicate-images", WARN, f"{_plural(len(duplicates), 'group')} of identical images "
                                                  f"({_plural(extra, 'extra copy', 'extra copies')})",
                   _shown(lines), ["Keep one file of each group."],
                   {"groups": duplicates[:LISTED], "count": len(duplicates)}, section=S_IMAGES)]


def layout_checks(layout: dict, images: list[dict]) -> list[Check]:
    out = []
    split = layout.get("split")
    subject = layout["root"]
    counts = layout["classes"]
    nonempty = {c: n for c, n in counts.items() if n}
    biggest = max(nonempty.values())
    smallest = min(nonempty.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    detail = ", ".join(f"{c} {n}" for c, n in ordered[:12]) + (f", … ({len(ordered)} classes)" if len(ordered) > 12 else "")
    where = f" ({split})" if split else ""
    imbalanced = biggest >= IMBALANCE * smallest
    out.append(_check("data.class-counts", WARN if imbalanced else OK,
                      f"{_plural(len(counts), 'class', 'classes')}{where}" +
                      (f" ({len(counts) - len(nonempty)} empty)" if len(nonempty) < len(counts) else "") +
                      (f": the largest has {biggest / smallest:.0f}× the images of the smallest" if imbalanced else
                       f", {smallest} to {biggest} images each" + (" in the others" if len(nonempty) < len(counts)
                                                                   else "")), detail,
                      ["Weight the loss or sample by class (torch.utils.data.WeightedRandomSampler), or collect more "
                       "of the small classes."] if imbalanced else [],
                      {"classes": counts, "root": layout["root"], "split": split}, subject=subject, section=S_LAYOUT))
    empty = sorted(c for c, n in counts.items() if not n)
    if empty:
        out.append(_check("data.empty-class", FAIL, f"{_plural(len(empty), 'class folder')}{where} without images: "
                                                    f"{', '.join(empty[:SHOWN])}",
                          f"torchvision's ImageFolder raises: FileNotFoundError: Found no valid file for the classes "
                          f"{', '.join(empty)}.",
                          ["Add the images of these classes, or remove the empty folders."],
                          {"classes": empty, "root": layout["root"]}, subject=subject, section=S_LAYOUT))
    by_hash = defaultdict(set)
    path_hash = {f["path"]: f.get("hash") for f in images if f.get("bytes")}
    for path, cls in layout["members"].items():
        if path_hash.get(path):
            by_hash[path_hash[path]].add((cls, path))
    both = sorted(sorted(entries) for entries in by_hash.values() if len({c for c, _ in entries}) > 1)
    if both:
        lines = [" = ".join(f"{p}" for _, p in entries[:4]) for entries in both]
        out.append(_check("data.same-image-two-classes", WARN,
                          f"{_plural(len(both), 'image')}{where} in two or more classes at once", _shown(lines),
                          ["Decide each image's class and keep one copy."],
                          {"groups": [[p for _, p in entries] for entries in both[:LISTED]], "count": len(both)},
                          subject=subject, section=S_LAYOUT))
    if layout["not_images"]:
        out.append(_check("data.not-image-files", WARN,
                          f"{_plural(len(layout['not_images']), 'file')}{where} in class folders that are not images "
                          "(ImageFolder skips them)", _shown(layout["not_images"]),
                          ["Give real images a known extension; move other files out of the class folders."],
                          {"files": layout["not_images"][:LISTED], "count": len(layout["not_images"])},
                          subject=subject, section=S_LAYOUT))
    return out


def split_leak_checks(layouts: list[dict], images: list[dict]) -> list[Check]:
    by_split = [layout for layout in layouts if layout.get("split")]
    if len(by_split) < 2:
        return []
    path_hash = {f["path"]: f.get("hash") for f in images if f.get("bytes")}
    seen = defaultdict(set)
    for layout in by_split:
        for path in layout["members"]:
            if path_hash.get(path):
                seen[path_hash[path]].add((layout["split"], path))
    leaks = sorted(sorted(entries) for entries in seen.values() if len({s for s, _ in entries}) > 1)
    if not leaks:
        return []
    lines = [" = ".join(p for _, p in entries[:4]) for entries in leaks]
    splits = sorted({s for entries in leaks for s, _ in entries})
    return [_check("data.same-image-two-classes", WARN, f"{_plural(len(leaks), 'image')} in two splits "
                                                        f"({', '.join(splits)})", _shown(lines),
                   ["Remove from validation and test what train has: the score on them measures memory."],
                   {"groups": [[p for _, p in entries] for entries in leaks[:LISTED]], "count": len(leaks)},
                   subject="splits", section=S_LAYOUT)]


# --- labels -------------------------------------------------------------------------------------


def yolo_checks(yolo: dict) -> list[Check]:
    out = []
    declared = (f"{yolo['classes']} classes ({yolo['classes_from']})" if yolo.get("classes") is not None else
                "no class count found (data.yaml, classes.txt): class ids not range-checked")
    if yolo["bad_line_count"]:
        lines = [f"{b['file']}:{b['line']}: {b['problem']}" + (f"  [{b['text']}]" if b.get("text") else "")
                 for b in yolo["bad_lines"]]
        kinds = yolo.get("bad_kinds", {})
        fix = []
        if kinds.get("coordinates"):
            fix.append("Divide x and width by the image width, y and height by its height (YOLO wants fractions).")
        if kinds.get("class-range"):
            fix.append("Renumber the classes to 0..nc-1, or declare every class in data.yaml.")
        if kinds.get("format") or kinds.get("degenerate"):
            fix.append("Rewrite the listed lines as `class x_center y_center width height`, with a positive size.")
        out.append(_check("data.yolo-labels", FAIL, f"{_plural(yolo['bad_line_count'], 'bad label line')} in YOLO "
                                                    f"labels; {declared}", _shown(lines, yolo["bad_line_count"]), fix,
                          {"bad_lines": yolo["bad_lines"], "count": yolo["bad_line_count"], "kinds": kinds},
                          location=Location(yolo["bad_lines"][0]["file"], yolo["bad_lines"][0]["line"] or None),
                          section=S_LABELS))
    else:
        ids = sorted(int(k) for k in yolo["class_ids"])
        out.append(_check("data.yolo-labels", OK, f"{_plural(yolo['boxes'], 'box', 'boxes')} in "
                                                  f"{_plural(yolo['labelled'], 'label file')}; {declared}",
                          f"class ids used: {ids[0]}..{ids[-1]}" if ids else "no boxes",
                          evidence={"class_ids": yolo["class_ids"]}, section=S_LABELS))
    if yolo["unlabelled_count"] or yolo["orphan_count"]:
        parts, lines = [], []
        if yolo["unlabelled_count"]:
            parts.append(f"{_plural(yolo['unlabelled_count'], 'image')} without a label file (trained as background)")
            lines += [f"no label: {p}" for p in yolo["unlabelled"]]
        if yolo["orphan_count"]:
            parts.append(f"{_plural(yolo['orphan_count'], 'label file')} without an image")
            lines += [f"no image: {p}" for p in yolo["orphans"]]
        out.append(_check("data.yolo-pairs", WARN, "; ".join(parts), _shown(lines),
                          ["Check that the labels/ folder mirrors images/ (same file stems)."],
                          {"unlabelled": yolo["unlabelled"], "orphans": yolo["orphans"],
                           "unlabelled_count": yolo["unlabelled_count"], "orphan_count": yolo["orphan_count"]},
                          section=S_LABELS))
    return out


def coco_checks(coco: dict) -> list[Check]:
    counts = coco["counts"]
    problems = coco["problems"]
    fails, warns, lines = [], [], []
    for kind, word in (("image-id", "image_id that resolves to no image"),
                       ("category-id", "category_id that resolves to no category"),
                       ("degenerate", "box of zero width or height"), ("bbox-format", "bbox that is not [x, y, w, h]")):
        if counts[kind]:
            fails.append(f"{_plural(counts[kind], 'annotation')} with a {word}")
            lines += [f"annotation {p['annotation']}: {kind} {p.get('image_id', p.get('category_id', p.get('bbox')))}"
                      for p in problems[kind][:SHOWN]]
    if counts["outside"]:
        warns.append(f"{_plural(counts['outside'], 'box', 'boxes')} outside their image")
        lines += [f"annotation {p['annotation']}: bbox {p['bbox']} outside {p['image']} {p['image_size'][0]}×"
                  f"{p['image_size'][1]}" for p in problems["outside"][:SHOWN]]
    if coco.get("missing_count") and coco.get("resolved_files"):
        warns.append(f"{_plural(coco['missing_count'], 'listed image')} not found")
        lines += [f"missing: {name}" for name in coco["missing_files"][:SHOWN]]
    if coco.get("size_mismatch_count"):
        warns.append(f"{_plural(coco['size_mismatch_count'], 'image')} whose real size differs from the JSON's")
        lines += [f"{m['image']}: JSON {m['json_size']}, file {m['real_size']}" for m in coco["size_mismatch"][:SHOWN]]
    status = FAIL if fails else WARN if warns else OK
    title = "; ".join(fails + warns) if fails or warns else (
        f"{_plural(coco['annotations'], 'annotation')} on {_plural(coco['images'], 'image')}, "
        f"{_plural(coco['categories'], 'category', 'categories')}: every id resolves, every box inside its image")
    fix = ["Fix or drop the listed annotations (torchvision's detection models refuse boxes of zero size)."] if status != OK else []
    return [_check("data.coco-annotations", status, title, "\n".join(lines), fix,
                   {k: coco[k] for k in ("images", "annotations", "categories", "counts", "missing_count",
                                         "size_mismatch_count")},
                   subject=coco["path"], location=Location(coco["path"]), section=S_LABELS)]


# --- TFRecords ----------------------------------------------------------------------------------


def tfrecord_checks(files: list[dict], min_side: int, sampled: Optional[int] = None) -> list[Check]:
    out = []
    total = sum(f["records"] for f in files)
    unreadable = [f for f in files if f.get("unreadable")]
    per_file = ", ".join(f"{os.path.basename(f['path'])} {f['records']}" for f in files[:SHOWN]) + (
        f", … ({len(files)} files)" if len(files) > SHOWN else "")
    crc = sorted({f.get("crc") for f in files if f.get("crc")})
    at_least = "at least " if sampled else ""
    out.append(_check("data.tfrecord-count", FAIL if unreadable else OK,
                      f"{at_least}{_plural(total, 'record')} in {_plural(len(files), 'TFRecord file')}" +
                      (f" (the first {sampled} of each file read)" if sampled else ", every CRC checked"),
                      per_file + (f"\nCRC32C: {', '.join(crc)}" if crc and crc != ["crc32c"] else "") +
                      "".join(f"\n{f['path']}: {f['unreadable']}" for f in unreadable),
                      evidence={"total": total, "files": {f["path"]: f["records"] for f in files}},
                      section=S_RECORDS))
    for f in files:
        bad = f.get("bad")
        if not bad:
            continue
        truncated = bad["check"] in ("truncated-tail", "compressed-stream")
        where = f"record {bad['record']} at byte {bad['offset']}" + (
            " of the decompressed stream" if f.get("compression") != "NONE" else "")
        title = (f"{f['path']}: truncated at {where}" if truncated else
                 f"{f['path']}: {'length' if bad['check'] == 'length-crc' else 'data'} CRC fails at {where}")
        more = f"; {f['bad_records']} records fail their data CRC in all" if f.get("bad_records", 0) > 1 else ""
        detail = f"{bad['detail']}{more}. " + (
            f"The framing is intact: {f['records']} records in the file, {f.get('bad_records', 0)} of them bad."
            if bad["check"] == "data-crc" else f"The {bad['record']} records before it are readable.") + (
            f"\nTensorFlow stops there: DataLossError: {bad['tensorflow_says']}" if bad.get("tensorflow_says") else "")
        out.append(_check("data.tfrecord-truncated" if truncated else "data.tfrecord-corrupt", FAIL, title, detail,
                          ["Write this file again from the source data; a writer must be closed before the file is "
                           "copied or read." if truncated else "Write this shard again from the source data."],
                          {**bad, "records": f["records"], "bad_records": f.get("bad_records", 0)},
                          subject=f["path"], location=Location(f["path"]), section=S_RECORDS))
    compressed = [f for f in files if f.get("compression") not in (None, "NONE")]
    if compressed:
        kinds = sorted({f["compression"] for f in compressed})
        how = (f"read with TFRecordDataset(files, compression_type=\"{kinds[0]}\")" if len(kinds) == 1 else
               "give TFRecordDataset each file's own compression_type (listed)")
        out.append(_check("data.tfrecord-compression", OK,
                          f"{_plural(len(compressed), 'file')} {'/'.join(kinds)}-compressed: {how}",
                          _shown([f"{f['path']}: {f['compression']}" for f in compressed]),
                          evidence={"files": {f["path"]: f["compression"] for f in compressed}}, section=S_RECORDS))
    out += schema_checks(files)
    out += repr_checks(files)
    out += record_image_checks(files, min_side)
    return out


def merged_schema(files: list[dict]) -> dict:
    """The schema over all files: per key, kinds, lengths, records having it, byte lengths."""
    merged: dict = {}
    for f in files:
        for key, s in (f.get("schema") or {}).items():
            m = merged.setdefault(key, {"kinds": Counter(), "records": 0, "min_len": None, "max_len": None,
                                        "bytes_min": None, "bytes_max": None, "bytes_gcd": 0, "files": 0})
            m["kinds"].update(s["kinds"])
            m["records"] += s["records"]
            m["files"] += 1
            for name, pick in (("min_len", min), ("max_len", max), ("bytes_min", min), ("bytes_max", max)):
                if s.get(name) is not None:
                    m[name] = s[name] if m[name] is None else pick(m[name], s[name])
            if s.get("bytes_gcd"):
                m["bytes_gcd"] = gcd(m["bytes_gcd"], s["bytes_gcd"])
    return merged


def _examples(files: list[dict]) -> int:
    return sum(f["records"] - f.get("not_examples", 0) - f.get("bad_records", 0) for f in files)


def schema_checks(files: list[dict]) -> list[Check]:
    merged = merged_schema(files)
    examples = _examples(files)
    not_examples = sum(f.get("not_examples", 0) for f in files)
    if not merged:
        if sum(f["records"] for f in files):
            return [_check("data.tfrecord-schema", SKIP, "the records are not tf.train.Example: no schema to show",
                           f"{not_examples} records of another payload", section=S_RECORDS)]
        return []
    lines = []
    for key, m in sorted(merged.items()):
        kinds = "/".join(sorted(k for k in m["kinds"]))
        lengths = f"{m['min_len']}" if m["min_len"] == m["max_len"] else f"{m['min_len']}..{m['max_len']}"
        share = f", in {m['records'] / examples:.0%} of records" if examples and m["records"] != examples else ""
        size = ""
        if m["bytes_min"] is not None:
            size = f", {m['bytes_min']} bytes" if m["bytes_min"] == m["bytes_max"] else \
                f", {m['bytes_min']}..{m['bytes_max']} bytes"
        lines.append(f"{key}: {kinds} ×{lengths}{size}{share}")
    sequences = sum(f.get("sequence_examples", 0) for f in files)
    kind = "SequenceExample" if sequences else "Example"
    evidence = {key: {**m, "kinds": dict(m["kinds"])} for key, m in merged.items()}
    out = [_check("data.tfrecord-schema", OK, f"{_plural(len(merged), 'feature key')} in {examples} tf.train.{kind} "
                                              "records", "\n".join(lines), evidence={"keys": evidence},
                  section=S_RECORDS)]
    drift = []
    for key, m in sorted(merged.items()):
        if examples and m["records"] < examples:
            drift.append(f"{key}: in {m['records']} of {examples} records")
        real_kinds = [k for k in m["kinds"] if k != "empty"]
        if len(real_kinds) > 1:
            drift.append(f"{key}: kinds differ between records: " +
                         ", ".join(f"{k} in {n}" for k, n in sorted(m["kinds"].items())))
    keysets = defaultdict(list)
    for f in files:
        if f.get("schema"):
            keysets[tuple(sorted((k, "/".join(sorted(s["kinds"]))) for k, s in f["schema"].items()))].append(f["path"])
    if len(keysets) > 1:
        (common, _), *_ = sorted(keysets.items(), key=lambda item: -len(item[1]))
        for keys, paths in keysets.items():
            if keys == common:
                continue
            missing = sorted(set(k for k, _ in common) - set(k for k, _ in keys))
            extra = sorted(set(k for k, _ in keys) - set(k for k, _ in common))
            changed = sorted(k for k, kind in keys if k in dict(common) and dict(common)[k] != kind)
            what = "; ".join(p for p in (f"lacks {', '.join(missing)}" if missing else "",
                                         f"adds {', '.join(extra)}" if extra else "",
                                         f"another kind of {', '.join(changed)}" if changed else "") if p)
            drift.append(f"{', '.join(os.path.basename(p) for p in paths[:3])}"
                         f"{' (+%d)' % (len(paths) - 3) if len(paths) > 3 else ''}: {what or 'another schema'}")
    if drift:
        out.append(_check("data.tfrecord-schema-drift", WARN, f"the records do not all have one schema "
                                                             f"({_plural(len(drift), 'difference')})", _shown(drift),
                          ["Regenerate the odd records with the same writer, or give the keys a default_value "
                           "(or parse them with VarLenFeature)."], {"differences": drift[:LISTED]}, section=S_RECORDS))
    return out


def repr_checks(files: list[dict]) -> list[Check]:
    out = []
    per_key = defaultdict(lambda: {"count": 0, "examples": [], "files": 0})
    for f in files:
        for key, s in (f.get("schema") or {}).items():
            if s.get("repr_count"):
                entry = per_key[key]
                entry["count"] += s["repr_count"]
                entry["files"] += 1
                entry["examples"] += [{"file": f["path"], **e} for e in s["repr_examples"]]
    for key, entry in sorted(per_key.items()):
        example = entry["examples"][0]
        out.append(_check("data.repr-bytes", FAIL, f"bytes feature {key!r}: {_plural(entry['count'], 'value')} hold "
                                                   f"Python repr text such as {example['text']}",
                          f"first in {example['file']}, record {example['record']}: the writer stored str(value) of "
                          "a bytes object, so the text carries b'…' around it.",
                          ["Write value.encode() for str and the bytes themselves for bytes, never str(value); then "
                           "regenerate the records."],
                          {"key": key, "count": entry["count"], "examples": entry["examples"][:SHOWN]}, subject=key,
                          section=S_RECORDS))
    return out


def record_image_checks(files: list[dict], min_side: int) -> list[Check]:
    out = []
    per_key: dict = {}
    for f in files:
        for key, s in (f.get("schema") or {}).items():
            summary = s.get("images")
            if not summary:
                continue
            entry = per_key.setdefault(key, {"count": 0, "bad": [], "bad_count": 0, "modes": Counter(), "rotated": 0,
                                             "small": [], "small_count": 0, "formats": Counter()})
            entry["count"] += summary["count"]
            entry["bad_count"] += summary["bad_count"]
            entry["bad"] += [{"file": f["path"], **b} for b in summary["bad"]]
            entry["modes"].update(summary["modes"])
            entry["formats"].update(summary["formats"])
            entry["rotated"] += summary["rotated"]
            entry["small"] += [{"file": f["path"], **b} for b in summary["small"] if min(b["size"]) < min_side]
    for key, e in sorted(per_key.items()):
        problems, lines, status = [], [], OK
        if e["bad_count"]:
            status = FAIL
            problems.append(f"{e['bad_count']} do not decode")
            lines += [f"{b['file']} record {b['record']}: {b['error']}" for b in e["bad"][:SHOWN]]
        if len(e["modes"]) > 1:
            status = status if status == FAIL else WARN
            problems.append("mixed modes " + ", ".join(f"{n} {m}" for m, n in e["modes"].most_common()))
        if e["rotated"]:
            status = status if status == FAIL else WARN
            problems.append(f"{e['rotated']} with EXIF orientation ≠ 1")
        if e["small"]:
            status = status if status == FAIL else WARN
            problems.append(f"{len(e['small'])} with a side under {min_side} px")
            lines += [f"{b['file']} record {b['record']}: {b['size'][0]}×{b['size'][1]}" for b in e["small"][:SHOWN]]
        formats = ", ".join(f"{n} {fmt}" for fmt, n in e["formats"].most_common())
        title = f"encoded images in {key!r}: {e['count']} ({formats})" + (f": {'; '.join(problems)}" if problems else
                                                                         ", all decode")
        fix = []
        if e["bad_count"]:
            fix.append("Regenerate those records from good image files.")
        if len(e["modes"]) > 1:
            fix.append("Decode with a fixed channel count: tf.io.decode_image(x, channels=3) (or .convert(\"RGB\")).")
        if e["rotated"]:
            fix.append("Apply ImageOps.exif_transpose before encoding the records.")
        out.append(_check("data.record-images", status, title, "\n".join(lines), fix,
                          {"key": key, "count": e["count"], "bad": e["bad"][:LISTED], "bad_count": e["bad_count"],
                           "modes": dict(e["modes"]), "rotated": e["rotated"]}, subject=key, section=S_RECORDS))
    return out


# --- against the code ---------------------------------------------------------------------------


def _split_of_files(files: list[dict]) -> Optional[str]:
    from dldoctor.probes.data.against_code import SPLIT_WORDS

    splits = set()
    for f in files:
        words = re.split(r"[^a-z]+", os.path.basename(f["path"]).lower())
        found = {SPLIT_WORDS[w] for w in words if w in SPLIT_WORDS}
        splits |= found or {None}
    return splits.pop() if len(splits) == 1 else None


def code_checks(code: dict, files: list[dict], sampled: Optional[int] = None) -> list[Check]:
    out = []
    total = sum(f["records"] for f in files)
    split = _split_of_files(files)
    counts = code.get("counts") or []
    if sampled:
        out.append(_check("data.example-count", SKIP, "--sample reads part of each file: the true count is unknown",
                          section=S_CODE))
    elif counts:
        matching = [c for c in counts if c["value"] == total]
        relevant = [c for c in counts if split is None or c.get("split") in (None, split)]
        if matching:
            c = matching[0]
            out.append(_check("data.example-count", OK, f"{c['name']} = {c['value']} matches the {total} records",
                              evidence=c, location=Location(c["file"], c["line"]), section=S_CODE))
        else:
            for c in relevant:
                ratio = c["value"] / total if total else float("inf")
                how = f"{ratio:.1f}× the records" if total and ratio >= 1 else f"{ratio:.0%} of the records" if total else ""
                out.append(_check("data.example-count", WARN,
                                  f"{c['name']} = {c['value']}, but the records hold {total}" + (f" ({how})" if how else ""),
                                  f"{c['file']}:{c['line']}: steps per epoch, learning-rate decay and epoch-based "
                                  "evaluation are computed from it.",
                                  [f"Set {c['name']} = {total} (the count of {_plural(len(files), 'file')} read here)."],
                                  {**c, "records": total, "split": split}, subject=f"{c['file']}:{c['line']}",
                                  location=Location(c["file"], c["line"]), section=S_CODE))
    merged = merged_schema(files)
    examples = _examples(files)
    for spec in code.get("specs") or []:
        out.append(_spec_check(spec, merged, examples))
    for decode in code.get("raw_decodes") or []:
        out.append(_raw_check(decode, merged))
    if not counts and not code.get("specs") and not code.get("raw_decodes"):
        out.append(_check("data.parse-spec", SKIP, f"no example count or parse spec found in {code['path']} "
                                                   f"({_plural(code.get('files', 0), 'Python file')})", section=S_CODE))
    return out


TF_KIND = {"bytes": "string", "float": "float", "int64": "int64"}
# TensorFlow's own names of dtypes in its error messages (DataTypeString).
TF_DTYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _first_misfit(m: dict, size: int) -> int:
    """A byte length of the key that is not a multiple of `size`: the smallest or the largest when one is (else
    only the gcd of the lengths shows that some record's length is not)."""
    return m["bytes_min"] if m["bytes_min"] % size else m["bytes_max"] if m["bytes_max"] % size else None


def _spec_check(spec: dict, merged: dict, examples: int) -> Check:
    key, where = spec["key"], Location(spec["file"], spec["line"])
    code_text = f"{spec['call']}({spec.get('shape')!s}, tf.{spec.get('dtype')})" if spec["call"] != "VarLenFeature" \
        else f"VarLenFeature(tf.{spec.get('dtype')})"
    subject = f"{key} ({spec['file']}:{spec['line']})"
    m = merged.get(key)
    if m is None:
        if spec["call"] == "VarLenFeature" or spec.get("has_default"):
            return _check("data.parse-spec", OK, f"{key!r}: no record has it; the spec's default is used",
                          location=where, subject=subject, section=S_CODE)
        known = ", ".join(sorted(merged)[:8])
        return _check("data.parse-spec", FAIL, f"{key!r} is parsed at line {spec['line']}, but no record has it",
                      f"{spec['file']}:{spec['line']}: {code_text}; the records hold: {known}.\n"
                      f"TensorFlow raises: Feature: {key} (data type: {spec.get('dtype')}) is required but could not "
                      "be found.", [f"Parse a key the records hold (the records have: {known})."],
                      {"spec": spec, "record_keys": sorted(merged)}, subject=subject, location=where, section=S_CODE)
    kinds = [k for k in m["kinds"] if k != "empty"]
    expected = {"string": "bytes", "int64": "int64", "float32": "float", "float": "float"}.get(spec.get("dtype") or "")
    if expected and kinds and expected not in kinds:
        written = kinds[0]
        return _check("data.parse-spec", FAIL, f"{key!r} is parsed as tf.{spec['dtype']}, but the records hold "
                                               f"{written}", f"{spec['file']}:{spec['line']}: {code_text}.\nTensorFlow "
                      f"raises: Key: {key}.  Data types don't match. Data type: {TF_KIND[written]} but expected type: "
                      f"{spec['dtype'] if spec['dtype'] != 'float32' else 'float'}",
                      [f"Parse it as tf.{ {'bytes': 'string', 'float': 'float32', 'int64': 'int64'}[written] }."],
                      {"spec": spec, "kinds": dict(m["kinds"])}, subject=subject, location=where, section=S_CODE)
    shape = spec.get("shape")
    if spec["call"] == "FixedLenFeature" and shape is not None:
        size = 1
        for dim in shape:
            size *= dim
        if m["min_len"] != size or m["max_len"] != size:
            lengths = f"{m['min_len']}" if m["min_len"] == m["max_len"] else f"{m['min_len']} to {m['max_len']}"
            return _check("data.parse-spec", FAIL, f"{key!r} is parsed as {size} value{'s' if size != 1 else ''} "
                                                   f"(shape {shape}), but the records hold {lengths}",
                          f"{spec['file']}:{spec['line']}: {code_text}.\nTensorFlow raises: Key: {key}.  Can't parse "
                          "serialized Example",
                          [f"Use FixedLenFeature([{m['min_len']}], ...)" if m["min_len"] == m["max_len"] else
                           "Use VarLenFeature (the lengths vary) or FixedLenSequenceFeature([], ..., "
                           "allow_missing=True)."],
                          {"spec": spec, "min_len": m["min_len"], "max_len": m["max_len"]}, subject=subject,
                          location=where, section=S_CODE)
    if m["records"] < examples and spec["call"] == "FixedLenFeature" and not spec.get("has_default"):
        return _check("data.parse-spec", FAIL, f"{key!r} is required at line {spec['line']}, but "
                                               f"{examples - m['records']} of {examples} records lack it",
                      f"{spec['file']}:{spec['line']}: {code_text}.\nTensorFlow raises: Feature: {key} (data type: "
                      f"{spec.get('dtype')}) is required but could not be found.",
                      ["Give it a default_value, or regenerate the records that lack it."],
                      {"spec": spec, "records": m["records"], "examples": examples}, subject=subject, location=where,
                      section=S_CODE)
    return _check("data.parse-spec", OK, f"{key!r}: {code_text} matches the records", location=where, subject=subject,
                  evidence={"spec": spec}, section=S_CODE)


def _raw_check(decode: dict, merged: dict) -> Check:
    key, where = decode["key"], Location(decode["file"], decode["line"])
    subject = f"{key} ({decode['file']}:{decode['line']})"
    m = merged.get(key)
    if m is None or m.get("bytes_min") is None:
        return _check("data.decode-raw", SKIP, f"decode_raw of {key!r}: the records hold no bytes under that key",
                      location=where, subject=subject, section=S_CODE)
    size, dtype = decode["size"], decode["dtype"]
    if m["bytes_gcd"] % size:
        fitting = [name for name, s in (("uint8", 1), ("float16", 2), ("float32", 4), ("float64", 8)) if m["bytes_gcd"] % s == 0]
        return _check("data.decode-raw", FAIL, f"decode_raw({key!r}, tf.{dtype}): the byte lengths are not multiples "
                                               f"of {size}", f"{decode['file']}:{decode['line']}: the records hold "
                      f"{m['bytes_min']}..{m['bytes_max']} bytes (gcd {m['bytes_gcd']}).\nTensorFlow raises: Input to "
                      f"DecodeRaw has length {_first_misfit(m, size) or 'N'} that is not a multiple of {size}, the "
                      f"size of {TF_DTYPE_NAMES.get(dtype, dtype)}",
                      [f"Decode with the dtype the array had when written (these lengths fit {', '.join(fitting)})."],
                      {"decode": decode, "bytes_min": m["bytes_min"], "bytes_max": m["bytes_max"],
                       "bytes_gcd": m["bytes_gcd"]}, subject=subject, location=where, section=S_CODE)
    elements = f"{m['bytes_min'] // size}" if m["bytes_min"] == m["bytes_max"] else \
        f"{m['bytes_min'] // size} to {m['bytes_max'] // size}"
    if m["bytes_min"] != m["bytes_max"]:
        return _check("data.decode-raw", WARN, f"decode_raw({key!r}, tf.{dtype}): {elements} elements per record "
                                               "(the lengths vary)",
                      f"{decode['file']}:{decode['line']}: a fixed reshape after it fails on the records of another "
                      "length.", ["Reshape with the record's own shape (store it as a feature), or write fixed-size "
                                  "arrays."], {"decode": decode, "bytes_min": m["bytes_min"], "bytes_max": m["bytes_max"]},
                      subject=subject, location=where, section=S_CODE)
    return _check("data.decode-raw", OK, f"decode_raw({key!r}, tf.{dtype}): {elements} elements per record",
                  f"{decode['file']}:{decode['line']}: a reshape after it must ask for {elements} elements; if the "
                  "array was written as another dtype of the same total size, the values are garbage — check the "
                  "writer's dtype.",
                  evidence={"decode": decode, "bytes": m["bytes_min"]}, location=where, subject=subject, section=S_CODE)


# --- the JSON facts -----------------------------------------------------------------------------


def summarise(facts: dict) -> dict:
    """The facts kept in the JSON report: per-image facts only for images with something to say, plus totals."""
    images = facts.get("images") or []

    def notable(f):
        return f.get("error_kind") or f.get("bomb") or f.get("orientation", 1) not in (1, 0)

    return {
        "inputs": facts.get("inputs"),
        "image_files": len(images), "image_files_found": facts.get("image_files_found"),
        "sampled_from": facts.get("sampled_from"),
        "modes": dict(Counter(f["mode"] for f in images if f.get("mode"))),
        "notable_images": [f for f in images if notable(f)][:1000],
        "imagefolder": [{k: v for k, v in layout.items() if k != "members"} for layout in facts.get("imagefolder") or []],
        "yolo": facts.get("yolo"), "coco": facts.get("coco"),
        "tfrecords": facts.get("tfrecords"), "code": facts.get("code"),
    }
