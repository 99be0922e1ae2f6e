"""The model-file scanner: every published picklescan bypass class, built for real, caught, and never run.

Every malicious file here would create a marker file when loaded (`touch MARKER`); each
test asserts the marker never appears. The scan reads opcodes and configs only.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import struct
import sys
import tarfile
import zipfile
import zlib

import pytest

from conftest import clean_env, run_dldoctor
from dldoctor.probes.ckpt import containers, pickle_scan
from dldoctor.probes.ckpt.torch_allowlist import WEIGHTS_ONLY_GLOBALS

SYSTEM = f"{os.system.__module__}.system"  # posix.system


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _str(text: str) -> bytes:  # SHORT_BINUNICODE
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def _unsafe(data: bytes) -> list[str]:
    report = containers.scan_bytes(data)
    names = [h.name for h in report.unsafe()] + [f"<problem {p}>" for p in report.problems]
    return list(dict.fromkeys(names))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PAYLOAD_RAN"
    yield path
    assert not path.exists(), "the scan ran the payload"


# -- the allow-list is torch's, exactly -------------------------------------------------------


def test_allowlist_matches_installed_torch():
    wo = pytest.importorskip("torch._weights_only_unpickler")
    assert WEIGHTS_ONLY_GLOBALS == frozenset(wo._get_allowed_globals())


# -- opcode edge cases (handcrafted bytes) ----------------------------------------------------------


def _cases(m):
    touch = f"touch {m}".encode()
    arg = b"X" + struct.pack("<I", len(touch)) + touch
    return {
        "protocol0-text": b"cposix\nsystem\n(S'touch " + str(m).encode() + b"'\ntR.",
        "protocol1-inst": b"(S'touch " + str(m).encode() + b"'\nios\nsystem\n.",
        "py2-builtin-name": b"c__builtin__\neval\n(S'1'\ntR.",
        "stack-global-memoize-get": b"\x80\x04" + _str("os") + b"\x94" + _str("system") + b"\x94h\x00h\x01\x93" + arg + b"\x85R.",
        "stack-global-binput-binget": b"\x80\x02" + _str("posix") + b"q\x05" + _str("nothing") + b"0h\x05" + _str("system") + b"\x93" + arg + b"\x85R.",
        "stack-global-dup": b"\x80\x04" + _str("subprocess") + b"2" + b"0" + _str("getoutput") + b"\x93" + arg + b"\x85R.",
        "stack-global-behind-mark": b"\x80\x04(" + _str("runpy") + _str("_run_code") + b"\x93" + b"1" + b"N.",
        "stack-global-non-literal": b"\x80\x04" + b"K\x01" + _str("system") + b"\x93" + arg + b"\x85R.",
        "ext1": b"\x80\x02\x82\x01" + arg + b"\x85R.",
        "ext2": b"\x80\x02\x83\x01\x02" + arg + b"\x85R.",
        "ext4": b"\x80\x02\x84\x01\x02\x03\x04" + arg + b"\x85R.",
        "binpersid-shifts-stack": b"\x80\x02" + _str("os") + _str("pid") + b"Q" + _str("system") + b"\x93" + arg + b"\x85R.",
        "persid": b"\x80\x02" + b"Pstorage\n" + b"0" + b"cos\nsystem\n" + arg + b"\x85R.",
        "obj": b"\x80\x02(cbuiltins\nexec\n" + arg + b"o.",
        "newobj": b"\x80\x02cos\n_wrap_close\n" + b")\x81.",
        "newobj-ex": b"\x80\x04" + _str("builtins") + _str("getattr") + b"\x93" + b")}\x92.",
        "build-setstate": b"\x80\x02ctimeit\nTimer\n)\x81}b.",
        "after-stop-second-pickle": b"\x80\x02}." + b"\x80\x02cos\nsystem\n" + arg + b"\x85R.",
        "truncated-after-reduce": b"\x80\x02cos\nsystem\n" + arg + b"\x85R" + b"\xff\xfe garbage",
        "frame-proto5": b"\x80\x05\x95\x20\x00\x00\x00\x00\x00\x00\x00" + _str("os") + _str("system") + b"\x93" + arg + b"\x85R.",
    }


@pytest.mark.parametrize("case", list(_cases("M")))
def test_opcode_edge_cases_are_caught(case, marker):
    data = _cases(marker)[case]
    found = _unsafe(data)
    assert found, case
    assert all(not pickle_scan.allowed(n) for n in found if not n.startswith("<problem"))


def test_stack_global_names_resolve_through_memo():
    assert pickle_scan.scan(_cases("M")["stack-global-memoize-get"]).globals == ["os.system"]
    assert pickle_scan.scan(_cases("M")["stack-global-binput-binget"]).globals == ["posix.system"]
    assert "builtins.eval" in pickle_scan.scan(_cases("M")["py2-builtin-name"]).globals
    assert pickle_scan.scan(_cases("M")["stack-global-non-literal"]).globals == [pickle_scan.UNRESOLVED]


# -- submodule-name gaps: flagged by name because they are off the allow-list ---------------------------

GAPS = [
    ("torch.serialization", "load"), ("torch", "load"), ("torch.hub", "load"), ("pip", "main"), ("pip._internal", "main"),
    ("timeit", "timeit"), ("numpy.f2py", "compile"), ("numpy.testing._private.utils", "runstring"), ("functools", "partial"),
    ("pydoc", "pipepager"), ("_operator", "attrgetter"), ("operator", "methodcaller"), ("io", "FileIO"), ("_io", "FileIO"),
    ("logging", "config.listen"), ("code", "InteractiveInterpreter.runcode"), ("builtins", "getattr"), ("torch._utils", "_rebuild_tensor_v2.__globals__"),
    ("collections", "OrderedDict.fromkeys"), ("asyncio.unix_events", "_UnixSubprocessTransport._start"), ("cProfile", "run"),
]


@pytest.mark.parametrize("module, name", GAPS, ids=[f"{m}.{n}" for m, n in GAPS])
@pytest.mark.parametrize("protocol", [0, 4])
def test_submodule_name_gaps(module, name, protocol):
    if protocol == 0:
        data = f"c{module}\n{name}\n(S'x'\ntR.".encode()
    else:
        data = b"\x80\x04" + _str(module) + _str(name) + b"\x93" + _str("x") + b"\x85R."
    assert _unsafe(data) == [f"{module}.{name}"]


def test_allowed_globals_pass_and_near_misses_fail():
    assert _unsafe(b"\x80\x02ccollections\nOrderedDict\n)R.") == []
    assert _unsafe(b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n)R.") == []
    assert _unsafe(b"\x80\x02ccollections\ndefaultdict\n)R.") == ["collections.defaultdict"]


# -- containers and compression ------------------------------------------------------------------------


def _zip(members: dict, **kw) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", kw.get("compression", zipfile.ZIP_DEFLATED)) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_npz_and_npy_object_arrays(marker, tmp_path):
    np = pytest.importorskip("numpy")
    evil = np.array([Payload(marker)], dtype=object)
    np.savez(tmp_path / "evil.npz", weights=np.zeros(3), extra=evil)
    np.save(tmp_path / "evil.npy", evil, allow_pickle=True)
    np.savez_compressed(tmp_path / "ok.npz", w=np.ones((2, 3), dtype=np.float32))
    assert SYSTEM in [h.name for h in containers.scan_path(tmp_path / "evil.npz").unsafe()]
    assert SYSTEM in [h.name for h in containers.scan_path(tmp_path / "evil.npy").unsafe()]
    ok = containers.scan_path(tmp_path / "ok.npz")
    assert ok.unsafe() == [] and ok.npy == {"w.npy": ((2, 3), "<f4")}


@pytest.mark.parametrize("wrap", ["zlib", "gzip", "bz2", "lzma", "xz", "zip-in-zip", "tar", "tar.gz", "zip-in-tar-in-gzip"])
def test_compressed_and_nested_containers(wrap, marker):
    inner = pickle.dumps({"w": [1.0], "x": Payload(marker)}, protocol=4)
    data = {
        "zlib": lambda: zlib.compress(inner), "gzip": lambda: gzip.compress(inner), "bz2": lambda: bz2.compress(inner),
        "lzma": lambda: lzma.compress(inner, format=lzma.FORMAT_ALONE), "xz": lambda: lzma.compress(inner),
        "zip-in-zip": lambda: _zip({"outer/inner.zip": _zip({"model.bin": inner})}),
        "tar": lambda: _tar({"a/model.pkl": inner}), "tar.gz": lambda: gzip.compress(_tar({"model.joblib": inner})),
        "zip-in-tar-in-gzip": lambda: gzip.compress(_tar({"x.zip": _zip({"deep/evil.txt": inner})})),
    }[wrap]()
    assert _unsafe(data) == [SYSTEM]
    assert _unsafe(zlib.compress(pickle.dumps({"w": [1.0]}))) == []


def _tar(members: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_zip_bomb_and_depth_bomb_are_bounded(monkeypatch):
    monkeypatch.setattr(containers, "MAX_INFLATED", 4 * 1024 * 1024)
    bomb = _zip({"big.pkl": b"\x80\x02" + b"N" * (20 * 1024 * 1024) + b"."})
    report = containers.scan_bytes(bomb)
    assert report.problems and report.inflated <= 5 * 1024 * 1024
    deep = pickle.dumps(1)
    for level in range(containers.MAX_DEPTH + 3):
        deep = _zip({f"l{level}.zip": deep})
    assert any("nested deeper" in p for p in containers.scan_bytes(deep).problems)
    assert any("inflates" in p or "inflated" in p for p in containers.scan_bytes(gzip.compress(b"\x00" * (8 * 1024 * 1024))).problems)


# -- ZIP tricks on real torch checkpoints ------------------------------------------------------------


def _torch_zip(tmp_path, obj, name="m.pt"):
    torch = pytest.importorskip("torch")
    torch.save(obj, tmp_path / name)
    return (tmp_path / name).read_bytes()


def _patch_local_and_central(data: bytes, member_suffix: bytes, patch) -> bytes:
    out = bytearray(data)
    for signature, size in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            nlen = struct.unpack("<H", out[start + (26 if size == 30 else 28): start + (28 if size == 30 else 30)])[0]
            name = bytes(out[start + size: start + size + nlen])
            if name.endswith(member_suffix):
                patch(out, start, size)
            start += 4
    return bytes(out)


def test_bad_crc_torch_still_loads_is_scanned(tmp_path, marker):
    torch = pytest.importorskip("torch")
    evil = _torch_zip(tmp_path, {"w": torch.zeros(2), "x": Payload(marker)})
    ok = _torch_zip(tmp_path, {"w": torch.zeros(2)}, "ok.pt")

    def bad_crc(out, start, size):
        offset = start + (14 if size == 30 else 16)
        out[offset:offset + 4] = b"\xde\xad\xbe\xef"

    (tmp_path / "crc.pt").write_bytes(_patch_local_and_central(ok, b"data.pkl", bad_crc))
    assert torch.load(tmp_path / "crc.pt", weights_only=True)["w"].shape == (2,)  # torch ignores the CRC
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(tmp_path / "crc.pt").read(next(n for n in zipfile.ZipFile(tmp_path / "crc.pt").namelist() if n.endswith("data.pkl")))
    assert containers.scan_path(tmp_path / "crc.pt").unsafe() == []
    run = run_dldoctor("ckpt", "crc.pt", cwd=tmp_path)
    assert run.returncode == 0 and run.lines[-1].startswith("verdict: OK"), run.stdout + run.stderr
    (tmp_path / "evilcrc.pt").write_bytes(_patch_local_and_central(evil, b"data.pkl", bad_crc))
    assert [h.name for h in containers.scan_path(tmp_path / "evilcrc.pt").unsafe()] == [SYSTEM]


def test_zip_flag_and_directory_tricks(tmp_path, marker):
    evil = pickle.dumps({"x": Payload(marker)}, protocol=2)

    def encrypted(out, start, size):
        offset = start + (6 if size == 30 else 8)
        out[offset] |= 0x01

    flagged = _patch_local_and_central(_zip({"archive/data.pkl": evil}), b"data.pkl", encrypted)
    with pytest.raises(RuntimeError):
        zipfile.ZipFile(io.BytesIO(flagged)).read("archive/data.pkl")  # zipfile refuses: "encrypted"
    assert _unsafe(flagged) == [SYSTEM]

    def rename_local(out, start, size):
        if size == 30:
            out[start + 30: start + 30 + 3] = b"zzz"

    renamed = _patch_local_and_central(_zip({"archive/data.pkl": evil}), b"data.pkl", rename_local)
    assert _unsafe(renamed) == [SYSTEM]
    # a local entry the central directory does not list (some loaders walk local headers)
    benign = _zip({"a/data.pkl": pickle.dumps({"w": 1})})
    hidden = _zip({"h/evil.pkl": evil}).split(b"PK\x01\x02")[0]
    assert _unsafe(hidden + benign) == [SYSTEM]


def test_polyglots_and_7z(tmp_path, marker):
    evil = pickle.dumps(Payload(marker), protocol=2)
    benign_zip = _zip({"archive/data.pkl": pickle.dumps({"w": 1}, protocol=2)})
    assert zipfile.is_zipfile(io.BytesIO(evil + benign_zip))  # zip readers see a harmless archive...
    assert _unsafe(evil + benign_zip) == [SYSTEM]  # ...pickle.load sees the payload
    (tmp_path / "model.7z").write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 40)
    run = run_dldoctor("ckpt", "model.7z", cwd=tmp_path)
    run.assert_no_traceback()
    assert run.returncode == 1 and "7z" in run.stdout and "OK" not in run.lines[-1]


# -- the CLI: verdicts, speed, no torch import ----------------------------------------------------------------


def _in_process(tmp_path, *argv):
    code = (
        f"import sys\nsys.argv = ['dldoctor', 'ckpt', *{list(argv)!r}]\n"
        "from dldoctor.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code\n"
        "print('@@', status, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'keras')))\n"
    )
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), cwd=tmp_path, timeout=60)
    head, _, tail = done.stdout.rpartition("@@")
    status, _, modules = tail.strip().partition(" ")
    assert "Traceback" not in done.stderr, done.stderr
    return int(status), head, modules


@pytest.mark.parametrize("name, content, code, needle", [
    ("evil.pt", "proto0", 1, f"needs the globals {SYSTEM}"),
    ("weights.txt", "proto1", 1, f"needs the globals {SYSTEM}"),
    ("data.pkl", "benign", 0, "verdict: OK: safe to load"),
    ("model.joblib", "joblib-zlib", 1, f"needs the globals {SYSTEM}"),
    ("arrays.npz", "npz", 0, "verdict: OK"),
])
def test_cli_verdicts_without_torch(tmp_path, marker, name, content, code, needle):
    data = {
        "proto0": pickle.dumps(Payload(marker), protocol=0),
        "proto1": pickle.dumps(Payload(marker), protocol=1),
        "benign": pickle.dumps({"lr": 0.1, "layers": [1, 2, {3}]}, protocol=5),
        "joblib-zlib": zlib.compress(pickle.dumps({"x": Payload(marker)}, protocol=4)),
        "npz": _zip({"w.npy": b"\x93NUMPY\x01\x00v\x00" + b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }".ljust(117) + b"\n" + b"\x00" * 16}),
    }[content]
    (tmp_path / name).write_bytes(data)
    status, out, modules = _in_process(tmp_path, name)
    assert status == code, out
    assert needle in out, out
    assert modules == "[]", f"the scan imported {modules}"
    assert len([line for line in out.splitlines() if line.startswith("verdict:")]) == 1


def test_allow_global_option(tmp_path):
    (tmp_path / "m.pkl").write_bytes(b"\x80\x02ccollections\ndefaultdict\n)R.")
    assert run_dldoctor("ckpt", "m.pkl", cwd=tmp_path).returncode == 1
    run = run_dldoctor("ckpt", "m.pkl", "--allow-global", "collections.defaultdict", cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    refused = run_dldoctor("ckpt", "m.pkl", "--allow-global", "os.system", cwd=tmp_path)
    assert refused.returncode == 2 and "never allows" in refused.stderr


def test_torch_legacy_payload_scanned_without_torch(tmp_path, marker):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.zeros(3), "x": Payload(marker)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    status, out, modules = _in_process(tmp_path, "legacy.pt")
    assert status == 1 and f"needs the globals {SYSTEM}" in out and modules == "[]"


# -- Keras Lambda layers ---------------------------------------------------------------------------------


def test_keras_lambda_layers_are_reported(tmp_path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Lambda(lambda x: x * 2, name="double")])
    model.save(tmp_path / "lam.keras")
    model.save(tmp_path / "lam.h5")
    for name in ("lam.keras", "lam.h5"):
        hits = containers.scan_path(tmp_path / name).unsafe()
        assert len(hits) == 1 and hits[0].name.startswith("Keras Lambda layer 'double' (") and "bytecode" in hits[0].name
        run = run_dldoctor("ckpt", name, cwd=tmp_path)
        run.assert_no_traceback()
        assert run.returncode == 1 and "Lambda layer 'double'" in run.stdout and "safe_mode=False" in run.stdout
        assert run.lines[-1] == "verdict: FAIL: UNSAFE to load: the model runs Python code when loaded"
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    plain.save(tmp_path / "plain.keras")
    assert containers.scan_path(tmp_path / "plain.keras").unsafe() == []
