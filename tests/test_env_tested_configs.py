"""The reference tables behind `dldoctor env`: TensorFlow's tested builds, CUDA's driver minimums."""

from __future__ import annotations

import pytest

from dldoctor.probes.env import tested_configs as tc


@pytest.mark.parametrize(
    "version, cuda, cudnn, python",
    [
        ("2.21.0", "12.5", "9.3", "3.10-3.13"),
        ("2.18.1", "12.5", "9.3", "3.9-3.12"),
        ("2.16.2", "12.3", "8.9", "3.9-3.12"),
        ("2.15.0.post1", "12.2", "8.9", "3.9-3.11"),
        ("2.10.1", "11.2", "8.1", "3.7-3.10"),
        ("1.2.0", "8", "5.1", "2.7, 3.3-3.6"),  # the seed's TF 1.2 on CUDA 8 + cuDNN 5.1 (001 07-01)
    ],
)
def test_tested_configuration_by_major_minor(version, cuda, cudnn, python):
    row = tc.tf_tested(version)
    assert row is not None and (row.cuda, row.cudnn, row.python) == (cuda, cudnn, python)


def test_unknown_release_has_no_row():
    assert tc.tf_tested("9.0.0") is None
    assert tc.tf_tested("garbage") is None


@pytest.mark.parametrize(
    "python, ranges, inside",
    [("3.11.7", "3.9-3.12", True), ("3.13.0", "3.9-3.12", False), ("3.8", "3.9-3.12", False),
     ("2.7.18", "2.7, 3.3-3.6", True), ("3.7", "2.7, 3.3-3.6", False), ("3.10", "3.10-3.13", True)],
)
def test_python_ranges(python, ranges, inside):
    assert tc.python_in_range(python, ranges) is inside


@pytest.mark.parametrize(
    "cuda, driver",
    [("12.4", "550.54.14"), ("12.8", "570.26"), ("11.8", "520.61.05"), ("12.7", "560.28.03"), ("12", "525.60.13"),
     ("10.1", "418.39")],
)
def test_driver_minimum(cuda, driver):
    assert tc.driver_minimum(cuda) == driver


def test_tables_are_newest_first_and_unique():
    versions = [tc.version_tuple(row.version) for row in tc.TF_TESTED]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    cudas = [tc.version_tuple(release) for release, _ in tc.CUDA_DRIVER_MINIMUM]
    assert cudas == sorted(cudas, reverse=True)
    drivers = [tc.version_tuple(driver) for _, driver in tc.CUDA_DRIVER_MINIMUM]
    assert drivers == sorted(drivers, reverse=True), "a newer CUDA never needs an older driver"


@pytest.mark.parametrize("text, expected", [("2.13.0+cpu", (2, 13, 0)), ("2.0.0rc1", (2, 0, 0)), ("12.4", (12, 4)),
                                            ("", ()), (None, ()), ("x", ())])
def test_version_tuple(text, expected):
    assert tc.version_tuple(text) == expected


def test_cuda_from_int():
    assert tc.cuda_from_int(12040) == "12.4" and tc.cuda_from_int(11080) == "11.8" and tc.cuda_from_int(0) is None
