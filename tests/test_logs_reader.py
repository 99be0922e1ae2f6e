"""`dldoctor logs`' reader on real event files: TF1 FileWriter, TF2 tf.summary, Keras' TensorBoard callback and
CSVLogger, PyTorch's SummaryWriter; a Lightning-format metrics.csv; a crashed run's torn tail and a damaged record."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from dldoctor.probes.logs import csv_logs, curves, events
from verdictutil import assert_valid_report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _write_all(root: str) -> None:
    import numpy as np
    import tensorflow as tf

    writer = tf.summary.create_file_writer(os.path.join(root, "tf2", "train"))
    with writer.as_default():
        for step in range(5):
            tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
            tf.summary.histogram("gradients/dense", tf.constant([-float(step + 1), 0.5, float(step + 1)]), step=step)
    writer.close()
    tf1 = tf.compat.v1
    with tf1.Graph().as_default():
        file_writer = tf1.summary.FileWriter(os.path.join(root, "tf1"))
        for step in range(5):
            file_writer.add_summary(tf1.Summary(value=[tf1.Summary.Value(tag="xent", simple_value=2.0 - step / 4)]),
                                    step * 10)
        file_writer.add_session_log(tf1.SessionLog(status=tf1.SessionLog.START), 40)
        file_writer.close()
    from torch.utils.tensorboard import SummaryWriter

    torch_writer = SummaryWriter(os.path.join(root, "torch"))
    for step in range(6):
        torch_writer.add_scalar("Loss/train", 3.0 - step * 0.25, step)
        if step % 2:
            torch_writer.add_scalar("Loss/val", 3.5 - step * 0.25, step)
    torch_writer.close()
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    y = (x[:, 0] > 0.5).astype("int64")
    os.makedirs(os.path.join(root, "keras"))
    model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(os.path.join(root, "keras", "tb")),
                         keras.callbacks.CSVLogger(os.path.join(root, "keras", "log.csv"))])
    _write_long(root)
    # Lightning's CSVLogger layout (Lightning is not a test dependency): per-step and per-epoch columns, cells
    # left empty where that row did not log the metric.
    os.makedirs(os.path.join(root, "lightning", "version_0"))
    with open(os.path.join(root, "lightning", "version_0", "metrics.csv"), "w", encoding="utf-8") as handle:
        handle.write("epoch,step,train_loss_step,train_loss_epoch,val_loss\n"
                     "0,49,0.9,,\n0,99,0.7,,\n0,99,,,0.75\n0,99,,0.8,\n1,149,0.5,,\n1,199,0.4,,\n1,199,,,0.45\n"
                     "1,199,,0.45,\n")


def _write_long(root: str) -> None:
    """Runs long enough for the fast path's templates (it leaves short runs to the proto path): TF2 scalars
    with their metadata on every value, TF1 merged summaries of two values, a PyTorch run of three tags a
    step, a validation pair every 7 steps, histograms every 5 and a restart."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(os.path.join(root, "long", "tf2"))
    with writer.as_default():
        for step in range(300):
            tf.summary.scalar("epoch_loss", 2.0 / (1 + step), step=step)
            tf.summary.scalar("epoch_accuracy", min(1.0, step / 200), step=step)
            if step % 50 == 0:
                tf.summary.histogram("gradients", tf.constant([-1.0, float(step)]), step=step)
    writer.close()
    tf1 = tf.compat.v1
    with tf1.Graph().as_default():
        file_writer = tf1.summary.FileWriter(os.path.join(root, "long", "tf1"))
        for step in range(300):
            file_writer.add_summary(tf1.Summary(value=[tf1.Summary.Value(tag="xent", simple_value=3.0 - step / 200),
                                                       tf1.Summary.Value(tag="lr", simple_value=0.1)]), step * 100)
        file_writer.add_session_log(tf1.SessionLog(status=tf1.SessionLog.START), 100)
        for step in range(1, 50):
            file_writer.add_summary(tf1.Summary(value=[tf1.Summary.Value(tag="xent", simple_value=1.0)]), step)
        file_writer.close()
    import torch
    from torch.utils.tensorboard import SummaryWriter

    torch_writer = SummaryWriter(os.path.join(root, "long", "torch"))
    for step in range(400):
        torch_writer.add_scalar("Loss/train", 2.0 / (1 + step) + (step % 3) * 1e-3, step)
        torch_writer.add_scalar("Accuracy/train", step / 400, step)
        torch_writer.add_scalar("lr", 0.1 if step < 200 else float("nan") if step == 250 else 0.01, step)
        if step % 7 == 0:
            torch_writer.add_scalar("Loss/val", 2.5 / (1 + step), step)
            torch_writer.add_scalar("Accuracy/val", step / 450, step)
        if step % 5 == 0:
            torch_writer.add_histogram("gradients/w", torch.linspace(-1, 1 + step, 16), step)
    torch_writer.close()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("logs"))
    _write_all(root)
    return root


