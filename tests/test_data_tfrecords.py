"""`dldoctor data` on real TFRecords written with TensorFlow: counts, CRCs (the first bad record at the offset
TensorFlow itself reports), truncated tails, GZIP and ZLIB, the schema and its drift, `b'...'` text, encoded
images inside records, SequenceExamples, and no TensorFlow import while scanning."""

from __future__ import annotations

import os

import pytest

import datautil
from conftest import run_dldoctor, run_reporting_imports
from dldoctor.probes.data import diagnosis, scan, tfrecords
from verdictutil import assert_valid_report

RECORDS = 200


def _records(tf, count=RECORDS, gray_at=None, broken_image_at=None, repr_caption=False):
    out = []
    for i in range(count):
        mode = "L" if i == gray_at else "RGB"
        jpeg = datautil.encode(datautil.noise(i, size=(24, 16), mode=mode))
        if i == broken_image_at:
            jpeg = jpeg[:-40]  # cut inside the entropy-coded data
        caption = str(f"a photo {i}".encode()).encode() if repr_caption else f"a photo {i}".encode()
        out.append(datautil.example(tf, {"image/encoded": jpeg, "label": i % 10, "caption": caption,
                                         "bbox": [0.1, 0.2, 0.3, 0.4]}))
    return out


@pytest.fixture(scope="session")
def shards(tmp_path_factory):
    tf = datautil.tensorflow()
    root = tmp_path_factory.mktemp("records")
    records = _records(tf)
    made = {"records": records, "tf": tf, "root": root}
    made["clean"] = datautil.write_records(root / "clean" / "train-00000-of-00001", records)
    made["gzip"] = datautil.write_records(root / "gzip" / "train.tfrecord.gz", records, "GZIP")
    made["zlib"] = datautil.write_records(root / "zlib" / "train.tfrecord", records, "ZLIB")
    whole = made["clean"].read_bytes()
    offsets = datautil.record_offsets(records)
    made["offsets"] = offsets
    flipped = bytearray(whole)
    flipped[offsets[57] + 12 + 30] ^= 0xFF  # a byte of record 57's data
    made["flipped"] = datautil.write(root / "bad" / "flipped.tfrecord", bytes(flipped))
    length = bytearray(whole)
    length[offsets[120] + 3] ^= 0x01  # record 120's length field
    made["length"] = datautil.write(root / "bad" / "length.tfrecord", bytes(length))
    made["cut"] = datautil.write(root / "bad" / "cut.tfrecord", whole[:-100])
    gz = made["gzip"].read_bytes()
    made["cut_gzip"] = datautil.write(root / "bad" / "cut.tfrecord.gz", gz[:-50])
    made["repr"] = datautil.write_records(root / "repr" / "captions.tfrecord", _records(tf, 20, repr_caption=True))
    made["images"] = datautil.write_records(root / "images" / "imgs.tfrecord",
                                            _records(tf, 30, gray_at=4, broken_image_at=9))
    drift = [datautil.example(tf, {"image/encoded": b"\xff\xd8", "label": 1.5}) for _ in range(10)]
    made["drift"] = datautil.write_records(root / "drift" / "train-00001.tfrecord", drift)
    datautil.write_records(root / "drift" / "train-00000.tfrecord", records[:10])
    return made


def scan_of(path) -> dict:
    return tfrecords.scan(str(path))


def _tf_failure(tf, path, **options):
    """What TensorFlow's own reader says of a file: (records read, error text or None)."""
    count = 0
    try:
        for _ in tf.data.TFRecordDataset(str(path), **options):
            count += 1
    except Exception as error:  # DataLossError
        return count, str(error)
    return count, None


def test_a_clean_shard_without_an_extension_is_found_counted_and_summarised(shards):
    run = run_dldoctor("data", "--json", shards["clean"].parent, cwd=shards["root"])
    run.assert_no_traceback()
    assert run.returncode == 0, run.stdout
    document = run.json()
    assert_valid_report(document, "data")
    count = next(c for c in document["checks"] if c["id"] == "data.tfrecord-count")
    assert count["evidence"]["total"] == RECORDS and "every CRC checked" in count["title"]
    schema = next(c for c in document["checks"] if c["id"] == "data.tfrecord-schema")["evidence"]["keys"]
    assert {key: s["kinds"] for key, s in schema.items()} == {
        "bbox": {"float": RECORDS}, "caption": {"bytes": RECORDS}, "image/encoded": {"bytes": RECORDS},
        "label": {"int64": RECORDS}}
    assert schema["bbox"]["min_len"] == schema["bbox"]["max_len"] == 4
    images = next(c for c in document["checks"] if c["id"] == "data.record-images")
    assert images["status"] == "ok" and images["evidence"]["count"] == RECORDS


