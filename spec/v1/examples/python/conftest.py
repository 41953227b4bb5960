"""conftest.py — lets the seed's §10.2 test run as written under pytest.

The seed's test_rtt_engine_matches_reference opens "reference_samples.json" relative to the working directory (the
seed's layout keeps it beside the schema, in spec/v1/). Each test here runs with spec/v1/ as its working directory,
so `python3 -m pytest` works from this directory, from spec/v1/ or from the repository root. The project's own
unittest tests locate the file themselves and do not mind.
"""
import os

import pytest

SPEC_V1 = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(autouse=True)
def _in_spec_v1(monkeypatch):
    monkeypatch.chdir(SPEC_V1)
