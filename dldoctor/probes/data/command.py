"""`dldoctor data`: every bad image, record and label of a data set, named before training meets it.

Facts (scan.py: images.py, tfrecords.py, labels.py, against_code.py) -> checks
(diagnosis.py) -> the shared reporters (dldoctor.verdict). Module-level imports are the
standard library and typer only, so registering the command costs `dldoctor lint`
nothing. Files are only ever opened for reading.
"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from dldoctor.verdict import options

EXIT_USAGE = options.EXIT_USAGE


def data_command(
    paths: List[str] = typer.Argument(..., metavar="PATH...",
                                      help="Folders, globs, list files (one path a line), image, TFRecord or COCO JSON "
                                           "files; fsspec URLs (s3://, gs://) with --scheduler."),
    output_format: str = options.output_format_option(),
    as_json: bool = options.json_option(),
    strict: bool = options.strict_option(),
    code: Optional[str] = typer.Option(None, "--code", metavar="PATH",
                                       help="Compare the records with this training code (a file or a project): "
                                            "example counts, parse specs, decode_raw dtypes."),
    sample: Optional[int] = typer.Option(None, "--sample", min=1, metavar="N",
                                         help="A quick look: N images chosen at random (seeded), and the first N "
                                              "records of each TFRecord file."),
    min_side: int = typer.Option(8, "--min-side", min=1, metavar="PX",
                                 help="Images with a side under this many pixels are reported."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Worker processes (default: one per CPU)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDRESS",
                                            help="Run the scan as tasks on this Dask distributed scheduler "
                                                 "(tcp://host:8786)."),
    no_record_images: bool = typer.Option(False, "--no-record-images",
                                          help="Do not decode encoded images inside TFRecords."),
) -> None:
    """Check a data set: images that do not decode, odd modes and sizes, duplicates, classes, labels, TFRecords."""
    chosen = options.resolve_format(output_format, as_json)
    from dldoctor.verdict import ProbeError, reporters

    try:
        report = build_report(paths, code=code, sample=sample, min_side=min_side, jobs=jobs, scheduler=scheduler,
                              record_images=not no_record_images, progress=chosen == "text")
    except ProbeError as error:
        print(f"dldoctor: error: {error.message}", file=sys.stderr)
        raise typer.Exit(error.exit_code)
    header = f"dldoctor data: {', '.join(paths)}"
    reporters.write(report, chosen, sys.stdout, header=header)
    raise typer.Exit(report.exit_code(strict))


def build_report(paths: List[str], *, code: Optional[str] = None, sample: Optional[int] = None, min_side: int = 8,
                 jobs: int = 0, scheduler: Optional[str] = None, record_images: bool = True, progress: bool = False):
    """The checks of a data set (the command's options as keywords) as a `Report`; `ProbeError`
    for paths that hold nothing to check, bad options, or a missing extra (Pillow, protobuf)."""
    from dldoctor.probes.data import diagnosis, scan
    from dldoctor.verdict import ProbeError

    try:
        facts = scan.collect(paths, sample=sample, jobs=jobs, scheduler=scheduler, code=code,
                             decode_record_images=record_images, progress=progress)
    except scan.UsageError as error:
        raise ProbeError(str(error)) from None
    except ImportError as error:  # Pillow or protobuf missing: what to install, not a traceback
        raise ProbeError(f"`dldoctor data` needs {error.name or error}: pip install 'dldoctor[data]'") from None
    if not facts["images"] and not facts["tfrecords"] and not facts["coco"]:
        raise ProbeError(f"no image, TFRecord or COCO annotation file in {', '.join(paths)}")
    if code is not None and facts["code"]["files"] == 0 and not facts["code"]["unparsable"]:
        raise ProbeError(f"--code {code}: no Python file there")
    return diagnosis.report(facts, min_side=min_side)
