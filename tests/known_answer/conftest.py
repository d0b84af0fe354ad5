"""Runs shared by several known-answer test files, made once per session: the language-model
fairness checks cost tens of seconds per model (fairness.association scores ~20,000 sentences), so a
model is audited on them once however many files read its records."""

from __future__ import annotations

import pytest

from tests.helpers import CliResult, run_cli

STEREOTYPED_CHECKS = (
    "fairness.stereotype_preference", "fairness.stereotype_preference_by_category",
    "fairness.counterfactual_likelihood", "fairness.counterfactual_sentiment",
)
"""What transformer-stereotyped must be flagged by (test_fairness_suite.py,
test_association_variants.py); its association record is asserted nowhere."""


@pytest.fixture(scope="session")
def fairness_default_run(tmp_path_factory: pytest.TempPathFactory) -> CliResult:
    """`audit run suite=fairness` with no other argument (out= a temporary folder): judged whole
    by test_fairness_suite.py; test_association_variants.py reads the clean transformer's
    association and per-category records from it (the same seed, bootstrap and gates)."""
    return run_cli("run", "suite=fairness", f"out={tmp_path_factory.mktemp('fairness-default')}")


@pytest.fixture(scope="session")
def stereotyped_fairness_run(tmp_path_factory: pytest.TempPathFactory) -> CliResult:
    """`audit run suite=fairness model=transformer-stereotyped` on STEREOTYPED_CHECKS."""
    out = tmp_path_factory.mktemp("fairness-stereotyped")
    return run_cli("run", "suite=fairness", "model=transformer-stereotyped", f"check={','.join(STEREOTYPED_CHECKS)}", f"out={out}")
