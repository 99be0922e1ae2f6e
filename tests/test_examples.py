"""The bundled examples/ project: every core rule fires where the casebook says, and
nothing else; with the casebook's fixes applied, nothing fires at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

EXPECTED = {
    ("im2txt/build_flickr_data.py", 30, "DL102"),
    ("im2txt/build_flickr_data.py", 55, "DL301"),
    ("im2txt/build_flickr_data.py", 67, "DL101"),
    ("im2txt/caption_loader.py", 43, "DL101"),
    ("im2txt/evaluate.py", 63, "DL401"),
    ("mnist_eval.py", 23, "DL401"),
    ("multi_gpu_train.py", 54, "DL201"),
    ("explore_flickr.ipynb", "cell 4:2", "DL101"),
}

# The fix each finding's message suggests, as the casebook's engineers applied it.
FIXES = {
    "im2txt/build_flickr_data.py": [
        ("BytesList(value=[str(value)])", 'BytesList(value=[value if isinstance(value, bytes) else str(value).encode("utf-8")])'),
        ("filenames = [line.strip() for line in f.readlines()]", "filenames = set(line.strip() for line in f.readlines())"),
        ('FastGFile(image.filename, "r")', 'FastGFile(image.filename, "rb")'),
    ],
    "im2txt/caption_loader.py": [("with open(img_path) as f:", 'with open(img_path, "rb") as f:')],
    "im2txt/evaluate.py": [
        (
            "            run_once(model, saver, summary_writer)\n",
            "            run_once(model, saver, summary_writer)\n            if FLAGS.eval_interval_secs == 0:\n                break\n",
        )
    ],
    "mnist_eval.py": [("            time.sleep(EVAL_INTERVAL_SECS)\n", "            if EVAL_INTERVAL_SECS == 0:\n                break\n            time.sleep(EVAL_INTERVAL_SECS)\n")],
    "multi_gpu_train.py": [("log_device_placement=True", "log_device_placement=False")],
    "explore_flickr.ipynb": [('.jpg\\")) as f:', '.jpg\\"), \\"rb\\") as f:')],
}


def lint_json(directory: Path) -> tuple[int, set[tuple[str, int, str]]]:
    run = subprocess.run(
        [sys.executable, "-m", "dldoctor", "lint", str(directory), "--output-format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stderr == "", run.stderr
    found = {
        (
            Path(item["filename"]).relative_to(directory).as_posix(),
            f"cell {item['cell']}:{item['location']['row']}" if item["cell"] else item["location"]["row"],
            item["code"],
        )
        for item in json.loads(run.stdout)
    }
    return run.returncode, found


def test_every_core_rule_fires_where_expected_and_nothing_else():
    returncode, found = lint_json(EXAMPLES)
    assert found == EXPECTED
    assert returncode == 1
    assert {code for _, _, code in found} == {"DL101", "DL102", "DL201", "DL301", "DL401"}


def test_the_examples_readme_table_matches_the_findings():
    table = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path, line, code in EXPECTED:
        assert f"| `{path}` | {line} | {code} |" in table, (path, line, code)


def test_with_the_fixes_applied_nothing_fires(tmp_path):
    fixed = tmp_path / "examples"
    shutil.copytree(EXAMPLES, fixed)
    for name, replacements in FIXES.items():
        path = fixed / name
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, (name, old)
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    returncode, found = lint_json(fixed)
    assert found == set()
    assert returncode == 0
