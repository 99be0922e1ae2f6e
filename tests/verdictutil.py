"""One check for every probe's JSON report: it validates against the shared schema, every check id is in the
catalogue, and the verdict is the one the checks give."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema

from dldoctor.verdict import catalogue


def schema() -> dict:
    return json.loads(resources.files("dldoctor.verdict").joinpath("schema.json").read_text(encoding="utf-8"))


def assert_valid_report(document: dict, command: str) -> None:
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert document["command"] == command
    ids = [check["id"] for check in document["checks"]]
    assert set(ids) <= set(catalogue.all_checks()), f"undocumented check ids: {set(ids) - set(catalogue.all_checks())}"
    statuses = {check["status"] for check in document["checks"]}
    expected = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"
    assert document["verdict"] == expected, (document["verdict"], statuses)
    keys = [(check["id"], check.get("subject")) for check in document["checks"]]
    assert len(keys) == len(set(keys)), f"two checks of one id and subject: {keys}"
