"""`dldoctor ckpt` on hostile and corrupt files: zip bombs, byte-flipped checkpoints,
headers the safetensors library refuses, broken TensorFlow shards, names that try to
draw on the terminal, state files that point out of the train dir, fifos and devices.

Every file is real: written by torch, keras, safetensors and tensorflow (ckpt_hostile_util.make_real),
then damaged; zip bombs are real deflate streams that inflate to 6 GiB of zeros. The real
CLI runs on each (many files per interpreter through ckpt_hostile_util.run_many).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile

import pytest

from ckpt_hostile_util import check_bomb_is_real, flipped, make_real, run_many, understate, write_zip
from conftest import clean_env

torch = pytest.importorskip("torch")
safetensors = pytest.importorskip("safetensors")
pytest.importorskip("h5py")
pytest.importorskip("tensorflow")

GIB6 = 6 << 30


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    return make_real(tmp_path_factory.mktemp("real"))


def _verdict_line(run, *needles):
    """A refused or broken file: exit 1, one `dldoctor: error:` line, nothing on stdout."""
    run.assert_no_traceback()
    assert run.returncode == 1, (run.returncode, run.stdout[-2000:], run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dldoctor: error: "), run.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert run.stdout == ""
    return lines[0]


# -- 1. zip bombs -------------------------------------------------------------------------------

# Runs dldoctor in a child and prints the child's peak RSS (kB) as the last line.
_PEAK_RSS = r'''
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "dldoctor", *sys.argv[1:]], capture_output=True, text=True)
sys.stdout.write(done.stdout); sys.stderr.write(done.stderr)
print("@@", done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
'''


def _run_measured(cwd, *argv):
    completed = subprocess.run([sys.executable, "-c", _PEAK_RSS, *argv], cwd=cwd, capture_output=True, text=True, env=clean_env(), timeout=120)
    head, _, tail = completed.stdout.rpartition("@@ ")
    code, peak_kb = map(int, tail.split())
    from conftest import Run

    return Run(code, head, completed.stderr), peak_kb * 1024


@pytest.fixture(scope="module")
def bombs(real, tmp_path_factory):
    root = tmp_path_factory.mktemp("bombs")
    with zipfile.ZipFile(real / "m.keras") as keras_zip:
        keras_members = {name: keras_zip.read(name) for name in keras_zip.namelist()}
    with zipfile.ZipFile(real / "net.pt") as torch_zip:
        torch_members = [(name, torch_zip.read(name)) for name in torch_zip.namelist()]
    files = {
        "config_bomb.keras": ("config.json", [("metadata.json", keras_members["metadata.json"]), ("config.json", GIB6),
                                              ("model.weights.h5", keras_members["model.weights.h5"])]),
        "weights_bomb.keras": ("model.weights.h5", [("metadata.json", keras_members["metadata.json"]),
                                                    ("config.json", keras_members["config.json"]), ("model.weights.h5", GIB6)]),
        "pickle_bomb.pt": ("net/data.pkl", [(name, GIB6 if name.endswith("data.pkl") else data) for name, data in torch_members]),
    }
    for name, (member, members) in files.items():
        write_zip(root / name, members)
        assert (root / name).stat().st_size < 8 << 20  # small on disk
    check_bomb_is_real(root / "config_bomb.keras", "config.json", GIB6)
    # the same bombs with a central directory that understates the member's size (1 MiB)
    for name in ("config_bomb.keras", "pickle_bomb.pt"):
        shutil.copy(root / name, root / f"lying_{name}")
        understate(root / f"lying_{name}", files[name][0], 1 << 20)
    return root, {name: member for name, (member, _) in files.items()}


@pytest.mark.parametrize("name", ["config_bomb.keras", "weights_bomb.keras", "pickle_bomb.pt"])
def test_zip_bomb_is_refused_in_bounded_memory(bombs, name):
    root, members = bombs
    run, peak = _run_measured(root, "ckpt", name)
    line = _verdict_line(run, f"{name}: member {members[name]} declares 6.0 GB uncompressed", "refused")
    assert "a zip bomb?" in line
    assert peak < 500 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("name", ["lying_config_bomb.keras", "lying_pickle_bomb.pt"])
def test_zip_bomb_that_understates_its_size_is_bounded(bombs, name):
    """The stream is inflated (and thrown away) only until it passes the declared 1 MiB."""
    root, members = bombs
    run, peak = _run_measured(root, "ckpt", name)
    _verdict_line(run, f"{name}: member {members[name[len('lying_'):]]} inflates past the 1.0 MB its central directory declares: refused")
    assert peak < 500 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB"


def test_zip_bomb_json_is_refused_too(bombs):
    root, _ = bombs
    run = run_many([["ckpt", "config_bomb.keras", "--json"]], root)[0]
    _verdict_line(run, "declares 6.0 GB uncompressed")


# -- 2. byte-flipped files ----------------------------------------------------------------------

FLIPPED = ["m.weights.h5", "legacy.h5", "net.pt", "wrapped.pt", "m.keras", "net.safetensors"]
FLIPS_PER_FILE = 40


def _torch_loads(path) -> bool:
    try:
        torch.load(str(path), map_location="cpu", weights_only=True)
        return True
    except Exception:
        return False


def test_byte_flipped_checkpoints_are_verdicts(real, tmp_path):
    argvs, cases = [], []
    for name in FLIPPED:
        data = (real / name).read_bytes()
        step = max(1, len(data) // FLIPS_PER_FILE)
        for offset, blob in flipped(data, range(0, len(data), step)):
            target = tmp_path / f"at{offset}-{name}"
            target.write_bytes(blob)
            argvs.append(["ckpt", target.name])
            cases.append((name, offset, target))
    shard = (real / "tf2" / "ckpt.data-00000-of-00001").read_bytes()
    index = (real / "tf2" / "ckpt.index").read_bytes()
    for part, data in (("data", shard), ("index", index)):
        for offset, blob in flipped(data, range(0, len(data), max(1, len(data) // 20))):
            directory = tmp_path / f"tf-{part}-{offset}"
            directory.mkdir()
            shutil.copy(real / "tf2" / "ckpt.index", directory / "ckpt.index")
            shutil.copy(real / "tf2" / "ckpt.data-00000-of-00001", directory / "ckpt.data-00000-of-00001")
            (directory / ("ckpt.index" if part == "index" else "ckpt.data-00000-of-00001")).write_bytes(blob)
            argvs.append(["ckpt", f"{directory.name}/ckpt"])
            cases.append((f"tf-{part}", offset, directory / "ckpt"))
    runs = run_many(argvs, tmp_path)
    outcomes: dict = {}
    problems = []
    for (name, offset, target), run in zip(cases, runs):
        outcomes.setdefault(name, {0: 0, 1: 0})
        bad = "Traceback" in run.stderr + run.stdout or "internal error" in run.stderr or run.returncode not in (0, 1)
        if run.returncode == 1 and not bad and not run.stdout:
            lines = run.stderr.strip().splitlines()
            bad = len(lines) != 1 or not lines[0].startswith("dldoctor: error: ") or target.name not in lines[0]
        if name == "tf-data" and run.returncode != 1:
            bad = True  # every byte of this shard is tensor data under a CRC32C: a flip must FAIL
        if name.endswith(".pt") and run.returncode == 1 and ("corrupt" in run.stderr or "truncated" in run.stderr) and _torch_loads(target):
            bad = True  # torch loads it (it ignores the CRC of some records): not corrupt for dldoctor either
        if bad:
            problems.append((name, offset, run.returncode, run.stderr.strip()[:300]))
        else:
            outcomes[name][run.returncode] += 1
    print("byte-flip outcomes (exit 0 / exit 1):", json.dumps(outcomes))
    assert not problems, problems
    assert sum(o[1] for o in outcomes.values()) > 100  # the flips did break things


# -- 3. safetensors headers the library refuses, TF shards that do not restore -------------------


def _st(header, data: bytes = b"", raw: bytes | None = None) -> bytes:
    text = raw if raw is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


W = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
SAFETENSORS_CASES = {
    "valid": _st({"w": W}, bytes(8)),
    "overlapping offsets": _st({"a": W, "b": W}, bytes(8)),
    "out-of-range offsets": _st({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}}, bytes(8)),
    "offsets past u64": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}}'),
    "gap before the first tensor": _st({"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)),
    "gap between tensors": _st({"a": W, "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}}, bytes(20)),
    "length does not match dtype x shape": _st({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
    "end before start": _st({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}, bytes(8)),
    "bytes after the data": _st({"w": W}, bytes(9)),
    "header length past EOF": struct.pack("<Q", 1000) + b'{"w": {}}',
    "header too large": struct.pack("<Q", 100_000_001) + b"{" + b" " * 64,
    "integer dtype": _st({"w": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
    "null dtype": _st({"w": {"dtype": None, "shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
    "lower-case dtype": _st({"w": {"dtype": "f32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
    "sub-byte dtype that fills bytes": _st({"w": {"dtype": "F4", "shape": [4], "data_offsets": [0, 2]}}, bytes(2)),
    "sub-byte dtype that does not": _st({"w": {"dtype": "F6_E2M3", "shape": [3], "data_offsets": [0, 2]}}, bytes(2)),
    "list __metadata__": _st({"__metadata__": [1], "w": W}, bytes(8)),
    "string __metadata__": _st({"__metadata__": "x", "w": W}, bytes(8)),
    "null __metadata__": _st({"__metadata__": None, "w": W}, bytes(8)),
    "integer __metadata__ value": _st({"__metadata__": {"a": 1}, "w": W}, bytes(8)),
    "Infinity in a shape": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","shape":[Infinity],"data_offsets":[0,8]}}'),
    "NaN in a shape": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","shape":[NaN],"data_offsets":[0,8]}}'),
    "float in a shape": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}'),
    "negative dimension": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}'),
    "boolean dimension": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}}'),
    "shape that overflows": _st({"w": {"dtype": "F32", "shape": [2**62, 8], "data_offsets": [0, 8]}}, bytes(8)),
    "three offsets": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}'),
    "object as shape": _st(None, b"", raw=b'{"w":{"dtype":"F32","shape":{},"data_offsets":[0,4]}}' + b""),
    "deeply nested JSON": _st(None, b"", raw=b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "nested 200 deep": _st(None, b"", raw=b'{"a":' + b"[" * 200 + b"]" * 200 + b"}"),
    "duplicate field": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}'),
    "duplicate tensor, the last wins": _st(None, bytes(8), raw=b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":' + json.dumps(W).encode() + b"}"),
    "duplicate tensor, the last is wrong": _st(None, bytes(8), raw=b'{"w":' + json.dumps(W).encode() + b',"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'),
    "missing field": _st({"w": {"dtype": "F32", "shape": [2]}}, bytes(8)),
    "extra field": _st({"w": dict(W, extra=1)}, bytes(8)),
    "entry as an array": _st({"w": ["F32", [2], [0, 8]]}, bytes(8)),
    "top level array": _st(None, b"", raw=b"[]" + b" "),
    "trailing characters": _st(None, bytes(8), raw=json.dumps({"w": W}).encode() + b"x"),
    "trailing spaces": _st(None, bytes(8), raw=json.dumps({"w": W}).encode() + b"   "),
    "invalid UTF-8": _st(None, bytes(8), raw=b'{"\xff":' + json.dumps(W).encode() + b"}"),
    "unpaired surrogate": _st(None, bytes(8), raw=b'{"\\ud800":' + json.dumps(W).encode() + b"}"),
    "empty header object": _st({}),
    "zero-size and scalar tensors": _st({"e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]},
                                         "s": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]}}, bytes(8)),
}


def _library_refuses(path) -> str | None:
    try:
        with safetensors.safe_open(str(path), "np") as handle:
            list(handle.keys())
            handle.metadata()
        return None
    except Exception as problem:
        return f"{type(problem).__name__}: {problem}"


def test_safetensors_verdict_agrees_with_the_library(real, tmp_path):
    paths = {}
    for label, blob in SAFETENSORS_CASES.items():
        path = tmp_path / (label.replace(" ", "_").replace(",", "") + ".safetensors")
        path.write_bytes(blob)
        paths[label] = path
    mutated = json.loads((real / "net.safetensors").read_bytes()[8: 8 + struct.unpack("<Q", (real / "net.safetensors").read_bytes()[:8])[0]])
    first = next(k for k in mutated if k != "__metadata__")
    real_data = (real / "net.safetensors").read_bytes()
    length = struct.unpack("<Q", real_data[:8])[0]
    for label, change in {
        "real file": lambda h: None,
        "real file, offsets shifted": lambda h: h[first]["data_offsets"].__setitem__(1, h[first]["data_offsets"][1] + 4),
        "real file, shape changed": lambda h: h[first]["shape"].__setitem__(0, h[first]["shape"][0] + 1),
        "real file, dtype changed": lambda h: h[first].__setitem__("dtype", "F16"),
    }.items():
        header = json.loads(real_data[8: 8 + length])
        change(header)
        path = tmp_path / (label.replace(" ", "_").replace(",", "") + ".safetensors")
        path.write_bytes(_st(header, real_data[8 + length:]))
        paths[label] = path
    runs = run_many([["ckpt", p.name] for p in paths.values()], tmp_path)
    disagree = []
    for (label, path), run in zip(paths.items(), runs):
        run.assert_no_traceback()
        refusal = _library_refuses(path)
        if refusal is None:  # dldoctor reads it too: a report (an empty file is a FAIL verdict on stdout), no error line
            if run.returncode not in (0, 1) or run.stderr or "verdict: " not in run.stdout:
                disagree.append((label, "library loads it", run.returncode, run.stderr.strip()))
        else:
            lines = run.stderr.strip().splitlines()
            ok = run.returncode == 1 and len(lines) == 1 and path.name in lines[0] and "safetensors" in lines[0]
            if not ok:
                disagree.append((label, refusal, run.returncode, run.stdout[-300:], run.stderr.strip()))
    assert not disagree, disagree
    refused = sum(_library_refuses(p) is not None for p in paths.values())
    assert refused >= 30 and len(paths) - refused >= 8  # both sides are exercised


def test_tf_shard_truncated_corrupt_or_not_a_file(real, tmp_path):
    def copy(name):
        directory = tmp_path / name
        directory.mkdir()
        for source in (real / "tf2").iterdir():
            shutil.copy(source, directory / source.name)
        return directory / "ckpt.data-00000-of-00001"

    shard_bytes = (real / "tf2" / "ckpt.data-00000-of-00001").read_bytes()
    copy("cut").write_bytes(shard_bytes[: len(shard_bytes) // 2])
    copy("cut1").write_bytes(shard_bytes[:-1])
    copy("zeroed").write_bytes(bytes(len(shard_bytes)))
    zero = copy("devzero")
    zero.unlink()
    zero.symlink_to("/dev/zero")
    fifo = copy("fifo")
    fifo.unlink()
    os.mkfifo(fifo)
    copy("intact")
    runs = dict(zip(["cut", "cut1", "zeroed", "devzero", "fifo", "intact"],
                    run_many([["ckpt", f"{n}/ckpt"] for n in ["cut", "cut1", "zeroed", "devzero", "fifo", "intact"]], tmp_path, timeout=120)))
    _verdict_line(runs["cut"], "cut/ckpt: truncated")
    _verdict_line(runs["cut1"], "cut1/ckpt")
    _verdict_line(runs["zeroed"], "zeroed/ckpt: truncated or corrupt data shard")
    _verdict_line(runs["devzero"], "a character device (through a symbolic link), not a regular file: refused")
    _verdict_line(runs["fifo"], "a named pipe (fifo), not a regular file: refused")
    assert runs["intact"].returncode == 0, runs["intact"].stderr


# -- 4. names, paths and metadata from the file ------------------------------------------------

FAKE = "\x1b[2K\rverdict: OK: fake"


def test_control_characters_in_names_are_escaped(real, tmp_path):
    from safetensors.torch import save_file

    tensors = {FAKE: torch.zeros(2), "a\nverdict: OK: also fake": torch.zeros(3), "bidi\u202eKO :tcidrev": torch.zeros(1)}
    save_file(tensors, str(tmp_path / "names.safetensors"), metadata={"note": "line1\nverdict: OK: meta\x07"})
    torch.save(tensors, tmp_path / "names.pt")
    (tmp_path / "other.safetensors").write_bytes((real / "net.safetensors").read_bytes())
    runs = run_many([["ckpt", "names.safetensors"], ["ckpt", "names.pt"], ["ckpt", "names.safetensors", "--against", "other.safetensors"],
                     ["ckpt", "names.safetensors", "--json"]], tmp_path)
    for run in runs[:3]:
        run.assert_no_traceback()
        for char in "\x1b\r\x07\u202e":
            assert char not in run.stdout + run.stderr
        verdicts = [line for line in run.lines if line.startswith("verdict:")]
        assert len(verdicts) == 1 and not verdicts[0].startswith("verdict: OK: fake"), run.stdout
        assert not any(line.startswith(("verdict: OK: also", "KO :tcidrev")) for line in run.lines)
        assert "\\x1b[2K\\rverdict: OK: fake" in run.stdout
    assert runs[2].returncode == 1
    assert FAKE in {e["name"] for s in runs[3].json()["facts"]["inventory"]["scopes"] for e in s["entries"]}


def test_state_file_pointing_outside_the_dir_is_refused(real, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET root:x:0:0\n" * 10)
    (tmp_path / "secret.txt.index").write_text("TOPSECRET")
    cases = {"absolute": str(secret), "dotdot": "../secret.txt", "etc": "/etc/shadow", "escape": "../../x\x1b[31m"}
    argvs = []
    for number, written in enumerate(cases.values()):
        train = tmp_path / f"train-{number}"
        train.mkdir()
        shutil.copy(real / "net.pt", train / "net.pt")
        (train / "checkpoint").write_text(f"model_checkpoint_path: {json.dumps(written)}\n")
        argvs.append(["ckpt", train.name])
    # a link inside the dir to a file outside it
    linked = tmp_path / "train-link"
    linked.mkdir()
    (linked / "model.ckpt-1.index").symlink_to(tmp_path / "secret.txt.index")
    (linked / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-1"\n')
    argvs.append(["ckpt", linked.name])
    # the same-named checkpoint inside the dir is still found (a train dir copied from elsewhere)
    moved = tmp_path / "train-moved"
    moved.mkdir()
    shutil.copy(real / "net.pt", moved / "net.pt")
    (moved / "checkpoint").write_text(f'model_checkpoint_path: "{real / "net.pt"}"\n')
    argvs.append(["ckpt", moved.name])
    runs = run_many(argvs, tmp_path)
    for run in runs[:-1]:
        _verdict_line(run, "outside the train dir", "refused")
        assert "TOPSECRET" not in run.stdout + run.stderr and "root:x" not in run.stderr
        assert "\x1b" not in run.stderr
    assert runs[-1].returncode == 0, runs[-1].stderr
    assert "is outside the dir; found net.pt in the dir" in runs[-1].stdout


def test_long_metadata_is_clipped(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "meta.safetensors"), metadata={"blob": "A" * (5 << 20), "small": "ok"})
    run = run_many([["ckpt", "meta.safetensors"]], tmp_path)[0]
    run.assert_no_traceback()
    assert run.returncode == 0
    assert len(run.stdout) < 20_000
    assert "more characters not shown" in run.stdout and "small=ok" in run.stdout


# -- 5. regular files only ------------------------------------------------------------------------


def test_fifo_and_devices_do_not_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.pt")
    (tmp_path / "zero.pt").symlink_to("/dev/zero")
    (tmp_path / "tf.index").symlink_to("/dev/zero")
    (tmp_path / "tf.data-00000-of-00001").write_bytes(b"x")
    train = tmp_path / "train"
    train.mkdir()
    os.mkfifo(train / "checkpoint")
    runs = run_many([["ckpt", "pipe.pt"], ["ckpt", "/dev/zero"], ["ckpt", "zero.pt"], ["ckpt", "tf"], ["ckpt", "train"]], tmp_path, timeout=120)
    _verdict_line(runs[0], "pipe.pt: a named pipe (fifo), not a regular file: refused")
    _verdict_line(runs[1], "/dev/zero: a character device, not a regular file: refused")
    _verdict_line(runs[2], "zero.pt: a character device (through a symbolic link)")
    _verdict_line(runs[3], "tf.index: a character device (through a symbolic link)")
    runs[4].assert_no_traceback()
    assert runs[4].returncode in (1, 2)


def test_a_newest_file_linked_out_of_the_train_dir_is_not_read(real, tmp_path):
    (tmp_path / "outside.pt").write_bytes(b"TOPSECRET-BYTES" * 100)
    train = tmp_path / "train"
    train.mkdir()
    shutil.copy(real / "net.pt", train / "model-1.pt")
    (train / "model-2.pt").symlink_to(tmp_path / "outside.pt")  # newer by step, and by mtime
    [run] = run_many([["ckpt", "train"]], tmp_path)
    assert "TOPSECRET" not in run.stdout + run.stderr
    assert run.returncode == 0, run.stdout + run.stderr
    assert "model-1.pt" in run.stdout
