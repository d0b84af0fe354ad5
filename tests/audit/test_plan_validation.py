"""Plan-time checks of a run's inputs (audit.plan): every check's suite parameters against its
function's signature, and `check=` only among the suite's checks."""

from __future__ import annotations

import pytest

from audit.checks import check_spec, load_check_modules
from audit.errors import InputError
from audit.plan import check_params
from audit.suite import SUITE_GROUPS, load_suites, suite_names


@pytest.mark.parametrize("word", [n for n in suite_names() if n in SUITE_GROUPS or n == "smoke"])
def test_the_bundled_suites_parameters_fit_their_checks(word: str):
    load_check_modules()
    suite = load_suites(word)
    check_params(suite.checks, [check_spec(c) for c in suite.checks])


@pytest.mark.parametrize(
    "check,params,fragments",
    [
        ("quality.fid", {"bogus": 1}, ("'quality.fid'", "'bogus'", "valid")),
        ("quality.perplexity", {"n": -5}, ("'quality.perplexity'", "n = -5", ">= 2")),
        ("quality.perplexity", {"n": 0}, ("n = 0",)),
        ("quality.perplexity", {"n": 1}, ("n = 1",)),
        ("quality.perplexity", {"n": "abc"}, ("n = 'abc'",)),
        ("quality.perplexity", {"n": 1.5}, ("n = 1.5",)),
        ("quality.perplexity", {"n": True}, ("n = True",)),
        ("deepfake.detector_evasion", {"epsilon": "big"}, ("epsilon = 'big'", "float")),
        ("deepfake.detectability", {"detector": 3}, ("detector = 3", "str")),
        ("efficiency.throughput", {"rounds": 2.5}, ("rounds = 2.5", "int")),
    ],
)
def test_bad_parameters_are_refused_naming_the_check_and_key(check: str, params: dict, fragments: tuple[str, ...]):
    load_check_modules()
    with pytest.raises(InputError) as error:
        check_params({check: params}, [check_spec(check)])
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_good_parameters_are_accepted():
    load_check_modules()
    ids = ("quality.perplexity", "deepfake.detector_evasion", "efficiency.throughput")
    check_params({"quality.perplexity": {"n": 2}, "deepfake.detector_evasion": {"epsilon": 1}, "efficiency.throughput": {"rounds": 3}},
                 [check_spec(c) for c in ids])
