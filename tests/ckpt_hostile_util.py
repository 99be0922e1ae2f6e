"""Helpers for tests/test_ckpt_hostile.py: real checkpoints, real zip bombs, and the real
CLI run over many files in one interpreter (importing torch and tensorflow once).
"""

from __future__ import annotations

import contextlib
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

from conftest import Run, clean_env

# Writes real checkpoints with the real libraries, in a child (tensorflow and keras stay
# out of the pytest process).
MAKE_REAL = r'''
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
root = sys.argv[1]
import torch
from torch import nn
net = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Linear(5, 3))
torch.save(net.state_dict(), f"{root}/net.pt")
opt = torch.optim.Adam(net.parameters())
net(torch.zeros(2, 6)).sum().backward(); opt.step()
torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, f"{root}/wrapped.pt")
from safetensors.torch import save_file
save_file({k: v.contiguous() for k, v in net.state_dict().items() if v.dtype.is_floating_point}, f"{root}/net.safetensors", metadata={"format": "pt"})
import tensorflow as tf
import keras
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, name="hidden"), keras.layers.Dense(3, name="head")])
model.save_weights(f"{root}/m.weights.h5")
model.save(f"{root}/m.keras")
model.save(f"{root}/legacy.h5")
optimizer = keras.optimizers.Adam()
optimizer.build(model.trainable_variables)
tf.train.Checkpoint(model=model, optimizer=optimizer).write(f"{root}/tf2/ckpt")
'''


def make_real(root: Path) -> Path:
    """net.pt, wrapped.pt, net.safetensors, m.weights.h5, m.keras, legacy.h5, tf2/ckpt.{index,data-*}."""
    subprocess.run([sys.executable, "-c", MAKE_REAL, str(root)], check=True, env=clean_env(), capture_output=True, timeout=300)
    return root


# Runs dldoctor's real entry point once per argv, in this one interpreter, and prints
# each run's exit status and output as a JSON line.
_BATCH = r'''
import contextlib, io, json, os, sys
from dldoctor.cli import main
for line in sys.stdin:
    argv = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["dldoctor", *argv]
    status = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 2)
        except BaseException as problem:
            err.write(f"Traceback (escaped main): {type(problem).__name__}: {problem}\n")
            status = -1
    print(json.dumps({"status": status, "stdout": out.getvalue(), "stderr": err.getvalue()}), flush=True)
'''


def run_many(argvs: list[list[str]], cwd: Path, timeout: float = 300) -> list[Run]:
    """`dldoctor ARGV` for each argv, through the real CLI entry point, in one child interpreter."""
    completed = subprocess.run(
        [sys.executable, "-c", _BATCH], cwd=cwd, input="".join(json.dumps([str(a) for a in argv]) + "\n" for argv in argvs),
        capture_output=True, text=True, env=clean_env(), timeout=timeout,
    )
    runs = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(runs) == len(argvs), completed.stderr[-3000:]
    return [Run(r["status"], r["stdout"], r["stderr"]) for r in runs]


def flipped(data: bytes, offsets) -> list[tuple[int, bytes]]:
    """(offset, data with the byte at offset XOR 0xFF) for each offset."""
    out = []
    for offset in offsets:
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        out.append((offset, bytes(changed)))
    return out


# -- zip bombs -------------------------------------------------------------------------------
# A member of GIB zeros is written through zipfile with ZIP_DEFLATED. Deflating 6 GB takes
# ~10 s, so the compressor is fed 1 MiB blocks each ending in a full flush (which resets
# the compressor's state, so every block compresses to the same 1037 bytes): the
# compressed bytes are computed once and repeated. The CRC written is the real one,
# zlib.crc32 over 6 GiB of zeros (computed once, 2 s; checked below on a sample).
BLOCK = 1 << 20
CRC_ZEROS = {6 << 30: 3327004208}


class _RepeatingCompressor:
    def __init__(self):
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.block = compressor.compress(bytes(BLOCK)) + compressor.flush(zlib.Z_FULL_FLUSH)
        self.tail = compressor.flush()

    def compress(self, data):
        assert len(data) == BLOCK
        return self.block

    def flush(self):
        return self.tail


@contextlib.contextmanager
def _fast_zero_member(total: int):
    saved = zipfile._get_compressor, zipfile.crc32
    zipfile._get_compressor = lambda compress_type, level=None: _RepeatingCompressor()
    zipfile.crc32 = lambda data, value=0: CRC_ZEROS[total]
    try:
        yield
    finally:
        zipfile._get_compressor, zipfile.crc32 = saved


def write_zip(path: Path, members: list[tuple[str, bytes | int]]) -> Path:
    """A zip of `members`: bytes are stored deflated; an int N is a zip-bomb member of N zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            if isinstance(content, int):
                with _fast_zero_member(content):
                    with archive.open(name, "w", force_zip64=True) as handle:
                        block = bytes(BLOCK)
                        for _ in range(content // BLOCK):
                            handle.write(block)
            else:
                archive.writestr(name, content)
    return path


def check_bomb_is_real(path: Path, name: str, size: int) -> None:
    """The member declares `size` and its first 8 MiB really inflate to zeros."""
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(name).file_size == size
        with archive.open(name) as handle:
            assert handle.read(8 * BLOCK) == bytes(8 * BLOCK)
    compressor = _RepeatingCompressor()
    assert zlib.decompress(compressor.block * 16 + compressor.tail, -15) == bytes(16 * BLOCK)


def understate(path: Path, name: str, declared: int) -> Path:
    """Rewrite the central directory so that the zip64 member `name` declares `declared`
    bytes uncompressed (its stream still inflates to the real size): a lying bomb."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    data = bytearray(path.read_bytes())
    real = struct.pack("<QQ", info.file_size, info.compress_size)
    at = data.rfind(real)  # the central directory's zip64 extra field comes last
    assert at > info.header_offset + info.compress_size
    data[at: at + 8] = struct.pack("<Q", declared)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(name).file_size == declared
    return path
