"""Numbers as reports print them (audit.formatting.fmt): significant digits, a dash for what has
no value, and no negative zero (a one-class entropy, -sum(1 * log 1), is -0.0 in IEEE floats and
had printed as '-0')."""

from __future__ import annotations

import pytest

from audit.formatting import fmt


@pytest.mark.parametrize("value, shown", [
    (-0.0, "0"), (0.0, "0"), (-1e-30, "-1e-30"), (0.123456, "0.1235"), (12345.0, "1.234e+04"), (7, "7"),
    (None, "—"), (float("nan"), "—"), (float("inf"), "—"), (True, "True"),
])
def test_numbers_print_as_reports_show_them(value, shown):
    assert fmt(value) == shown
