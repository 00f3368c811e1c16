"""The citation metadata is valid Citation File Format 1.2.0 and agrees with the package."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import yaml

import ruralgov

ROOT = Path(__file__).resolve().parents[1]
# The official CFF 1.2.0 schema (citation-file-format.github.io, CC-BY-4.0), as cffconvert
# ships it; cffconvert itself needs jsonschema < 4, which the dashboard's stack cannot use.
SCHEMA = ROOT / "tests" / "data" / "cff-1.2.0.schema.json"


def test_citation_file_is_valid_cff_and_matches_the_package():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(cff)
    assert cff["version"] == ruralgov.__version__
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["license"] == meta["license"]["text"]
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_a_broken_citation_file_is_rejected():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    bad = {"cff-version": "1.2.0", "message": "cite", "title": "x",
           "authors": [{"nickname": 3}]}
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(bad))
    assert errors
