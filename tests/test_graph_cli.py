"""`dldoctor graph run`: the script's failures, arguments, timeout and usage errors; no framework in our process."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time

import pytest

from conftest import clean_env
from test_graph_helpers import graph, line_of, script
from verdictutil import assert_valid_report


def test_graph_help_lists_both_commands(tmp_path):
    run = graph("--help", cwd=tmp_path)
    assert run.returncode == 0 and "run" in run.stdout and "meta" in run.stdout
    run = graph("run", "--help", cwd=tmp_path)
    for option in ("--steps", "--timeout", "--json", "--plot", "--python"):
        assert option in run.stdout


def test_script_that_raises_is_reported_with_its_own_traceback(tmp_path):
    path = script(tmp_path, "train.py", """\
        def main():
            rate = 0
            return 1 / rate

        main()
        """)
    run = graph("run", "train.py", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr.strip() == f"dldoctor: error: train.py raised ZeroDivisionError: division by zero at train.py:{line_of(path, '1 / rate')}"
    assert "the script's traceback:" in run.stdout and 'line 5, in <module>' in run.stdout
    assert "dldoctor" not in run.stdout.split("the script's traceback:")[1]  # none of our frames
    assert "internal error" not in run.stderr
    assert "\nverdict: FAIL: train.py raised ZeroDivisionError" in run.stdout


def test_nonexistent_script_is_a_usage_error(tmp_path):
    run = graph("run", "nope.py", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == "dldoctor: error: nope.py: no such file\n" and run.stdout == ""


def test_script_arguments_after_double_dash_reach_the_script(tmp_path):
    script(tmp_path, "train.py", """\
        import json, sys
        print("ARGV", json.dumps(sys.argv))
        print("PATH0", sys.path[0])
        print("MAIN", __name__)
        """)
    run = graph("run", "train.py", "--steps", "5", "--json", "--", "--lr", "0.1", "--steps", "7", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.json()["facts"]["run"]["stdout_tail"]
    argv = json.loads(out.split("ARGV ", 1)[1].splitlines()[0])
    assert argv[1:] == ["--lr", "0.1", "--steps", "7"] and argv[0].endswith("train.py")
    assert f"PATH0 {tmp_path}" in out and "MAIN __main__" in out
    assert run.json()["verdict"] == "ok"


def test_script_exit_status_is_a_failure(tmp_path):
    script(tmp_path, "train.py", "import sys\nsys.exit('bad config')\n")
    run = graph("run", "train.py", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr.strip() == "dldoctor: error: train.py exited with status 1: bad config"


def test_hanging_script_is_stopped_at_timeout(tmp_path):
    script(tmp_path, "train.py", "import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    run = graph("run", "train.py", "--timeout", "2", cwd=tmp_path, timeout=60)
    assert run.returncode == 1
    assert "did not finish within --timeout 2 s and was stopped" in run.stderr
    run.assert_no_traceback()


def test_unknown_option_without_double_dash_is_a_usage_error(tmp_path):
    script(tmp_path, "train.py", "pass\n")
    run = graph("run", "train.py", "--lr", "0.1", cwd=tmp_path)
    assert run.returncode == 2


def test_plot_without_matplotlib_is_a_usage_error_before_running(tmp_path):
    if importlib.util.find_spec("matplotlib") is not None:
        pytest.skip("matplotlib is installed")
    script(tmp_path, "train.py", "open('ran', 'w').close()\n")
    run = graph("run", "train.py", "--plot", "ops.png", cwd=tmp_path)
    assert run.returncode == 2 and "--plot needs matplotlib" in run.stderr
    assert not (tmp_path / "ran").exists()


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    write = tmp_path / "w"
    write.mkdir()
    (write / "model.ckpt-1.meta").write_bytes(b"\x12\x00")
    (write / "model.ckpt-2.meta").write_bytes(b"\x12\x00")
    run = graph("meta", "w", "--plot", "size.png", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "size.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_imports_no_framework(tmp_path):
    """`dldoctor graph run` on a TensorFlow script: TF is imported in the script's process only."""
    script(tmp_path, "train.py", "import tensorflow as tf\nprint(tf.constant(1).numpy())\n")
    code = (
        "import sys\nsys.argv = ['dldoctor', 'graph', 'run', 'train.py', '--json']\n"
        "from dldoctor.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code\n"
        "print('@@', status, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'numpy')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), cwd=tmp_path, timeout=120)
    head, _, tail = completed.stdout.rpartition("@@")
    assert tail.strip() == "0 []", completed.stdout + completed.stderr
    data = json.loads(head)
    assert "tf.function" in data["facts"]["observations"]["instrumented"]
    assert data["facts"]["run"]["stdout_tail"].strip() == "1"


IO_SCRIPT = """\
import sys
print("the script's stdout")
print("the script's stderr", file=sys.stderr)
print("read", repr(sys.stdin.readline()))
"""


def test_the_scripts_output_is_shown_and_its_stdin_is_the_users(tmp_path):
    script(tmp_path, "train.py", IO_SCRIPT)
    run = graph_with_stdin(tmp_path, "hello\n", "run", "train.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("the script's stdout\nread 'hello\\n'\n\ndldoctor graph run train.py\n")
    assert run.stderr == "the script's stderr\n"
    assert run.lines[-1].startswith("verdict: OK")


def test_no_stdin_and_quiet(tmp_path):
    script(tmp_path, "train.py", IO_SCRIPT)
    run = graph_with_stdin(tmp_path, "hello\n", "run", "train.py", "--no-stdin", "--quiet", "--json")
    assert run.returncode == 0 and run.stderr == ""
    assert run.json()["facts"]["run"]["stdout_tail"] == "the script's stdout\nread ''\n"  # still kept for the report


def test_with_json_the_scripts_output_goes_to_stderr(tmp_path):
    script(tmp_path, "train.py", IO_SCRIPT)
    run = graph_with_stdin(tmp_path, "", "run", "train.py", "--json")
    assert run.json()["verdict"] == "ok"  # stdout is the JSON document alone
    assert_valid_report(run.json(), "graph run")
    assert "the script's stdout" in run.stderr and "the script's stderr" in run.stderr


def graph_with_stdin(cwd, stdin, *args):
    from conftest import run_dldoctor

    return run_dldoctor("graph", *args, cwd=cwd, stdin=stdin)


def test_output_is_shown_while_the_script_runs_with_progress(tmp_path):
    """A script that prints (no flush) and then works for a minute: its line, and a progress line, come at once,
    not after the minute (they were hidden until the end, for up to --timeout 600 s)."""
    script(tmp_path, "train.py", "import time\nprint('epoch 1 started')\ntime.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-m", "dldoctor", "graph", "run", "train.py", "--progress"], cwd=tmp_path,
                               env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        started = time.monotonic()
        first = process.stdout.readline()
        shown_after = time.monotonic() - started
        progress = process.stderr.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert first == b"epoch 1 started\n" and shown_after < 20
    assert progress.startswith(b"dldoctor graph run: ") and b"no graph execution observed yet" in progress
    assert process.returncode == 143


def _png_height(path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[20:24], "big")


def test_plot_with_nothing_observed_writes_a_chart_that_says_so_and_no_error(tmp_path):
    """`--plot` once printed `dldoctor: error: --plot: no Session.run observed` and exited 0."""
    pytest.importorskip("matplotlib")
    script(tmp_path, "train.py", "print('no framework here')\n")
    run = graph("run", "train.py", "--plot", "growth.png", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "error" not in run.stderr
    assert run.stderr.startswith("dldoctor: wrote growth.png (no graph execution was observed")
    assert _png_height(tmp_path / "growth.png") == 350
