r"""dldoctor's model-file scan next to picklescan, fickling and modelscan, on one generated set.

    .venv/bin/python benchmarks/scanner_vs_peers.py [--keep DIR]

Peers come from their own venv (git-ignored):

    python3 -m venv benchmarks/.peers-venv && benchmarks/.peers-venv/bin/pip install picklescan==1.0.5 fickling==0.1.12 modelscan==0.8.8

Every malicious file would run `touch MARKER` when loaded; the script checks no marker
appears. A file counts as flagged when the tool says it is unsafe (dldoctor: the
"UNSAFE"/not-OK verdict with exit 1; picklescan: exit 1; fickling --check-safety: exit
non-zero; modelscan: exit 1). Time is the whole run over the set, start-up included.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import lzma
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / ".peers-venv" / "bin"


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _s(text):
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def build(directory: Path, marker: str) -> dict:
    """name -> malicious? ; files written into directory."""
    import numpy as np
    import torch

    touch = f"touch {marker}".encode()
    arg = b"X" + struct.pack("<I", len(touch)) + touch
    evil2 = pickle.dumps({"w": [1.0], "x": Payload(marker)}, protocol=2)
    evil4 = pickle.dumps({"w": [1.0], "x": Payload(marker)}, protocol=4)
    files: dict = {}

    def put(name, data, bad):
        (directory / name).write_bytes(data)
        files[name] = bad

    torch.save({"w": torch.zeros(4)}, directory / "ok_state_dict.pt"); files["ok_state_dict.pt"] = False
    torch.save({"w": torch.zeros(4)}, directory / "ok_legacy.pt", _use_new_zipfile_serialization=False); files["ok_legacy.pt"] = False
    put("ok_plain.pkl", pickle.dumps({"lr": 0.1, "sizes": [1, 2]}, protocol=4), False)
    np.savez(directory / "ok_arrays.npz", w=np.zeros(3))
    files["ok_arrays.npz"] = False
    np.save(directory / "ok_array.npy", np.ones((2, 2)))
    files["ok_array.npy"] = False
    put("ok_zlib.joblib", zlib.compress(pickle.dumps({"a": 1})), False)
    header = b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}'
    put("ok.safetensors", len(header).to_bytes(8, "little") + header + b"\x00" * 8, False)

    torch.save({"w": torch.zeros(2), "x": Payload(marker)}, directory / "evil_zip.pt"); files["evil_zip.pt"] = True
    torch.save({"w": torch.zeros(2), "x": Payload(marker)}, directory / "evil_legacy.pt", _use_new_zipfile_serialization=False); files["evil_legacy.pt"] = True
    put("evil_proto0.pkl", pickle.dumps(Payload(marker), protocol=0), True)
    put("evil_proto1.bin", pickle.dumps(Payload(marker), protocol=1), True)
    put("evil_wrong_ext.txt", evil2, True)
    put("evil_memo_stack_global.pkl", b"\x80\x04" + _s("os") + b"\x94" + _s("system") + b"\x94h\x00h\x01\x93" + arg + b"\x85R.", True)
    put("evil_ext_code.pkl", b"\x80\x02\x82\x01" + arg + b"\x85R.", True)
    put("evil_torch_load.pkl", b"\x80\x02ctorch.serialization\nload\n" + _s("x.pt") + b"\x85R.", True)
    put("evil_pip.pkl", b"\x80\x02cpip\nmain\n" + arg + b"\x85R.", True)
    put("evil_timeit.pkl", b"\x80\x02ctimeit\ntimeit\n" + arg + b"\x85R.", True)
    put("evil_f2py.pkl", b"\x80\x02cnumpy.f2py\ncompile\n" + arg + b"\x85R.", True)
    put("evil_partial.pkl", b"\x80\x02cfunctools\npartial\ncos\nsystem\n" + arg + b"\x86R)R.", True)
    put("evil_pydoc.pkl", b"\x80\x02cpydoc\npipepager\n" + _s("x") + _s("id") + b"\x86R.", True)
    put("evil_operator.pkl", b"\x80\x02c_operator\nattrgetter\n" + _s("system") + b"\x85R.", True)
    put("evil_fileio.pkl", b"\x80\x02cio\nFileIO\n" + _s("/etc/passwd") + b"\x85R.", True)
    put("evil_logging.pkl", b"\x80\x02clogging.config\nlisten\n)R.", True)
    obj = np.array([Payload(marker)], dtype=object)
    np.savez(directory / "evil_member.npz", w=np.zeros(2), x=obj); files["evil_member.npz"] = True
    np.save(directory / "evil_object.npy", obj, allow_pickle=True); files["evil_object.npy"] = True
    put("evil_zlib.joblib", zlib.compress(evil4), True)
    put("evil_gzip.joblib", gzip.compress(evil4), True)
    put("evil_lzma.joblib", lzma.compress(evil4, format=lzma.FORMAT_ALONE), True)
    put("evil_bz2.joblib", bz2.compress(evil4), True)
    put("evil_nested.zip", _zip({"outer/inner.zip": _zip({"archive/data.pkl": evil2})}), True)
    put("evil_tar.tar", _tar({"model/pickle": evil2}), True)
    put("evil_polyglot.pt", evil2 + _zip({"archive/data.pkl": pickle.dumps({"w": 1}, protocol=2)}), True)
    flagged = bytearray(_zip({"archive/data.pkl": evil2}))
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = flagged.find(sig)
        flagged[at + off] |= 0x01  # "encrypted" flag: zipfile refuses, torch ignores
    put("evil_zip_flag.pt", bytes(flagged), True)
    crc = bytearray((directory / "evil_zip.pt").read_bytes())
    for sig, off in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        at = crc.find(sig)
        crc[at + off: at + off + 4] = b"\xde\xad\xbe\xef"
    put("evil_bad_crc.pt", bytes(crc), True)
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras

        model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2, name="double")])
        model.save(directory / "evil_lambda.keras"); files["evil_lambda.keras"] = True
        model.save(directory / "evil_lambda.h5"); files["evil_lambda.h5"] = True
        plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        plain.save(directory / "ok_model.keras"); files["ok_model.keras"] = False
    except Exception as problem:
        print(f"(keras files skipped: {problem})", file=sys.stderr)
    return files


def _run(command, cwd):
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


def tools():
    found = {"dldoctor": lambda f, d: _run([str(ROOT / ".venv" / "bin" / "dldoctor"), "ckpt", f], d)[0] == 1}
    if (PEERS / "picklescan").exists():
        found["picklescan"] = lambda f, d: _run([str(PEERS / "picklescan"), "-p", f], d)[0] == 1
    if (PEERS / "fickling").exists():
        found["fickling"] = lambda f, d: _run([str(PEERS / "fickling"), "--check-safety", f], d)[0] != 0
    if (PEERS / "modelscan").exists():
        found["modelscan"] = lambda f, d: _run([str(PEERS / "modelscan"), "-p", f], d)[0] == 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", help="write the files here and keep them")
    args = parser.parse_args()
    directory = Path(args.keep or tempfile.mkdtemp(prefix="scanbench-"))
    directory.mkdir(parents=True, exist_ok=True)
    marker = str(directory / "PAYLOAD_RAN")
    files = build(directory, marker)
    rows = []
    verdicts: dict = {}
    for name, flags in tools().items():
        start = time.perf_counter()
        results = {f: flags(f, directory) for f in sorted(files)}
        seconds = time.perf_counter() - start
        verdicts[name] = results
        caught = sum(1 for f, bad in files.items() if bad and results[f])
        missed = sorted(f for f, bad in files.items() if bad and not results[f])
        false = sorted(f for f, bad in files.items() if not bad and results[f])
        rows.append((name, caught, len(missed), len(false), seconds, missed, false))
    bad_total = sum(files.values())
    print(f"{len(files)} files: {bad_total} malicious, {len(files) - bad_total} benign\n")
    print("| tool | caught | missed | false alarms | seconds |")
    print("|---|---|---|---|---|")
    for name, caught, missed, false, seconds, *_ in rows:
        print(f"| {name} | {caught}/{bad_total} | {missed} | {false} | {seconds:.2f} |")
    print()
    for name, _, _, _, _, missed, false in rows:
        print(f"- {name}: missed {', '.join(missed) or 'none'}; false alarms {', '.join(false) or 'none'}")
    ours = verdicts["dldoctor"]
    gaps = sorted({f for peer, results in verdicts.items() for f, hit in results.items() if hit and files[f] and not ours[f]})
    if gaps:
        print(f"\ndldoctor misses files a peer catches: {', '.join(gaps)}")
    if os.path.exists(marker):
        print("\nA PAYLOAD RAN (marker file exists)")
        return 1
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