def test_a_flipped_data_byte_is_the_record_and_offset_tensorflow_reports(shards):
    facts = scan_of(shards["flipped"])
    assert facts["bad"]["check"] == "data-crc" and facts["bad"]["record"] == 57
    assert facts["bad"]["offset"] == shards["offsets"][57]
    assert facts["records"] == RECORDS and facts["bad_records"] == 1  # the framing is intact: the rest is read
    read, error = _tf_failure(shards["tf"], shards["flipped"])
    # TensorFlow names the offset of the record's data, 12 bytes after its header.
    assert read == 57 and f"corrupted record at {shards['offsets'][57] + 12} " in error
    assert facts["bad"]["tensorflow_says"] == f"corrupted record at {shards['offsets'][57] + 12}"


def test_a_flipped_length_byte_fails_the_length_crc_and_stops(shards):
    facts = scan_of(shards["length"])
    assert facts["bad"]["check"] == "length-crc" and facts["bad"]["record"] == 120
    assert facts["records"] == 120
    read, error = _tf_failure(shards["tf"], shards["length"])
    assert read == 120 and f"{facts['bad']['tensorflow_says']} " in error


def test_a_cut_file_has_a_truncated_tail_with_the_missing_bytes(shards):
    facts = scan_of(shards["cut"])
    assert facts["bad"]["check"] == "truncated-tail" and facts["bad"]["record"] == RECORDS - 1
    assert facts["bad"]["missing_bytes"] == 100 and facts["records"] == RECORDS - 1
    read, error = _tf_failure(shards["tf"], shards["cut"])
    assert read == RECORDS - 1 and "truncated record" in error
    report = diagnosis.report(scan.collect([str(shards["cut"])], jobs=1))
    check = next(c for c in report.checks if c.id == "data.tfrecord-truncated")
    assert check.status == "fail" and check.subject == str(shards["cut"])


@pytest.mark.parametrize("kind", ["gzip", "zlib"])
def test_compressed_shards_are_detected_and_read_in_full(shards, kind):
    facts = scan_of(shards[kind])
    assert facts["compression"] == kind.upper() and facts["records"] == RECORDS and facts["bad"] is None
    assert facts["schema"] == scan_of(shards["clean"])["schema"]
    report = diagnosis.report(scan.collect([str(shards[kind])], jobs=1))
    check = next(c for c in report.checks if c.id == "data.tfrecord-compression")
    assert f'compression_type="{kind.upper()}"' in check.title


def test_a_cut_gzip_stream_is_truncated(shards):
    facts = scan_of(shards["cut_gzip"])
    assert facts["bad"]["check"] in ("compressed-stream", "truncated-tail")
    assert 0 < facts["records"] < RECORDS
    report = diagnosis.report(scan.collect([str(shards["cut_gzip"])], jobs=1))
    assert [c.id for c in report.checks if c.status == "fail"] == ["data.tfrecord-truncated"]


def test_python_repr_text_in_a_bytes_feature_fails_by_key(shards):
    report = diagnosis.report(scan.collect([str(shards["repr"])], jobs=1))
    check = next(c for c in report.checks if c.id == "data.repr-bytes")
    assert check.status == "fail" and check.subject == "caption" and check.evidence["count"] == 20
    assert check.evidence["examples"][0]["text"] == "b'a photo 0'"
    clean = diagnosis.report(scan.collect([str(shards["clean"])], jobs=1))
    assert not [c for c in clean.checks if c.id == "data.repr-bytes"]


