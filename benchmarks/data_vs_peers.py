r"""`dldoctor data` next to the decode floor and to peers, on one generated set (not a timed test).

    .venv/bin/python benchmarks/data_vs_peers.py [--images 400] [--records 40000] [--jobs 2] [--keep DIR]

Images: photo-like JPEGs (smooth gradients with grain, 640×480, EXIF on some) and a few
PNGs. Timed, each over the same files, the OS cache warmed first:

- dldoctor: `scan.collect` + diagnosis on `--jobs` processes (every check of `dldoctor data`: hashing,
  content sniffing, a real decode, EXIF, modes, duplicates, classes);
- the decode floor: a bare single-process `for p in paths: Image.open(p).load()` loop;
- cleanvision (from benchmarks/.peers-venv when installed there: `pip install cleanvision==0.3.7`):
  `Imagelab(data_path).find_issues()`.

TFRecords: shards of tf.train.Example records (an encoded 32×32 JPEG, a label, floats);
dldoctor (every CRC verified, every record parsed, images inside decoded or not) against
iterating `tf.data.TFRecordDataset` (CRCs are verified by TensorFlow too, nothing parsed).

Prints a Markdown table of seconds, items/s and MB/s.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / ".peers-venv" / "bin" / "python"
sys.path.insert(0, str(ROOT))


def make_images(root: Path, count: int) -> list[Path]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:480, 0:640]
    paths = []
    for i in range(count):
        cls = root / f"class{i % 4}"
        cls.mkdir(parents=True, exist_ok=True)
        base = np.stack([(x * (i % 7 + 1) / 8) % 256, (y * (i % 5 + 1) / 6) % 256, ((x + y) / 5 + i) % 256], -1)
        pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels, "RGB")
        path = cls / (f"{i}.png" if i % 25 == 0 else f"{i}.jpg")
        if i % 25 == 0:
            image.save(path, "PNG")
        else:
            exif = Image.Exif()
            if i % 10 == 0:
                exif[0x0112] = 6
            image.save(path, "JPEG", quality=90, exif=exif.tobytes())
        paths.append(path)
    return paths


def make_records(root: Path, count: int, shards: int = 4) -> list[Path]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    rng = np.random.default_rng(1)
    jpegs = []
    for i in range(64):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buffer, "JPEG")
        jpegs.append(buffer.getvalue())
    paths = []
    per = count // shards
    for shard in range(shards):
        path = root / f"train-{shard:05d}-of-{shards:05d}.tfrecord"
        with tf.io.TFRecordWriter(str(path)) as writer:
            for i in range(per):
                feature = {
                    "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[jpegs[i % 64]])),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 10])),
                    "bbox": tf.train.Feature(float_list=tf.train.FloatList(value=[0.1, 0.2, 0.3, 0.4])),
                }
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        paths.append(path)
    return paths


def timed(function, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def warm(paths) -> int:
    total = 0
    for path in paths:
        total += len(Path(path).read_bytes())
    return total


def bare_loop(paths):
    from PIL import Image

    for path in paths:
        with Image.open(path) as image:
            image.load()


def dldoctor_scan(inputs, jobs, **options):
    from dldoctor.probes.data import diagnosis, scan

    return diagnosis.report(scan.collect([str(p) for p in inputs], jobs=jobs, **options))


def cleanvision(root: Path):
    if not PEERS.exists():
        return None
    script = ("import sys, time\nfrom cleanvision import Imagelab\nstart = time.perf_counter()\n"
              "lab = Imagelab(data_path=sys.argv[1])\nlab.find_issues(verbose=False)\n"
              "print(time.perf_counter() - start)\n")
    try:
        done = subprocess.run([str(PEERS), "-c", script, str(root)], capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-2000:])
        return None
    return float(done.stdout.strip().splitlines()[-1])


def tf_iterate(paths):
    import tensorflow as tf

    for _ in tf.data.TFRecordDataset([str(p) for p in paths]):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--records", type=int, default=40000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", help="write the generated set here and keep it")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dldoctor-data-bench-"))
    try:
        images_root, records_root = work / "images", work / "records"
        paths = sorted(images_root.rglob("*.*")) if images_root.exists() else make_images(images_root, args.images)
        shards = sorted(records_root.glob("*.tfrecord")) if records_root.exists() else (
            records_root.mkdir(parents=True) or make_records(records_root, args.records))
        image_bytes, record_bytes = warm(paths), warm(shards)
        n_images = len(paths)
        rows = []

        def row(name, seconds, count, size, unit):
            if seconds is None:
                rows.append(f"| {name} | not run | | |")
            else:
                rows.append(f"| {name} | {seconds:.2f} | {count / seconds:,.0f} {unit}/s | {size / seconds / 1e6:,.1f} |")

        report = dldoctor_scan([images_root], args.jobs)
        assert report.checks[0].id == "data.images", report.checks[0]
        row(f"dldoctor data, {args.jobs} processes (every image check)",
            timed(lambda: dldoctor_scan([images_root], args.jobs)), n_images, image_bytes, "images")
        row("dldoctor data, 1 process", timed(lambda: dldoctor_scan([images_root], 1)), n_images, image_bytes, "images")
        row("bare `Image.open(p).load()` loop, 1 process", timed(lambda: bare_loop(paths)), n_images, image_bytes,
            "images")
        row("cleanvision 0.3.7 `find_issues()`", cleanvision(images_root), n_images, image_bytes, "images")
        total_records = args.records // 4 * 4
        row(f"dldoctor data, TFRecords, {args.jobs} processes (CRCs, parse, images decoded)",
            timed(lambda: dldoctor_scan(shards, args.jobs)), total_records, record_bytes, "records")
        row(f"dldoctor data --no-record-images, {args.jobs} processes",
            timed(lambda: dldoctor_scan(shards, args.jobs, decode_record_images=False)), total_records, record_bytes,
            "records")
        row("dldoctor data --no-record-images, 1 process",
            timed(lambda: dldoctor_scan(shards, 1, decode_record_images=False)), total_records, record_bytes, "records")
        tf_iterate(shards[:1])  # TensorFlow's start-up is not counted
        row("iterating tf.data.TFRecordDataset (CRCs, no parse)", timed(lambda: tf_iterate(shards)), total_records,
            record_bytes, "records")
        print(f"{n_images} images ({image_bytes / 1e6:.1f} MB), {total_records} records in {len(shards)} shards "
              f"({record_bytes / 1e6:.1f} MB), {os.cpu_count()} CPUs\n")
        print("| run | seconds | rate | MB/s |\n|---|---|---|---|")
        print("\n".join(rows))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
