"""What a family means lives in audit.families: the family selectors the checks use, the `other`
fallback, and that a family is a label while capabilities decide what an `other` model gets."""

from __future__ import annotations

from audit.adapters.base import CAPABILITIES, ELBO, LOG_LIKELIHOOD, SAMPLE
from audit.families import (
    FAMILIES,
    FAMILY_NAMES,
    GENERATOR_FAMILIES,
    IMAGE,
    IMAGE_FAMILIES,
    NAMED_FAMILIES,
    OTHER,
    TEXT,
    families_of,
    get_family,
)


def test_the_registry_names_every_family_once_with_other_last():
    assert FAMILY_NAMES == ("gan", "vae", "diffusion", "transformer", "tabular", "other")
    assert all(FAMILIES[name].name == name for name in FAMILY_NAMES)
    assert NAMED_FAMILIES == FAMILY_NAMES[:-1] and not get_family(OTHER).named


def test_selectors_are_read_from_the_modalities():
    assert IMAGE_FAMILIES == families_of(IMAGE) == ("gan", "vae", "diffusion")
    assert GENERATOR_FAMILIES == families_of(IMAGE, TEXT) == ("gan", "vae", "diffusion", "transformer")


def test_an_unknown_or_missing_family_is_treated_as_other():
    assert get_family("autoregressive") is get_family(None) is FAMILIES[OTHER]


def test_sizes_that_differ_by_family():
    diffusion, gan = get_family("diffusion"), get_family("gan")
    assert diffusion.workload_batch == 8 and gan.workload_batch == 64
    assert diffusion.sampling_steps and not gan.sampling_steps
    assert diffusion.likelihood_bound and get_family("vae").likelihood_bound is None


def test_a_check_applies_to_other_by_the_capabilities_it_needs():
    from audit.checks import check_spec

    elbo = check_spec("quality.elbo_bpd")
    assert elbo.applies_to("vae", None) and not elbo.applies_to("gan", {ELBO})
    assert elbo.applies_to(OTHER, {SAMPLE, ELBO}) and not elbo.applies_to(OTHER, {SAMPLE, LOG_LIKELIHOOD})
    assert all(need in CAPABILITIES for need in elbo.needs)
