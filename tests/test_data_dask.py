"""`dldoctor data --scheduler`: the same scan as tasks on a real `dask.distributed.LocalCluster` gives the very
report the local run gives; fsspec URLs are read by the workers."""

from __future__ import annotations

import pytest

import datautil
from conftest import run_dldoctor
from dldoctor.probes.data import diagnosis, scan

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0",
                                  silence_logs=40) as local:
        yield local


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask") / "set"
    datautil.messy_imagefolder(root / "pets")
    tf = datautil.tensorflow()
    records = [datautil.example(tf, {"label": i, "caption": f"{i}".encode()}) for i in range(50)]
    whole = datautil.write_records(root / "records" / "a.tfrecord", records).read_bytes()
    datautil.write(root / "records" / "b.tfrecord", whole[:-7])
    return root


def test_a_dask_run_gives_the_local_report(cluster, dataset):
    local = run_dldoctor("data", "--json", dataset, cwd=dataset)
    remote = run_dldoctor("data", "--json", "--scheduler", cluster.scheduler_address, dataset, cwd=dataset)
    remote.assert_no_traceback()
    assert local.returncode == remote.returncode == 1
    assert remote.json() == local.json()
    ids = {c["id"] for c in remote.json()["checks"]}
    assert {"data.truncated-image", "data.mixed-modes", "data.tfrecord-truncated", "data.empty-class"} <= ids


def test_workers_read_fsspec_urls():
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    memory.pipe("/dldoctor-test/imgs/a.jpg", datautil.encode(datautil.noise(1)))
    memory.pipe("/dldoctor-test/imgs/b.jpg", datautil.encode(datautil.noise(2, mode="L")))
    memory.pipe("/dldoctor-test/imgs/c.jpg", datautil.encode(datautil.noise(3))[:-60])
    try:
        with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0", silence_logs=40) as local:
            facts = scan.collect(["memory://dldoctor-test/imgs"], scheduler=local.scheduler_address)
    finally:
        memory.rm("/dldoctor-test", recursive=True)
    report = diagnosis.report(facts)
    failing = {c.id: c for c in report.checks if c.status != "ok"}
    assert failing["data.truncated-image"].evidence["files"][0]["path"].endswith("imgs/c.jpg")
    assert failing["data.mixed-modes"].evidence["modes"] == {"RGB": 1, "L": 1}


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path):
    datautil.write(tmp_path / "a.jpg", datautil.encode(datautil.noise(4)))
    run = run_dldoctor("data", "--scheduler", "tcp://127.0.0.1:9", tmp_path, cwd=tmp_path, timeout=120)
    assert run.returncode == 2 and "cannot connect" in run.stderr, run.stderr
