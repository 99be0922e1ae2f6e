"""Installed versions for rule messages and the cache key, without importing the packages."""

from __future__ import annotations

import sys
from importlib import metadata

import pytest

from dldoctor.lint import installed


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    installed.installed_version.cache_clear()
    installed._versions_in_directory_names.cache_clear()
    yield tmp_path
    installed.installed_version.cache_clear()
    installed._versions_in_directory_names.cache_clear()


def test_agrees_with_importlib_metadata_for_what_is_installed():
    installed.installed_version.cache_clear()
    for name in ("torch", "tensorflow-cpu", "numpy", "libcst", "typing_extensions", "Typing-Extensions"):
        assert installed.installed_version(name) == metadata.version(name), name


def test_the_first_installed_of_several_names(fresh):
    (fresh / "tensorflow_cpu-2.99.0.dist-info").mkdir()
    assert installed.installed_version("tensorflow", "tensorflow-cpu") == "2.99.0"  # sys.path order: ours first


def test_an_egg_info_is_read_through_its_metadata(fresh):
    egg = fresh / "oldpkg.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: oldpkg\nVersion: 0.3.1\n")
    assert installed.installed_version("oldpkg") == "0.3.1"


def test_missing_and_broken_installs_give_none(fresh):
    (fresh / "broken.egg-info").mkdir()  # no PKG-INFO
    assert installed.installed_version("no-such-distribution") is None
    assert installed.installed_version("broken") is None
