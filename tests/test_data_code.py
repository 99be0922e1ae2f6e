"""`dldoctor data --code`: the training code's example counts and parse spec against real TFRecords, each
finding naming its line; every failure the probe predicts is the failure TensorFlow itself raises."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import datautil
from conftest import run_dldoctor
from dldoctor.probes.data import against_code, diagnosis, scan
from verdictutil import assert_valid_report

RECORDS = 120
CONFIG = textwrap.dedent('''\
    class ModelConfig(object):
        def __init__(self):
            self.input_file_pattern = None
            self.batch_size = 32
            self.num_examples_per_epoch = 586363
    ''')
INPUT = textwrap.dedent('''\
    import tensorflow as tf

    NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = 10000
    SPLITS_TO_SIZES = {"train": 586363, "validation": 40504}

    def parse(serialized):
        features = tf.io.parse_single_example(serialized, {
            "image/encoded": tf.io.FixedLenFeature([], tf.string),
            "label": tf.io.FixedLenFeature([], tf.float32),
            "bbox": tf.io.FixedLenFeature([2], tf.float32),
            "missing": tf.io.FixedLenFeature([], tf.int64),
            "weight": tf.io.FixedLenFeature([], tf.float32, default_value=1.0),
            "caption": tf.io.VarLenFeature(tf.string),
        })
        raw = features["raw"]
        pixels = tf.io.decode_raw(raw, tf.float32)
        depth = tf.decode_raw(features["depth"], tf.uint16)
        return pixels, depth
    ''')


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    tf = datautil.tensorflow()
    root = tmp_path_factory.mktemp("im2txt")
    records = [datautil.example(tf, {"image/encoded": datautil.encode(datautil.noise(i, size=(8, 8))),
                                     "label": i % 3, "bbox": [0.1, 0.2, 0.3, 0.4], "caption": b"a cat",
                                     "raw": np.arange(6, dtype=np.uint8).tobytes(),
                                     "depth": np.arange(2, dtype=np.float32).tobytes()}) for i in range(RECORDS)]
    data = datautil.write_records(root / "data" / "train-00000-of-00001", records)
    datautil.write(root / "code" / "configuration.py", CONFIG.encode())
    datautil.write(root / "code" / "inputs.py", INPUT.encode())
    run = run_dldoctor("data", "--json", "--code", root / "code", data, cwd=root)
    return {"root": root, "data": data, "records": records, "tf": tf, "run": run}


def checks(project, check_id):
    return [c for c in project["run"].json()["checks"] if c["id"] == check_id]


def test_the_report_is_valid_and_fails(project):
    project["run"].assert_no_traceback()
    assert project["run"].returncode == 1
    assert_valid_report(project["run"].json(), "data")


def test_the_example_counts_of_the_train_split_are_named_with_their_lines(project):
    found = {(c["evidence"]["name"], c["location"]["line"]): c for c in checks(project, "data.example-count")}
    # The eval count and the validation entry are about another split than these train shards.
    assert set(found) == {("num_examples_per_epoch", 5), ("SPLITS_TO_SIZES['train']", 4)}
    seed = found[("num_examples_per_epoch", 5)]
    assert seed["status"] == "warn" and seed["location"]["file"].endswith("configuration.py")
    assert seed["title"] == f"num_examples_per_epoch = 586363, but the records hold {RECORDS} (4886.4× the records)"
    assert seed["fix"] == [f"Set num_examples_per_epoch = {RECORDS} (the count of 1 file read here)."]


def test_a_count_that_matches_is_ok(tmp_path, project):
    code = datautil.write(tmp_path / "config.py", f"NUM_TRAIN_EXAMPLES = {RECORDS}\nnum_samples = 7\n".encode())
    report = diagnosis.report(scan.collect([str(project["data"])], code=str(code), jobs=1))
    counts = [c for c in report.checks if c.id == "data.example-count"]
    assert [(c.status, c.evidence["name"]) for c in counts] == [("ok", "NUM_TRAIN_EXAMPLES")]


def test_parse_spec_mismatches_are_the_errors_tensorflow_raises(project):
    tf = project["tf"]
    by_key = {c["subject"].split(" ")[0]: c for c in checks(project, "data.parse-spec")}
    assert {key: c["status"] for key, c in by_key.items()} == {
        "image/encoded": "ok", "label": "fail", "bbox": "fail", "missing": "fail", "weight": "ok", "caption": "ok"}
    assert by_key["label"]["location"]["line"] == 9 and by_key["label"]["location"]["file"].endswith("inputs.py")
    assert by_key["label"]["fix"] == ["Parse it as tf.int64."]
    assert by_key["bbox"]["fix"] == ["Use FixedLenFeature([4], ...)"]
    specs = {"label": tf.io.FixedLenFeature([], tf.float32), "bbox": tf.io.FixedLenFeature([2], tf.float32),
             "missing": tf.io.FixedLenFeature([], tf.int64)}
    for key, spec in specs.items():
        predicted = by_key[key]["detail"].split("TensorFlow raises: ", 1)[1]
        with pytest.raises(tf.errors.InvalidArgumentError) as raised:
            tf.io.parse_single_example(project["records"][0], {key: spec})
        assert predicted in str(raised.value), (key, predicted, str(raised.value))
    for key in ("image/encoded", "weight", "caption"):  # and what is said to work, works
        spec = {"image/encoded": tf.io.FixedLenFeature([], tf.string),
                "weight": tf.io.FixedLenFeature([], tf.float32, default_value=1.0),
                "caption": tf.io.VarLenFeature(tf.string)}[key]
        tf.io.parse_single_example(project["records"][0], {key: spec})


def test_decode_raw_of_bytes_that_do_not_divide_fails_as_tensorflow_does(project):
    tf = project["tf"]
    by_key = {c["evidence"]["decode"]["key"]: c for c in checks(project, "data.decode-raw")}
    raw, depth = by_key["raw"], by_key["depth"]
    assert raw["status"] == "fail" and raw["location"]["line"] == 16
    assert "these lengths fit uint8" in raw["fix"][0]
    predicted = raw["detail"].split("TensorFlow raises: ", 1)[1]
    with pytest.raises(tf.errors.InvalidArgumentError, match=predicted):
        tf.io.decode_raw(tf.constant(np.arange(6, dtype=np.uint8).tobytes()), tf.float32)
    # 8 bytes as uint16 divide (4 elements): decodable, and said so with the element count
    assert depth["status"] == "ok" and "4 elements per record" in depth["title"]
    assert depth["location"]["line"] == 17


def test_the_code_reader_finds_flags_keywords_and_split_tables(tmp_path):
    code = datautil.write(tmp_path / "train.py", textwrap.dedent('''\
        import tensorflow as tf
        flags = tf.app.flags
        flags.DEFINE_integer("num_train_examples", 1281167, "ImageNet")
        parser.add_argument("--num-samples", type=int, default=50000)
        config = Config(num_examples_per_epoch=586363, batch_size=32)
        num_classes = 1000
        ''').encode())
    facts = against_code.code_facts(str(code))
    assert [(c["name"], c["value"], c["line"]) for c in facts["counts"]] == [
        ("num_train_examples", 1281167, 3), ("num_samples", 50000, 4), ("num_examples_per_epoch", 586363, 5)]


def test_code_without_counts_or_specs_is_skipped(tmp_path, project):
    code = datautil.write(tmp_path / "model.py", b"import torch\nmodel = torch.nn.Linear(3, 4)\n")
    report = diagnosis.report(scan.collect([str(project["data"])], code=str(code), jobs=1))
    assert [c.status for c in report.checks if c.section == "Against the code"] == ["skip"]
