"""Read speed and peak memory of `dldoctor logs` against TensorBoard's `EventAccumulator`, same file, same run.

    python benchmarks/logs/read_speed.py [--events 2000000] [--tags 4] [--keep FILE]

Writes one event file of `--events` scalar events spread over `--tags` tags (TFRecord
frames of the `tensorboard` package's `Event` protos with masked CRC32C, the format every
writer produces; written directly because `tf.summary` would take far longer), then reads
it three ways, each in its own process so that its peak memory is its own:

- `reader`: the probe's own reading function, `dldoctor.probes.logs.curves.read` (its fast path:
  chunks of the file as NumPy arrays, records decoded from templates);
- `proto`: the same with `fast=False`, every record parsed by the `tensorboard` protos (the
  reference the fast path is tested against);
- `command`: the whole `dldoctor logs FILE --json` command (reading, diagnoses, report);
- `accumulator`: `EventAccumulator(path, size_guidance={"scalars": 0}).Reload()`
  (0: keep every point, as the probe does, instead of a 10,000-point reservoir sample),
  timed after TensorFlow (which TensorBoard loads lazily for its record reader) is
  imported, and as a whole process with that import.

Prints events/s, the ratio to the accumulator, and each process's peak resident memory
(`ru_maxrss` of that child) and its resident memory before reading (imports only).
A benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def write_event_file(path: str, events: int, tags: int) -> None:
    """`events` scalar events (one value each) over `tags` tags, step = index // tags, after a file_version event."""
    from tensorboard.compat.proto import event_pb2, summary_pb2

    from dldoctor.probes.logs.events import masked_crc32c

    pack_length = struct.Struct("<Q").pack
    pack_crc = struct.Struct("<I").pack
    names = [f"Loss/train_{i}" if i else "Loss/train" for i in range(tags)]

    def frame(payload: bytes) -> bytes:
        header = pack_length(len(payload))
        return header + pack_crc(masked_crc32c(header)) + payload + pack_crc(masked_crc32c(payload))

    with open(path, "wb") as handle:
        handle.write(frame(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString()))
        chunk = []
        for index in range(events):
            step, tag = divmod(index, tags)
            value = 2.0 * math.exp(-step / 200_000) + 0.05 * math.sin(index)  # a falling, noisy loss
            event = event_pb2.Event(wall_time=1.7e9 + step * 0.01, step=step,
                                    summary=summary_pb2.Summary(
                                        value=[summary_pb2.Summary.Value(tag=names[tag], simple_value=value)]))
            chunk.append(frame(event.SerializeToString()))
            if len(chunk) == 10_000:
                handle.write(b"".join(chunk))
                chunk.clear()
        handle.write(b"".join(chunk))


def _resident_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def child(mode: str, path: str) -> None:
    """Read `path` one way in this process and print {"seconds", "points", "rss_before_kib"} as JSON."""
    if mode in ("reader", "proto"):
        from dldoctor.probes.logs import curves

        before = _resident_kib("VmRSS")
        started = time.perf_counter()
        logs = curves.read([path], fast=mode == "reader")
        seconds = time.perf_counter() - started
        points = sum(len(s) for s in logs.series.values())
    elif mode == "accumulator":
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        from tensorboard.compat import tf

        _ = tf.io  # TensorBoard loads TensorFlow (its record reader) lazily: outside the timed part, as in a server
        before = _resident_kib("VmRSS")
        started = time.perf_counter()
        accumulator = EventAccumulator(path, size_guidance={"scalars": 0})
        accumulator.Reload()
        seconds = time.perf_counter() - started
        points = sum(len(accumulator.Scalars(tag)) for tag in accumulator.Tags()["scalars"])
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps({"seconds": seconds, "points": points, "rss_before_kib": before}))


def measure(argv: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak resident KiB, stdout) of one child process, its own rusage from wait4."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)}: exit {process.returncode}: {err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss, out.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--tags", type=int, default=4)
    parser.add_argument("--keep", help="write the event file here (and reuse it when it exists)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    workdir = tempfile.mkdtemp(prefix="dldoctor-read-speed-")
    path = args.keep or os.path.join(workdir, "events.out.tfevents.1700000000.bench")
    if not os.path.exists(path):
        started = time.perf_counter()
        write_event_file(path, args.events, args.tags)
        print(f"wrote {args.events:,} events over {args.tags} tags, {os.path.getsize(path) / 2**20:.0f} MiB, "
              f"in {time.perf_counter() - started:.1f} s: {path}")
    events = args.events + 1  # and the file_version event
    me = [sys.executable, os.path.abspath(__file__), "--child"]
    results = {}
    for mode in ("reader", "proto", "accumulator"):
        wall, peak, out = measure(me + [mode, path])
        document = json.loads(out)
        results[mode] = dict(document, wall=wall, peak_kib=peak)
    wall, peak, out = measure([sys.executable, "-m", "dldoctor", "logs", path, "--json"])
    document = json.loads(out)
    results["command"] = {"seconds": document["facts"]["seconds"], "wall": wall, "peak_kib": peak,
                          "points": sum(s["points"] for s in document["facts"]["series"]), "rss_before_kib": None}
    baseline = results["accumulator"]["seconds"]
    peak_baseline = results["accumulator"]["peak_kib"]
    print(f"{'':<36}{'seconds':>9}{'events/s':>12}{'vs EA':>8}{'points':>11}{'peak MiB':>10}{'EA/peak':>9}"
          f"{'imports MiB':>13}")
    rows = [("dldoctor reader (curves.read)", "reader", "seconds"),
            ("dldoctor proto path (fast=False)", "proto", "seconds"),
            ("dldoctor logs --json (whole process)", "command", "wall"),
            ("EventAccumulator(scalars=0).Reload", "accumulator", "seconds"),
            ("EventAccumulator (whole process)", "accumulator", "wall")]
    for title, mode, which in rows:
        r = results[mode]
        seconds = r[which]
        before = f"{r['rss_before_kib'] / 1024:.0f}" if r["rss_before_kib"] else "-"
        print(f"{title:<36}{seconds:>9.1f}{events / seconds:>12,.0f}{baseline / seconds:>7.1f}x{r['points']:>11,}"
              f"{r['peak_kib'] / 1024:>10.0f}{peak_baseline / r['peak_kib']:>8.1f}x{before:>13}")
    print(f"(the command read the file in {results['command']['seconds']:.1f} s of its {results['command']['wall']:.1f}"
          f" s wall time; peak memory is each process's ru_maxrss; 'imports' is its resident size before reading)")
    print(json.dumps({"events": events, "tags": args.tags, **results}))


if __name__ == "__main__":
    main()
