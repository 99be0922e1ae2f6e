"""Reference data: TensorFlow's tested build configurations and CUDA's driver minimums.

Kept as plain Python data so a snapshot can be diagnosed anywhere, offline.

`TF_TESTED` is TensorFlow's "Tested build configurations" table for Linux GPU
builds (tensorflow.org, install from source): the CUDA and cuDNN a release was
built and tested with, and the Python versions it supports. The CPU builds
support the same Python versions.

`CUDA_DRIVER_MINIMUM` is the "CUDA Toolkit and Corresponding Driver Versions"
table of the CUDA release notes (Linux x86_64): the driver a toolkit release
needs for all of its features. `MINOR_COMPAT_MINIMUM` is the oldest driver
that runs any release of a CUDA major version through CUDA minor version
compatibility (with limits: no PTX JIT of newer code).
"""

from __future__ import annotations

import re

from typing import NamedTuple, Optional


class TestedConfig(NamedTuple):
    version: str  # the release as the table names it
    python: str  # "3.9-3.12", or "2.7, 3.3-3.7"
    cudnn: str
    cuda: str


TF_TESTED: tuple[TestedConfig, ...] = (
    TestedConfig("2.21.0", "3.10-3.13", "9.3", "12.5"),
    TestedConfig("2.20.0", "3.9-3.13", "9.3", "12.5"),
    TestedConfig("2.19.0", "3.9-3.12", "9.3", "12.5"),
    TestedConfig("2.18.0", "3.9-3.12", "9.3", "12.5"),
    TestedConfig("2.17.0", "3.9-3.12", "8.9", "12.3"),
    TestedConfig("2.16.1", "3.9-3.12", "8.9", "12.3"),
    TestedConfig("2.15.0", "3.9-3.11", "8.9", "12.2"),
    TestedConfig("2.14.0", "3.9-3.11", "8.7", "11.8"),
    TestedConfig("2.13.0", "3.8-3.11", "8.6", "11.8"),
    TestedConfig("2.12.0", "3.8-3.11", "8.6", "11.8"),
    TestedConfig("2.11.0", "3.7-3.10", "8.1", "11.2"),
    TestedConfig("2.10.0", "3.7-3.10", "8.1", "11.2"),
    TestedConfig("2.9.0", "3.7-3.10", "8.1", "11.2"),
    TestedConfig("2.8.0", "3.7-3.10", "8.1", "11.2"),
    TestedConfig("2.7.0", "3.7-3.9", "8.1", "11.2"),
    TestedConfig("2.6.0", "3.6-3.9", "8.1", "11.2"),
    TestedConfig("2.5.0", "3.6-3.9", "8.1", "11.2"),
    TestedConfig("2.4.0", "3.6-3.8", "8.0", "11.0"),
    TestedConfig("2.3.0", "3.5-3.8", "7.6", "10.1"),
    TestedConfig("2.2.0", "3.5-3.8", "7.6", "10.1"),
    TestedConfig("2.1.0", "2.7, 3.5-3.7", "7.6", "10.1"),
    TestedConfig("2.0.0", "2.7, 3.3-3.7", "7.4", "10.0"),
    TestedConfig("1.15.0", "2.7, 3.3-3.7", "7.4", "10.0"),
    TestedConfig("1.14.0", "2.7, 3.3-3.7", "7.4", "10.0"),
    TestedConfig("1.13.1", "2.7, 3.3-3.7", "7.4", "10.0"),
    TestedConfig("1.12.0", "2.7, 3.3-3.6", "7", "9"),
    TestedConfig("1.11.0", "2.7, 3.3-3.6", "7", "9"),
    TestedConfig("1.10.0", "2.7, 3.3-3.6", "7", "9"),
    TestedConfig("1.9.0", "2.7, 3.3-3.6", "7", "9"),
    TestedConfig("1.8.0", "2.7, 3.3-3.6", "7", "9"),
    TestedConfig("1.7.0", "2.7, 3.3-3.6", "7", "9"),
    TestedConfig("1.6.0", "2.7, 3.3-3.6", "7", "9"),
    TestedConfig("1.5.0", "2.7, 3.3-3.6", "7", "9"),
    TestedConfig("1.4.0", "2.7, 3.3-3.6", "6", "8"),
    TestedConfig("1.3.0", "2.7, 3.3-3.6", "6", "8"),
    TestedConfig("1.2.0", "2.7, 3.3-3.6", "5.1", "8"),
    TestedConfig("1.1.0", "2.7, 3.3-3.6", "5.1", "8"),
    TestedConfig("1.0.0", "2.7, 3.3-3.6", "5.1", "8"),
)

