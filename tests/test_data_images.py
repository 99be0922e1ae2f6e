"""`dldoctor data` on real image folders written with Pillow: each field failure diagnosed by name, a clean
folder passing, nothing ever changed on disk, draft decoding as strict as a full decode, the pool and --sample."""

from __future__ import annotations

import json

import pytest
from PIL import Image

import datautil
from conftest import run_dldoctor
from dldoctor.probes.data import diagnosis, images, scan
from verdictutil import assert_valid_report


@pytest.fixture(scope="session")
def messy(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy") / "pets"
    named = datautil.messy_imagefolder(root)
    before = datautil.tree_hashes(root)
    run = run_dldoctor("data", "--json", root, cwd=root.parent)
    return root, named, before, run


def checks_of(document: dict, check_id: str) -> list[dict]:
    return [c for c in document["checks"] if c["id"] == check_id]


def only(document: dict, check_id: str) -> dict:
    found = checks_of(document, check_id)
    assert len(found) == 1, (check_id, [c["id"] for c in document["checks"]])
    return found[0]


def test_the_messy_folder_fails_with_a_valid_report(messy):
    _, _, _, run = messy
    run.assert_no_traceback()
    assert run.returncode == 1, run.stderr
    document = run.json()
    assert_valid_report(document, "data")
    assert document["verdict"] == "fail"


def test_a_run_changes_no_file(messy):
    root, _, before, _ = messy
    assert datautil.tree_hashes(root) == before


def test_the_truncated_jpeg_is_named_with_the_decoders_error(messy):
    _, named, _, run = messy
    check = only(run.json(), "data.truncated-image")
    assert check["status"] == "fail"
    assert check["evidence"]["files"][0]["path"] == str(named["truncated"])
    assert "image file is truncated" in check["evidence"]["files"][0]["error"]


def test_html_and_empty_files_named_as_jpeg_hold_no_image(messy):
    _, named, _, run = messy
    check = only(run.json(), "data.not-an-image")
    by_path = {f["path"]: f["content"] for f in check["evidence"]["files"]}
    assert by_path == {str(named["html"]): "html", str(named["empty"]): "empty"}
    assert check["status"] == "fail"


def test_a_png_named_jpg_is_a_mismatch_not_a_failure(messy):
    _, named, _, run = messy
    check = only(run.json(), "data.extension-mismatch")
    assert check["status"] == "warn"
    assert check["evidence"]["files"] == [{"path": str(named["png_as_jpg"]), "content": "PNG", "extension": "JPEG"}]


def test_the_1x1_image_is_small_and_not_also_tiny(messy):
    _, named, _, run = messy
    document = run.json()
    small = only(document, "data.small-image")
    assert small["evidence"]["files"] == [{"path": str(named["pixel"]), "size": [1, 1]}]
    assert not checks_of(document, "data.tiny-file")


def test_grayscale_and_cmyk_among_rgb_are_the_odd_ones_out_with_the_fix(messy):
    _, named, _, run = messy
    check = only(run.json(), "data.mixed-modes")
    assert check["evidence"]["modes"]["RGB"] > 10 and check["evidence"]["modes"]["L"] == 1
    assert check["evidence"]["modes"]["CMYK"] == 1
    assert sorted(check["evidence"]["odd"]) == sorted([str(named["gray"]), str(named["cmyk"])])
    assert '.convert("RGB")' in check["fix"][0]


def test_the_exif_rotated_photo_is_listed_with_exif_transpose(messy):
    _, named, _, run = messy
    check = only(run.json(), "data.exif-rotated")
    assert check["evidence"]["files"] == [{"path": str(named["rotated"]), "orientation": 6}]
    assert "ImageOps.exif_transpose" in check["fix"][0]


def test_classes_the_empty_class_the_image_in_two_classes_and_the_stray_file(messy):
    root, named, _, run = messy
    document = run.json()
    counts = only(document, "data.class-counts")
    assert counts["evidence"]["classes"] == {"cats": 17, "dogs": 8, "empty_class": 0}
    empty = only(document, "data.empty-class")
    assert empty["status"] == "fail" and empty["evidence"]["classes"] == ["empty_class"]
    both = only(document, "data.same-image-two-classes")
    assert both["evidence"]["groups"] == [[str(named["dup_cat"]), str(named["dup_dog"])]]
    # Reported once, as a labelling problem, not again as a plain duplicate.
    assert not checks_of(document, "data.duplicate-images")
    stray = only(document, "data.not-image-files")
    assert stray["evidence"]["files"] == [str(named["notes"])]


def test_duplicates_in_one_folder_are_duplicates(tmp_path):
    data = datautil.encode(datautil.noise(7))
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        datautil.write(tmp_path / "flat" / name, data)
    datautil.write(tmp_path / "flat" / "d.jpg", datautil.encode(datautil.noise(8)))
    report = diagnosis.report(scan.collect([str(tmp_path / "flat")], jobs=1))
    check = next(c for c in report.checks if c.id == "data.duplicate-images")
    assert check.evidence["groups"] == [[str(tmp_path / "flat" / n) for n in ("a.jpg", "b.jpg", "c.jpg")]]
    assert not [c for c in report.checks if c.id == "data.class-counts"]  # a flat folder has no classes


def test_a_clean_folder_exits_0(tmp_path):
    root = datautil.clean_imagefolder(tmp_path / "clean")
    run = run_dldoctor("data", root, cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == 0, run.stdout
    assert "verdict: OK" in run.stdout
    assert "10 of 10 images decode" in run.stdout


def test_imbalanced_classes_warn_and_strict_fails(tmp_path):
    root = tmp_path / "imbalanced"
    for i in range(20):
        datautil.write(root / "common" / f"{i}.jpg", datautil.encode(datautil.noise(600 + i, size=(16, 16))))
    datautil.write(root / "rare" / "0.jpg", datautil.encode(datautil.noise(700, size=(16, 16))))
    run = run_dldoctor("data", "--json", root, cwd=tmp_path)
    check = only(run.json(), "data.class-counts")
    assert check["status"] == "warn" and "20×" in check["title"]
    assert run.returncode == 0
    assert run_dldoctor("data", "--strict", root, cwd=tmp_path).returncode == 1


def test_the_same_image_in_train_and_val_is_a_leak(tmp_path):
    root = tmp_path / "splits"
    for split in ("train", "val"):
        for cls in ("a", "b"):
            for i in range(2):
                datautil.write(root / split / cls / f"{i}.jpg",
                               datautil.encode(datautil.noise(hash((split, cls, i)) % 10_000)))
    leaked = datautil.write(root / "val" / "a" / "leaked.jpg", (root / "train" / "b" / "0.jpg").read_bytes())
    report = diagnosis.report(scan.collect([str(root)], jobs=1))
    leak = [c for c in report.checks if c.id == "data.same-image-two-classes" and c.subject == "splits"]
    assert len(leak) == 1 and str(leaked) in leak[0].evidence["groups"][0]
    assert "train, val" in leak[0].title


def test_decompression_bombs_are_reported_not_raised(tmp_path):
    limit = Image.MAX_IMAGE_PIXELS
    datautil.write(tmp_path / "bombs" / "over.png", datautil.png_header_only(limit // 1000 + 1, 1000))
    datautil.write(tmp_path / "bombs" / "refused.png", datautil.png_header_only(limit // 500 + 1, 1000))
    report = diagnosis.report(scan.collect([str(tmp_path / "bombs")], jobs=1))
    check = next(c for c in report.checks if c.id == "data.decompression-bomb")
    assert check.status == "fail"
    assert {f["path"].rsplit("/", 1)[1]: f["level"] for f in check.evidence["files"]} == {
        "over.png": "warning", "refused.png": "error"}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_draft_decoding_finds_every_truncation_a_full_decode_finds(fmt):
    whole = datautil.encode(datautil.noise(900, size=(320, 240)), fmt)
    assert images.decode(whole)["format"] == fmt and "error_kind" not in images.decode(whole)
    for cut in range(64, len(whole), max(1, len(whole) // 40)):
        part = whole[:cut]
        fast, full = images.decode(part, draft=True), images.decode(part, draft=False)
        assert fast.get("error_kind") == full.get("error_kind"), (cut, fast, full)
        assert fast.get("error_kind") in ("truncated", "truncated-end", "corrupt", "unidentified"), (cut, fast)


def test_a_cut_png_says_how_many_bytes_its_last_chunk_misses():
    whole = datautil.encode(datautil.noise(901), "PNG")
    facts = images.decode(whole[:-5])  # into the 12-byte IEND chunk
    assert facts["error_kind"] == "truncated-end" and facts["missing_bytes"] == 5
    assert images.png_missing_bytes(whole) is None


def test_the_pool_and_the_inline_scan_give_the_same_report(messy, monkeypatch):
    root, _, _, run = messy
    monkeypatch.setattr(scan, "INLINE_BELOW", 0)
    pooled = diagnosis.report(scan.collect([str(root)], jobs=2)).to_json()
    inline = diagnosis.report(scan.collect([str(root)], jobs=1)).to_json()
    assert pooled == inline
    assert json.loads(json.dumps(pooled))["checks"] == run.json()["checks"]


def test_sample_decodes_that_many_images(messy):
    root, _, _, _ = messy
    run = run_dldoctor("data", "--json", "--sample", "5", root, cwd=root.parent)
    document = run.json()
    assert document["facts"]["image_files"] == 5 and document["facts"]["sampled_from"] == 25
    assert "a sample of 25" in document["headline"]


def test_a_glob_and_a_list_file_select_images(messy, tmp_path):
    root, named, _, _ = messy
    report = diagnosis.report(scan.collect([str(root / "dogs" / "*.jpg")], jobs=1))
    assert report.checks[0].title == "8 of 8 images decode"
    listing = datautil.write(tmp_path / "list.txt", f"{named['truncated']}\n{root / 'dogs' / 'dog1.jpg'}\n".encode())
    report = diagnosis.report(scan.collect([str(listing)], jobs=1))
    assert [c.id for c in report.checks if c.status == "fail"] == ["data.truncated-image"]


def test_a_missing_path_is_a_usage_error(tmp_path):
    run = run_dldoctor("data", tmp_path / "nowhere", cwd=tmp_path)
    assert run.returncode == 2 and "no such file or directory" in run.stderr
    (tmp_path / "empty").mkdir()
    run = run_dldoctor("data", tmp_path / "empty", cwd=tmp_path)
    assert run.returncode == 2 and "no image, TFRecord or COCO" in run.stderr


def test_bytes_no_decoder_knows_are_corrupt_images(tmp_path):
    import random

    noise_bytes = datautil.write(tmp_path / "bad" / "noise.jpg", random.Random(3).randbytes(4096))
    whole = bytearray(datautil.encode(datautil.noise(5)))
    whole[2:4] = b"\x00\x00"  # the first marker after SOI destroyed
    broken = datautil.write(tmp_path / "bad" / "broken_marker.jpg", bytes(whole))
    datautil.write(tmp_path / "bad" / "fine.jpg", datautil.encode(datautil.noise(6)))
    report = diagnosis.report(scan.collect([str(tmp_path / "bad")], jobs=1))
    check = next(c for c in report.checks if c.id == "data.corrupt-image")
    assert check.status == "fail"
    assert {f["path"] for f in check.evidence["files"]} == {str(noise_bytes), str(broken)}
    assert all(f["error"] for f in check.evidence["files"])
    assert "0x" not in " ".join(f["error"] for f in check.evidence["files"])  # no memory address: stable text


def test_a_tiny_file_among_large_photos_is_listed(tmp_path):
    for i in range(3):
        datautil.write(tmp_path / "photos" / f"big{i}.jpg", datautil.encode(datautil.noise(40 + i, size=(256, 256))))
    tiny = datautil.write(tmp_path / "photos" / "thumb.jpg", datautil.encode(datautil.noise(44, size=(12, 12)),
                                                                             quality=30))
    assert tiny.stat().st_size < 1024
    report = diagnosis.report(scan.collect([str(tmp_path / "photos")], jobs=1))
    check = next(c for c in report.checks if c.id == "data.tiny-file")
    assert check.evidence["files"] == [str(tiny)]
    # The same small file among small files is no odd one out.
    for i in range(3):
        datautil.write(tmp_path / "icons" / f"icon{i}.jpg", datautil.encode(datautil.noise(50 + i, size=(12, 12)),
                                                                            quality=30))
    report = diagnosis.report(scan.collect([str(tmp_path / "icons")], jobs=1))
    assert not [c for c in report.checks if c.id == "data.tiny-file"]


def test_github_annotations_name_the_failures(messy):
    root, named, _, _ = messy
    run = run_dldoctor("data", "--output-format", "github", root, cwd=root.parent)
    assert run.returncode == 1
    assert any(line.startswith("::error ") and "data.truncated-image" in line for line in run.lines)
    assert run.lines[-1].startswith("dldoctor data: verdict: FAIL")
