"""`dldoctor logs`' diagnoses on real training runs with known causes (the PyTorch runs of the tuning part of
the labelled set in benchmarks/logs/runs.py, generated once per session), its report, its thresholds, its
plot, and `build_report`, the function behind the command and `dldoctor.api.logs`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dldoctor.probes.logs import curves, diagnosis, thresholds
from verdictutil import assert_valid_report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks", "logs"))
import runs  # noqa: E402
import score  # noqa: E402


@pytest.fixture(scope="session")
def labelled(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("labelled-runs"))
    runs.generate(root, quick=True, splits=("tuning",))
    return root


def _found_in_process(run_dir: str) -> set[str]:
    return score.ids_of(diagnosis.diagnose(curves.read([run_dir]), thresholds.Thresholds()))


def _checks(run_dir: str, **overrides):
    return diagnosis.diagnose(curves.read([run_dir]), thresholds.Thresholds(**overrides))


def test_every_injected_cause_is_named_and_healthy_runs_raise_nothing(labelled):
    result = score.score(labelled, found=_found_in_process)
    wrong = [r for r in result["runs"] if r["missed"] or r["false_alarms"]]
    assert not wrong, wrong
    assert result["healthy_runs"] >= 7 and result["healthy_false_alarms"] == 0
    assert {"logs.oscillation", "logs.underfitting", "logs.lr-decayed", "logs.gradient-explosion",
            "logs.divergence@warmup"} <= set(result["diagnoses"])


def _one(checks, check_id):
    (check,) = [c for c in checks if c.id == check_id and c.status != "ok"]
    return check


def test_nan_names_the_first_step_and_what_came_before(labelled):
    check = _one(_checks(os.path.join(labelled, "torch-log0-nan")), "logs.nan")
    assert check.status == "fail" and check.evidence["step"] == 150  # the injected log(0) is at step 150
    assert check.evidence["series"].endswith("Loss/train")
    before = check.evidence["before"]  # the five points before, then the first NaN
    assert len(before) == 6 and before[-1] == [150, "NaN"] and [s for s, _ in before[:5]] == [145, 146, 147, 148, 149]
    assert "before" in check.detail


def test_divergence_after_an_explosion_and_its_fix(labelled):
    check = _one(_checks(os.path.join(labelled, "torch-lr-x100")), "logs.divergence")
    assert check.evidence["exploded"] and check.evidence["peak"] > 1e3
    assert "Lower the learning rate" in check.fix[0]


def test_overfitting_names_the_best_validation_step(labelled):
    check = _one(_checks(os.path.join(labelled, "torch-overfit")), "logs.overfitting")
    best = check.evidence["best_step"]
    assert f"Early stopping would have kept step {best}" in check.detail
    assert check.evidence["end"] > check.evidence["best"] * 1.1
    # the same run judged with a 10x looser ratio: quiet
    assert not [c for c in _checks(os.path.join(labelled, "torch-overfit"), overfit_ratio=10.0)
                if c.id == "logs.overfitting" and c.status != "ok"]


def test_accuracy_stuck_at_the_majority_share_is_exact_and_constant(labelled):
    check = _one(_checks(os.path.join(labelled, "torch-constant-output")), "logs.accuracy-stuck")
    assert check.evidence["constant"] and 0.6 < check.evidence["level"] < 0.8  # 70% of the labels are one class


def test_a_restart_without_restore_is_told_apart_from_a_resume(labelled, tmp_path):
    check = _one(_checks(os.path.join(labelled, "torch-restart-no-restore")), "logs.step-backwards")
    assert check.status == "warn" and check.evidence["to"] == 0 and check.evidence["reached"] == 149
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))  # resumed from the checkpoint of step 60 after reaching 99
    for step in list(range(100)) + list(range(60, 120)):
        writer.add_scalar("loss", 2.0 / (1 + step), step)
    writer.close()
    resumed = [c for c in _checks(str(tmp_path)) if c.id == "logs.step-backwards" and c.subject]
    assert [c.status for c in resumed] == ["ok"] and resumed[0].evidence["to"] == 60


def test_the_evaluation_of_one_step_over_and_over(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "eval"))
    for step in (1000, 2000, 5049, 5049, 5049, 5049):
        writer.add_scalar("perplexity", 17.8 if step == 5049 else 30.0, step)
    writer.close()
    check = _one(_checks(str(tmp_path)), "logs.repeated-step")
    assert check.evidence["step"] == 5049 and check.evidence["times"] == 4 and check.evidence["same_value"]
    assert "same checkpoint" in check.detail
    # three distinct steps: nothing to say
    writer = SummaryWriter(str(tmp_path / "eval2"))
    for step in (1000, 2000, 3000):
        writer.add_scalar("perplexity", 20.0, step)
    writer.close()
    assert not [c for c in _checks(str(tmp_path / "eval2")) if c.id == "logs.repeated-step" and c.status != "ok"]


def test_a_warmup_peak_before_the_divergence_is_named(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    for step in range(200):
        lr = 0.01 * min(1.0, (step + 1) / 100)  # linear warm-up to step 99
        loss = 2.0 - step * 0.01 if step < 100 else 1.0 + (step - 100) * 0.2
        writer.add_scalar("train/lr", lr, step)
        writer.add_scalar("train/loss", loss, step)
    writer.close()
    check = _one(_checks(str(tmp_path)), "logs.divergence")
    assert check.evidence["after_warmup"] and check.evidence["lr_peak_step"] == 99
    assert "warm-up" in check.detail and "warm-up" in check.fix[0]


def test_the_command_json_validates_and_fails_on_a_nan(labelled, tmp_path):
    result = subprocess.run([sys.executable, "-m", "dldoctor", "logs", os.path.join(labelled, "torch-log0-nan"),
                             "--json"], capture_output=True, text=True, cwd=str(tmp_path))
    document = json.loads(result.stdout)
    assert_valid_report(document, "logs")
    assert result.returncode == 1 and document["verdict"] == "fail"
    healthy = subprocess.run([sys.executable, "-m", "dldoctor", "logs", os.path.join(labelled, "torch-healthy-sgd"),
                              "--strict"], capture_output=True, text=True, cwd=str(tmp_path))
    assert healthy.returncode == 0, healthy.stdout
    assert "verdict: OK" in healthy.stdout


def test_thresholds_come_from_pyproject_then_flags(labelled, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dldoctor.logs]\noverfit-ratio = 10\n", encoding="utf-8")
    run = os.path.join(labelled, "torch-overfit")

    def overfitting(*flags):
        result = subprocess.run([sys.executable, "-m", "dldoctor", "logs", run, "--json", *flags],
                                capture_output=True, text=True, cwd=str(tmp_path))
        document = json.loads(result.stdout)
        return [c["status"] for c in document["checks"] if c["id"] == "logs.overfitting"], document["facts"]

    statuses, facts = overfitting()
    assert statuses == ["ok"] and facts["thresholds"]["overfit-ratio"] == 10
    statuses, _ = overfitting("--threshold", "overfit-ratio=0.1")
    assert statuses == ["warn"]
    bad = subprocess.run([sys.executable, "-m", "dldoctor", "logs", run, "--threshold", "no-such=1"],
                         capture_output=True, text=True, cwd=str(tmp_path))
    assert bad.returncode == 2 and "unknown threshold" in bad.stderr


def test_lint_accepts_the_logs_table_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dldoctor]\nselect = ['DL1']\n[tool.dldoctor.logs]\n"
                                             "overfit-ratio = 0.2\n", encoding="utf-8")
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "dldoctor", "lint", "a.py"], capture_output=True, text=True,
                            cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_plot_writes_a_png_with_the_diagnoses_marked(labelled, tmp_path):
    out = tmp_path / "curves.png"
    result = subprocess.run([sys.executable, "-m", "dldoctor", "logs", os.path.join(labelled, "torch-overfit"),
                             os.path.join(labelled, "torch-log0-nan"), "--plot", str(out)],
                            capture_output=True, text=True, cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    keep = os.environ.get("DLDOCTOR_KEEP_PLOTS")
    if keep:  # for a look by eye
        os.makedirs(keep, exist_ok=True)
        (tmp_path / "curves.png").replace(os.path.join(keep, "logs-curves.png"))


def test_oscillation_from_batches_in_label_order(labelled):
    check = _one(_checks(os.path.join(labelled, "torch-ordered-batches")), "logs.oscillation")
    assert check.evidence["swings"] >= 0.2 * check.evidence["groups"]
    assert "Shuffle" in check.fix[1]


def test_underfitting_of_a_one_unit_bottleneck(labelled):
    check = _one(_checks(os.path.join(labelled, "torch-bottleneck")), "logs.underfitting")
    assert check.evidence["end"] > 0.7 * check.evidence["first"]


def test_a_divergence_late_in_the_warmup_is_tied_to_it(labelled):
    check = _one(_checks(os.path.join(labelled, "torch-warmup-too-high")), "logs.divergence")
    assert check.evidence["during_warmup"] and check.evidence["lr_peak_step"] == 49
    assert "warm-up" in check.detail and "warm-up" in check.fix[0]
    # the healthy warm-up: nothing to say
    assert not _found_in_process(os.path.join(labelled, "torch-healthy-warmup"))


def test_a_learning_rate_at_zero_from_step_60_and_a_flat_loss(labelled):
    check = _one(_checks(os.path.join(labelled, "torch-lr-to-zero")), "logs.lr-decayed")
    assert check.evidence["steps"][0] == 60
    # a decay that reaches 0 at the run's end is the schedule doing its job
    assert "logs.lr-decayed" not in _found_in_process(os.path.join(labelled, "torch-healthy-decay"))


def test_exploding_gradient_histograms_are_one_check_for_the_training(labelled):
    checks = _checks(os.path.join(labelled, "torch-lr-x100-histograms"))
    check = _one(checks, "logs.gradient-explosion")
    assert check.evidence["growth"] >= 100 and check.evidence["series"].split(":")[1].startswith("gradients/")
    assert check.evidence["also"]  # the other parameters' gradients, named in the one check
    assert "logs.gradient-explosion" not in _found_in_process(os.path.join(labelled, "torch-healthy-histograms"))


def test_one_curve_logged_three_times_is_reported_once(tmp_path):
    """Keras' layout: CSVLogger's loss and val_loss, and the TensorBoard callback's train/ and validation/
    runs with `epoch_loss`; written here with the csv module and SummaryWriter."""
    from torch.utils.tensorboard import SummaryWriter

    tmp_path = tmp_path / "keras-run"  # (pytest's own directory name starts with "test", an evaluation word)
    train = [1.0 / (1 + e) for e in range(20)]
    val = [0.9 - 0.05 * e if e < 8 else 0.5 + 0.04 * (e - 8) for e in range(20)]
    tmp_path.mkdir()
    with open(tmp_path / "training.csv", "w", encoding="utf-8") as handle:
        rows = "".join(f"{e},{t!r},{v!r}\n" for e, (t, v) in enumerate(zip(train, val)))
        handle.write("epoch,loss,val_loss\n" + rows)
    for role, curve in (("train", train), ("validation", val)):
        writer = SummaryWriter(str(tmp_path / "tb" / role))
        for epoch, value in enumerate(curve):
            writer.add_scalar("epoch_loss", value, epoch)
        writer.close()
    overfit = [c for c in _checks(str(tmp_path)) if c.id == "logs.overfitting" and c.status != "ok"]
    assert len(overfit) == 1, [c.title for c in overfit]
    (check,) = overfit
    assert check.evidence["same_curve_as"] == ["tb/validation:epoch_loss"]
    assert "also logged as tb/validation:epoch_loss" in check.detail


def test_build_report_is_the_command_without_the_printing(labelled, tmp_path):
    from dldoctor.probes.logs.command import build_report
    from dldoctor.verdict import ProbeError, Report

    report = build_report([os.path.join(labelled, "torch-log0-nan")], ["overfit-ratio=0.2"], cwd=str(tmp_path))
    assert isinstance(report, Report) and report.verdict == "fail"
    assert report.facts["thresholds"]["overfit-ratio"] == 0.2
    for paths, flags, message in (([str(tmp_path / "nope")], [], "no such file"),
                                  ([str(tmp_path)], [], "no TensorBoard event files"),
                                  ([labelled], ["no-such=1"], "unknown threshold")):
        with pytest.raises(ProbeError) as raised:
            build_report(paths, flags, cwd=str(tmp_path))
        assert message in raised.value.message and raised.value.exit_code == 2