# (CUDA toolkit release, minimum Linux x86_64 driver), newest first; the GA
# release of each minor version (updates may need a slightly newer driver).
CUDA_DRIVER_MINIMUM: tuple[tuple[str, str], ...] = (
    ("13.0", "580.65.06"),
    ("12.9", "575.51.03"),
    ("12.8", "570.26"),
    ("12.6", "560.28.03"),
    ("12.5", "555.42.02"),
    ("12.4", "550.54.14"),
    ("12.3", "545.23.06"),
    ("12.2", "535.54.03"),
    ("12.1", "530.30.02"),
    ("12.0", "525.60.13"),
    ("11.8", "520.61.05"),
    ("11.7", "515.43.04"),
    ("11.6", "510.39.01"),
    ("11.5", "495.29.05"),
    ("11.4", "470.42.01"),
    ("11.3", "465.19.01"),
    ("11.2", "460.27.03"),
    ("11.1", "455.23"),
    ("11.0", "450.36.06"),
    ("10.2", "440.33"),
    ("10.1", "418.39"),
    ("10.0", "410.48"),
    ("9.2", "396.26"),
    ("9.1", "390.46"),
    ("9.0", "384.81"),
    ("8.0", "367.48"),
    ("7.5", "352.31"),
    ("7.0", "346.46"),
)

# CUDA major version -> oldest driver that runs its minor releases (minor version compatibility).
MINOR_COMPAT_MINIMUM: dict[int, str] = {13: "580.65.06", 12: "525.60.13", 11: "450.80.02"}


def version_tuple(text: Optional[str]) -> tuple[int, ...]:
    """'2.13.0+cpu' -> (2, 13, 0); '12.4' -> (12, 4); '2.0.0rc1' -> (2, 0, 0); junk -> ()."""
    if not text:
        return ()
    parts = []
    for piece in str(text).split("+", 1)[0].split("."):
        digits = ""
        for char in piece:
            if char not in "0123456789":  # str.isdigit() is also true of '²' and other digits int() refuses
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


# PEP 440 (the public version and an optional local label), as packaging's VERSION_PATTERN.
_PEP440 = re.compile(
    r"^\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$",
    re.IGNORECASE | re.ASCII,
)


def valid_version(text: Optional[str]) -> bool:
    """Is `text` a version pip accepts (PEP 440)? '2.13.0+cpu' yes; '2.²', 'unknown', '' no."""
    return bool(text) and _PEP440.match(str(text)) is not None


def tf_tested(version: Optional[str]) -> Optional[TestedConfig]:
    """The tested configuration of a TensorFlow release (matched on major.minor), or None."""
    wanted = version_tuple(version)[:2]
    if len(wanted) < 2:
        return None
    for row in TF_TESTED:
        if version_tuple(row.version)[:2] == wanted:
            return row
    return None


def python_in_range(python: str, ranges: str) -> bool:
    """Is '3.11' (or '3.11.9') within '2.7, 3.9-3.12'?"""
    have = version_tuple(python)[:2]
    for part in ranges.split(","):
        part = part.strip()
        low, _, high = part.partition("-")
        low_t, high_t = version_tuple(low)[:2], version_tuple(high or low)[:2]
        if low_t <= have <= high_t:
            return True
    return False


def driver_minimum(cuda: Optional[str]) -> Optional[str]:
    """The minimum Linux driver for a CUDA toolkit release ('12.4' -> '550.54.14'), or None."""
    wanted = version_tuple(cuda)[:2]
    if not wanted:
        return None
    if len(wanted) == 1:
        wanted = (wanted[0], 0)
    for release, driver in CUDA_DRIVER_MINIMUM:
        if version_tuple(release)[:2] == wanted:
            return driver
    # A release between rows (e.g. 12.7, never shipped): the next older row's driver.
    for release, driver in CUDA_DRIVER_MINIMUM:
        if version_tuple(release)[:2] <= wanted:
            return driver
    return None


def cuda_from_int(value: Optional[int]) -> Optional[str]:
    """NVML's and CUDA's integer form 12040 -> '12.4'."""
    if not value:
        return None
    return f"{value // 1000}.{(value % 1000) // 10}"