@pytest.fixture(scope="module")
def logs(written):
    return curves.read([written])


def _series(logs, run, tag, kind="scalar"):
    return logs.series[(run, tag, kind)]


def test_crc32c_is_the_castagnoli_checksum_in_c_and_in_python():
    assert events.crc32c(b"123456789") == 0xE3069283
    assert events._crc32c_python(b"123456789") == 0xE3069283
    assert events._crc32c_python(b"") == events.crc32c(b"") == 0


def test_every_writer_is_read_point_for_point(logs):
    assert list(_series(logs, "tf2/train", "loss").values) == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])
    assert list(_series(logs, "tf1", "xent").steps) == [0, 10, 20, 30, 40]
    assert list(_series(logs, "tf1", "xent").values) == pytest.approx([2.0, 1.75, 1.5, 1.25, 1.0])
    assert [r.step for r in logs.restarts["tf1"]] == [40]
    assert list(_series(logs, "torch", "Loss/train").values) == pytest.approx([3.0 - s * 0.25 for s in range(6)])
    assert list(_series(logs, "torch", "Loss/val").steps) == [1, 3, 5]
    # TF2 histograms (a tensor of buckets): their largest magnitude per step
    grads = _series(logs, "tf2/train", "gradients/dense", "histogram")
    assert list(grads.values) == pytest.approx([1, 2, 3, 4, 5])
    assert grads.metric == "grad_hist"


def test_keras_tensorboard_and_csvlogger_agree(logs):
    tb_train = _series(logs, "keras/tb/train", "epoch_loss")
    tb_val = _series(logs, "keras/tb/validation", "epoch_loss")
    csv_train, csv_val = _series(logs, "keras", "loss"), _series(logs, "keras", "val_loss")
    assert list(tb_train.steps) == list(csv_train.steps) == [0, 1, 2]
    assert list(tb_train.values) == pytest.approx(list(csv_train.values), rel=1e-6)
    assert list(tb_val.values) == pytest.approx(list(csv_val.values), rel=1e-6)
    assert (tb_train.role, tb_val.role, csv_val.role) == ("train", "eval", "eval")


def test_train_and_validation_are_paired_by_run_and_by_tag(logs):
    pairs = {(t.name, e.name) for family in curves.families(logs) for t, e in family.pairs()}
    assert ("torch:Loss/train", "torch:Loss/val") in pairs
    assert ("keras/tb/train:epoch_loss", "keras/tb/validation:epoch_loss") in pairs
    assert ("keras:loss", "keras:val_loss") in pairs
    # Lightning: val_loss pairs with the per-epoch training loss, not the per-step one
    assert ("lightning/version_0:train_loss_epoch", "lightning/version_0:val_loss") in pairs


def test_lightning_csv_uses_the_step_column_and_skips_empty_cells(logs):
    steps = _series(logs, "lightning/version_0", "train_loss_step")
    assert list(steps.steps) == [49, 99, 149, 199]
    assert list(_series(logs, "lightning/version_0", "val_loss").values) == [0.75, 0.45]
    assert not csv_logs.is_training_log(os.path.join(REPO, "benchmarks", "realcode", "REVIEW.tsv"))


