"""`dldoctor ckpt` is registered, documented, and importing it costs no framework."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import clean_env, run_dldoctor


def test_ckpt_help(tmp_path):
    run = run_dldoctor("ckpt", "--help", cwd=tmp_path)
    assert run.returncode == 0
    for option in ("--model", "--meta", "--against", "--json"):
        assert option in run.stdout


def test_command_module_imports_no_framework():
    code = (
        "import json, sys\n"
        "import dldoctor.cli, dldoctor.probes.ckpt.command\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'keras', 'h5py', 'numpy'))))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), check=True)
    assert json.loads(completed.stdout) == []


def test_safetensors_inventory_needs_no_framework(tmp_path):
    """A safetensors header is read with the stdlib: no torch import for the inventory."""
    header = json.dumps({"fc.weight": {"dtype": "F16", "shape": [10, 4], "data_offsets": [0, 80]}, "__metadata__": {"format": "pt"}}).encode()
    (tmp_path / "w.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 80)
    code = (
        "import sys\nsys.argv = ['dldoctor', 'ckpt', 'w.safetensors', '--json']\n"
        "from dldoctor.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code\n"
        "print('@@', status, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), cwd=tmp_path)
    head, _, tail = completed.stdout.rpartition("@@")
    assert tail.strip() == "0 []", completed.stdout + completed.stderr
    data = json.loads(head)
    assert data["facts"]["inventory"]["dtypes"] == {"float16": 1} and data["facts"]["inventory"]["bytes"] == 80
