"""Bad input to `dldoctor ckpt`: one clear line on stderr each, the right exit code, no traceback."""

from __future__ import annotations

import pytest

from conftest import run_dldoctor, write


def _one_line(run, code: int, *needles: str) -> None:
    run.assert_no_traceback()
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dldoctor: error: "), run.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert run.stdout == ""


CASES = [
    # (files to write, argv, exit code, text in the message)
    ({"empty.pt": b""}, ["empty.pt"], 1, ["empty.pt: empty file (0 bytes)"]),
    ({"notes.pt": "epoch 3: loss 0.1\n"}, ["notes.pt"], 1, ["not a checkpoint format dldoctor knows", "b'epoch 3: lo"]),
    ({"model.safetensors": b"\x10\x27\x00\x00\x00\x00\x00\x00{\"w\": {"}, ["model.safetensors"], 1, ["truncated safetensors file"]),
    ({"model.h5": b"\x89HDF\r\n\x1a\n" + b"\x00" * 40}, ["model.h5"], 1, ["truncated or corrupt HDF5 file"]),
    ({}, ["missing.pt"], 2, ["missing.pt: no such file or directory"]),
    ({"train/notes.txt": "nothing here"}, ["train"], 2, ["no checkpoint in this directory"]),
    ({"train/checkpoint": 'model_checkpoint_path: "model.ckpt-42"\n'}, ["train"], 1, ["points to 'model.ckpt-42', which does not exist"]),
    ({"train/checkpoint": "garbage\n"}, ["train"], 1, ["names no model_checkpoint_path"]),
    ({"m.ckpt.data-00000-of-00001": b"x"}, ["m.ckpt"], 1, [".index file is missing"]),
    ({"m.ckpt.index": b"x"}, ["m.ckpt"], 1, ["data file m.ckpt.data-00000-of-00001 is missing"]),
    ({"graph.meta": b"x"}, ["graph.meta"], 2, ["a .meta file is a graph, not a checkpoint"]),
    ({"w.safetensors": b"\x02\x00\x00\x00\x00\x00\x00\x00{}"}, ["w.safetensors", "--model", "m.py:build", "--meta", "g.meta"], 2, ["alternatives"]),
]


@pytest.mark.parametrize("files, argv, code, needles", CASES, ids=[c[1][0] + "-" + c[3][0][:20] for c in CASES])
def test_bad_input_is_one_line(tmp_path, files, argv, code, needles):
    for name, content in files.items():
        write(tmp_path / name, content)
    _one_line(run_dldoctor("ckpt", *argv, cwd=tmp_path), code, *needles)


def test_truncated_torch_file(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.zeros(1000)}, tmp_path / "full.pt")
    data = (tmp_path / "full.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    _one_line(run_dldoctor("ckpt", "cut.pt", cwd=tmp_path), 1,
              f"cut.pt: truncated: {len(data) // 2:,} bytes, the zip's central directory is missing (a PyTorch zip cut short")
    with pytest.raises(RuntimeError, match="central directory"):  # what torch itself says about the same file
        torch.load(tmp_path / "cut.pt", weights_only=True)


def _safetensors(path):
    """A valid safetensors file written by hand (its header is all dldoctor reads)."""
    header = b'{"fc.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}'
    write(path, len(header).to_bytes(8, "little") + header + b"\x00" * 16)


@pytest.mark.parametrize("spec, code, needle", [
    ("nomodule", 2, "expected MODULE:CALLABLE"),
    ("absent.py:build", 2, "no file absent.py"),
    ("models.py:build", 2, "calling it raised ValueError: bad config"),
    ("models.py:nothing", 2, "has no attribute 'nothing'"),
    ("models.py:value", 2, "not callable"),
    ("models.py:forty_two", 2, "returned a int, not a torch.nn.Module or a Keras model"),
    ("broken.py:build", 2, "importing broken.py raised SyntaxError"),
])
def test_bad_model_specs(tmp_path, spec, code, needle):
    _safetensors(tmp_path / "w.safetensors")
    write(tmp_path / "models.py", "def build():\n    raise ValueError('bad config')\n\n\ndef forty_two():\n    return 42\n\n\nvalue = 3\n")
    write(tmp_path / "broken.py", "def build(:\n")
    _one_line(run_dldoctor("ckpt", "w.safetensors", "--model", spec, cwd=tmp_path), code, needle)