def _torn_copy(written, tmp_path, cut: int) -> str:
    source = os.path.join(written, "torch")
    target = tmp_path / "torn"
    shutil.copytree(source, target)
    (event_file,) = [p for p in target.iterdir() if "tfevents" in p.name]
    data = event_file.read_bytes()
    event_file.write_bytes(data[:-cut])
    return str(event_file)


def test_a_crashed_runs_torn_tail_is_reported_and_the_rest_read(written, tmp_path):
    whole = curves.read([os.path.join(written, "torch")])
    path = _torn_copy(written, tmp_path, 7)
    torn = curves.read([path])
    (problem,) = torn.problems
    assert problem.kind == "truncated" and problem.records_before == whole.files[0].records - 1
    assert len(torn.series[("torn", "Loss/train", "scalar")]) + len(torn.series[("torn", "Loss/val", "scalar")]) \
        == len(whole.series[("torch", "Loss/train", "scalar")]) + len(whole.series[("torch", "Loss/val", "scalar")]) - 1
    # a tail cut inside the 12-byte header
    with open(path, "ab") as handle:
        handle.write(b"\x05\x00\x00")
    assert [p.kind for p in curves.read([path]).problems] == ["truncated"]


def test_a_damaged_record_in_the_middle_is_skipped_and_the_rest_read(written, tmp_path):
    target = tmp_path / "damaged"
    shutil.copytree(os.path.join(written, "tf1"), target)
    (event_file,) = [p for p in target.iterdir() if "tfevents" in p.name]
    data = bytearray(event_file.read_bytes())
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        offset += 16 + int.from_bytes(data[offset:offset + 8], "little")
    data[offsets[3] + 12] ^= 0xFF  # a payload byte of the fourth record (the third summary)
    event_file.write_bytes(bytes(data))
    damaged = curves.read([str(target)])
    assert [p.kind for p in damaged.problems] == ["corrupt-data"]
    assert list(damaged.series[("damaged", "xent", "scalar")].steps) == [0, 10, 30, 40]
    # a damaged length cannot be framed past: the file ends there
    data[offsets[2]] ^= 0xFF
    event_file.write_bytes(bytes(data))
    assert [p.kind for p in curves.read([str(target)]).problems] == ["corrupt-length"]
    assert list(curves.read([str(target)]).series[("damaged", "xent", "scalar")].steps) == [0]


def test_the_command_reports_a_torn_file_as_a_warning_and_reads_it(written, tmp_path):
    path = _torn_copy(written, tmp_path, 7)
    result = subprocess.run([sys.executable, "-m", "dldoctor", "logs", path, "--json"], capture_output=True,
                            text=True, cwd=REPO)
    document = json.loads(result.stdout)
    assert_valid_report(document, "logs")
    read = [c for c in document["checks"] if c["id"] == "logs.read" and c["status"] == "warn"]
    assert len(read) == 1 and "truncated" in read[0]["title"]
    assert result.returncode == 0  # a torn tail alone is a warning


def test_a_missing_path_or_no_logs_is_a_usage_error(tmp_path):
    missing = subprocess.run([sys.executable, "-m", "dldoctor", "logs", str(tmp_path / "nope")],
                             capture_output=True, text=True, cwd=REPO)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    empty = subprocess.run([sys.executable, "-m", "dldoctor", "logs", str(tmp_path)], capture_output=True, text=True,
                           cwd=REPO)
    assert empty.returncode == 2 and "no TensorBoard event files" in empty.stderr


def _snapshot(logs):
    """Everything a read gives: series (points in order, NaN as a word), files with counts and problems."""
    series = {key: (list(s.steps), ["NaN" if v != v else v for v in s.values], s.role, s.metric, s.source)
              for key, s in logs.series.items()}
    files = [(f.path, f.records, [p.to_json() for p in f.problems]) for f in logs.files]
    restarts = {run: [(r.step, r.wall_time) for r in found] for run, found in logs.restarts.items()}
    return list(logs.series), series, files, restarts


