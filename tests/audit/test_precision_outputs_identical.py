"""`audit.precision.outputs_identical`: the one test of "this variant changed nothing" that the
quantization suite and the conformance kit's precision rule share."""

from __future__ import annotations

import torch

from audit.precision import PrecisionChangedNothing, outputs_identical


def test_equal_values_are_identical_whatever_the_dtype():
    x = torch.tensor([[0.0, 0.5, 1.0]])
    assert outputs_identical(x, x.clone())
    assert outputs_identical(x, x.to(torch.bfloat16)), "bf16 values equal to fp32's: nothing changed"


def test_one_changed_value_or_shape_is_not_identical():
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = x.clone()
    y[3, 0, 7, 7] = torch.nextafter(y[3, 0, 7, 7], torch.tensor(2.0))
    assert not outputs_identical(x, y)
    assert not outputs_identical(x, x.reshape(4, 64))


def test_lists_compare_element_by_element_and_text_never_counts():
    a = [torch.tensor([-1.0, -2.0]), torch.tensor([-0.5])]
    assert outputs_identical(a, [t.clone() for t in a])
    assert not outputs_identical(a, [a[0], torch.tensor([-0.25])])
    assert not outputs_identical([], [])
    assert not outputs_identical(["the same text"], ["the same text"]), "discrete outputs can survive an honest variant"


def test_the_error_is_one_line_naming_model_precision_and_call():
    message = str(PrecisionChangedNothing("decoy-gan", "int8", "sample()"))
    assert "\n" not in message
    assert message.startswith("precision int8 changed nothing in the outputs of model 'decoy-gan' (sample(): bit-identical to fp32")