def test_images_inside_records_are_decoded_like_files(shards):
    report = diagnosis.report(scan.collect([str(shards["images"])], jobs=1))
    check = next(c for c in report.checks if c.id == "data.record-images")
    assert check.status == "fail" and check.evidence["bad_count"] == 1
    assert check.evidence["bad"][0]["record"] == 9 and "truncated" in check.evidence["bad"][0]["error"]
    assert check.evidence["modes"] == {"L": 1, "RGB": 29}
    assert "mixed modes" in check.title


def test_shards_with_another_schema_drift(shards):
    report = diagnosis.report(scan.collect([str(shards["drift"].parent)], jobs=1))
    drift = next(c for c in report.checks if c.id == "data.tfrecord-schema-drift")
    assert drift.status == "warn"
    text = "\n".join(drift.evidence["differences"])
    assert "label: kinds differ between records: float in 10, int64 in 10" in text
    assert "lacks bbox, caption" in text


def test_sequence_examples_are_read_with_their_feature_lists(tmp_path):
    tf = datautil.tensorflow()
    records = []
    for i in range(5):
        sequence = tf.train.SequenceExample(
            context=tf.train.Features(feature={"length": datautil.feature(tf, 3)}),
            feature_lists=tf.train.FeatureLists(feature_list={"tokens": tf.train.FeatureList(
                feature=[datautil.feature(tf, [i, i + 1]) for _ in range(3)])}))
        records.append(sequence.SerializeToString())
    path = datautil.write_records(tmp_path / "seq.tfrecord", records)
    facts = tfrecords.scan(str(path))
    assert facts["sequence_examples"] == 5 and facts["schema"]["length"]["kinds"] == {"int64": 5}
    assert facts["feature_lists"]["tokens"]["kinds"] == {"int64": 15}
    report = diagnosis.report(scan.collect([str(path)], jobs=1))
    assert "tf.train.SequenceExample" in next(c for c in report.checks if c.id == "data.tfrecord-schema").title


def test_records_that_are_not_examples_skip_the_schema(tmp_path):
    path = datautil.write_records(tmp_path / "raw.tfrecord", [b"\x08" * 7, b"\xff\xff\xff"])
    report = diagnosis.report(scan.collect([str(path)], jobs=1))
    schema = next(c for c in report.checks if c.id == "data.tfrecord-schema")
    assert schema.status == "skip"
    assert report.verdict == "ok"


def test_the_pure_python_crc_is_crc32c():
    import random

    import crc32c

    table = tfrecords._table_crc32c()
    assert table(b"123456789") == 0xE3069283  # the standard check value of CRC-32C
    data = random.Random(1).randbytes(3000)
    assert table(data) == crc32c.crc32c(data)


def test_scanning_records_imports_no_tensorflow(shards):
    head, report, _ = run_reporting_imports(["data", str(shards["clean"])], ["tensorflow", "torch"],
                                            shards["root"], timeout=120)
    assert report["status"] == 0, head
    assert report["imported"] == []
    assert "200 records in 1 TFRecord file" in head


def test_sample_reads_the_first_records_of_each_file(shards):
    report = diagnosis.report(scan.collect([str(shards["clean"])], sample=10, jobs=1))
    count = next(c for c in report.checks if c.id == "data.tfrecord-count")
    assert count.evidence["total"] == 10 and count.title.startswith("at least 10 records")
    assert os.path.getsize(shards["clean"]) > 0


def test_compressed_shards_without_an_extension_are_found_by_their_content(shards, tmp_path):
    datautil.write(tmp_path / "shards" / "part-0", shards["gzip"].read_bytes())
    datautil.write(tmp_path / "shards" / "part-1", shards["zlib"].read_bytes())
    datautil.write(tmp_path / "shards" / "notes", b"\x1f\x8bnot really gzip")
    report = diagnosis.report(scan.collect([str(tmp_path / "shards")], jobs=1))
    count = next(c for c in report.checks if c.id == "data.tfrecord-count")
    assert count.evidence["files"] == {str(tmp_path / "shards" / "part-0"): RECORDS,
                                       str(tmp_path / "shards" / "part-1"): RECORDS}
    compression = next(c for c in report.checks if c.id == "data.tfrecord-compression")
    assert "each file's own compression_type" in compression.title
    assert compression.evidence["files"] == {str(tmp_path / "shards" / "part-0"): "GZIP",
                                             str(tmp_path / "shards" / "part-1"): "ZLIB"}