def test_the_fast_path_gives_the_proto_paths_curves_on_every_writer(written):
    for name in ("tf2", "tf1", "torch"):
        root = os.path.join(written, "long", name)
        assert _snapshot(curves.read([root])) == _snapshot(curves.read([root], fast=False)), name
        (path,) = [os.path.join(root, f) for f in os.listdir(root)]
        reader = events.EventFileReader(path)
        for _ in reader.batches():
            pass
        assert reader.fast_records >= 0.9 * reader.records, (name, reader.fast_records, reader.records)
    assert _snapshot(curves.read([written])) == _snapshot(curves.read([written], fast=False))
    tf1 = curves.read([os.path.join(written, "long", "tf1")])
    assert list(tf1.series[("tf1", "xent", "scalar")].steps)[299:302] == [29900, 1, 2]
    assert [r.step for r in tf1.restarts["tf1"]] == [100]


def test_the_fast_path_reports_torn_and_damaged_records_as_the_proto_path_does(written, tmp_path):
    root = os.path.join(written, "long", "torch")
    (name,) = os.listdir(root)
    data = bytearray(open(os.path.join(root, name), "rb").read())
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        offset += 16 + int.from_bytes(data[offset:offset + 8], "little")
    middle = offsets[len(offsets) // 2]
    cases = {"cut-in-header": bytes(data[:offsets[-1] + 5]), "cut-in-payload": bytes(data[:offsets[-1] + 20]),
             "cut-in-footer": bytes(data[:-2])}
    damaged = bytearray(data)
    damaged[middle + 12 + 3] ^= 0x40  # a payload byte: that record is skipped
    damaged[offsets[100] + 12 + 10] ^= 0x01
    cases["bad-payloads"] = bytes(damaged)
    broken = bytearray(data)
    broken[middle + 1] ^= 0x10  # a length byte: nothing after it can be framed
    cases["bad-length"] = bytes(broken)
    kinds = {}
    for case, content in cases.items():
        target = tmp_path / case
        target.mkdir()
        (target / name).write_bytes(content)
        fast, proto = curves.read([str(target)]), curves.read([str(target)], fast=False)
        assert _snapshot(fast) == _snapshot(proto), case
        kinds[case] = [p.kind for p in fast.problems]
    assert kinds == {"cut-in-header": ["truncated"], "cut-in-payload": ["truncated"], "cut-in-footer": ["truncated"],
                     "bad-payloads": ["corrupt-data", "corrupt-data"], "bad-length": ["corrupt-length"]}


def test_whole_series_scans_agree_with_and_without_numpy(monkeypatch):
    import random
    from array import array

    from dldoctor.probes.logs import arrays

    rng = random.Random(0)
    steps = array("q", list(range(3000)) + [5] * 7 + list(range(10, 2000)) + [0, 1, 2, 2, 2])
    values = array("d", [rng.random() for _ in range(len(steps))])
    values[4000] = float("nan")
    twin = array("d", [v * (1 + 1e-7) for v in values])

    def scans():
        return (arrays.last_restart(steps), arrays.first_nonfinite(values), arrays.first_nonfinite(values, 4001),
                arrays.drops(steps), arrays.longest_repeat(steps), arrays.argmax(values[:3999]),
                arrays.median(values[:2500]), arrays.median(values[:2501]), arrays.nearest(steps, 1500),
                arrays.group_medians(steps[:3000], values[:3000], 7), arrays.same_values(values, twin),
                arrays.same_values(values, values[:-1] + array("d", [2.0])))

    vectorised = scans()
    monkeypatch.setattr(arrays, "np", None)
    assert scans() == vectorised
    assert vectorised[4] == (7, 3000) and vectorised[10] and not vectorised[11]


def test_the_api_gives_the_commands_report(written, tmp_path):
    from dldoctor import api

    report = api.logs([written])
    command = subprocess.run([sys.executable, "-m", "dldoctor", "logs", written, "--json"], capture_output=True,
                             text=True, cwd=REPO)
    document = json.loads(command.stdout)
    assert [(c.id, c.status, c.subject) for c in report.checks] == [
        (c["id"], c["status"], c.get("subject")) for c in document["checks"]]
    assert report.exit_code() == command.returncode
    with pytest.raises(api.ProbeError, match="no such file"):
        api.logs([str(tmp_path / "nope")])
