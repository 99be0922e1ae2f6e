"""`dldoctor data` on detection labels: a YOLO data set (images/, labels/, data.yaml) and COCO JSON files,
each broken label named with its file and line; clean labels pass."""

from __future__ import annotations

import json


import datautil
from conftest import run_dldoctor
from dldoctor.probes.data import diagnosis, scan
from verdictutil import assert_valid_report


def _yolo(root, lines_by_stem, extra_labels=(), nc=2):
    for i, stem in enumerate(lines_by_stem):
        datautil.write(root / "images" / "train" / f"{stem}.jpg", datautil.encode(datautil.noise(800 + i)))
        if lines_by_stem[stem] is not None:
            datautil.write(root / "labels" / "train" / f"{stem}.txt", "\n".join(lines_by_stem[stem]).encode() + b"\n")
    for stem in extra_labels:
        datautil.write(root / "labels" / "train" / f"{stem}.txt", b"0 0.5 0.5 0.1 0.1\n")
    datautil.write(root / "data.yaml", f"path: .\ntrain: images/train\nnc: {nc}\nnames: ['cat', 'dog']\n".encode())
    return root


def test_yolo_labels_out_of_range_in_pixels_or_empty_are_named_by_line(tmp_path):
    root = _yolo(tmp_path / "yolo", {
        "good": ["0 0.5 0.5 0.2 0.3", "1 0.1 0.1 0.05 0.05"],
        "bad_class": ["5 0.5 0.5 0.2 0.3"],
        "pixels": ["0 320 240 64 48"],
        "flat": ["1 0.5 0.5 0.0 0.3"],
        "unlabelled": None,
    }, extra_labels=["orphan"])
    run = run_dldoctor("data", "--json", root, cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == 1
    document = run.json()
    assert_valid_report(document, "data")
    labels = next(c for c in document["checks"] if c["id"] == "data.yolo-labels")
    assert labels["status"] == "fail"
    problems = {(line["file"].rsplit("/", 1)[1], line["line"]): line["kind"] for line in labels["evidence"]["bad_lines"]}
    assert problems == {("bad_class.txt", 1): "class-range", ("pixels.txt", 1): "coordinates",
                        ("flat.txt", 1): "degenerate"}
    assert "data.yaml declares 2 classes" in json.dumps(labels["evidence"]) or "2 classes" in labels["title"]
    assert any("Divide x and width by the image width" in fix for fix in labels["fix"])
    pairs = next(c for c in document["checks"] if c["id"] == "data.yolo-pairs")
    assert [p.rsplit("/", 1)[1] for p in pairs["evidence"]["unlabelled"]] == ["unlabelled.jpg"]
    assert [p.rsplit("/", 1)[1] for p in pairs["evidence"]["orphans"]] == ["orphan.txt"]
    # images/ and labels/ are parts of a detection data set, not ImageFolder classes
    assert not [c for c in document["checks"] if c["id"] in ("data.class-counts", "data.empty-class")]


def test_clean_yolo_labels_pass(tmp_path):
    root = _yolo(tmp_path / "yolo", {"a": ["0 0.5 0.5 0.2 0.3"], "b": ["1 0.4 0.6 0.1 0.2"]})
    report = diagnosis.report(scan.collect([str(root)], jobs=1))
    labels = next(c for c in report.checks if c.id == "data.yolo-labels")
    assert labels.status == "ok" and labels.evidence["class_ids"] == {"0": 1, "1": 1}
    assert report.verdict == "ok"


def _coco(root, annotations, images=None):
    for i, (name, size) in enumerate((("a.jpg", (64, 48)), ("b.jpg", (64, 48)))):
        datautil.write(root / "images" / name, datautil.encode(datautil.noise(850 + i, size=size)))
    images = images or [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},
                        {"id": 2, "file_name": "b.jpg", "width": 64, "height": 48}]
    document = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "cat"}]}
    return datautil.write(root / "annotations" / "instances_train.json", json.dumps(document).encode())


def test_coco_ids_that_resolve_to_nothing_and_degenerate_boxes_fail(tmp_path):
    path = _coco(tmp_path / "coco", [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
        {"id": 2, "image_id": 99, "category_id": 1, "bbox": [10, 10, 20, 20]},
        {"id": 3, "image_id": 1, "category_id": 7, "bbox": [10, 10, 20, 20]},
        {"id": 4, "image_id": 2, "category_id": 1, "bbox": [10, 10, 0, 20]},
        {"id": 5, "image_id": 2, "category_id": 1, "bbox": [50, 30, 40, 40]},
    ])
    report = diagnosis.report(scan.collect([str(tmp_path / "coco")], jobs=1))
    check = next(c for c in report.checks if c.id == "data.coco-annotations")
    assert check.status == "fail" and check.subject == str(path)
    assert check.evidence["counts"] == {"image-id": 1, "category-id": 1, "outside": 1, "degenerate": 1,
                                        "bbox-format": 0}
    assert "1 box outside their image" in check.title


def test_coco_sizes_that_differ_from_the_files_warn(tmp_path):
    _coco(tmp_path / "coco", [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}],
          images=[{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480},
                  {"id": 2, "file_name": "b.jpg", "width": 64, "height": 48},
                  {"id": 3, "file_name": "gone.jpg", "width": 64, "height": 48}])
    report = diagnosis.report(scan.collect([str(tmp_path / "coco")], jobs=1))
    check = next(c for c in report.checks if c.id == "data.coco-annotations")
    assert check.status == "warn"
    assert check.evidence["size_mismatch_count"] == 1 and check.evidence["missing_count"] == 1


def test_clean_coco_passes(tmp_path):
    _coco(tmp_path / "coco", [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 64, 48]},
                              {"id": 2, "image_id": 2, "category_id": 1, "bbox": [3.5, 2.25, 10, 10]}])
    report = diagnosis.report(scan.collect([str(tmp_path / "coco")], jobs=1))
    check = next(c for c in report.checks if c.id == "data.coco-annotations")
    assert check.status == "ok" and report.verdict == "ok", check.title
