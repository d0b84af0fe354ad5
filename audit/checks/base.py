"""The `@check` decorator, check metadata and the Measurement a check returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from audit.families import IMAGE_FAMILIES, OTHER, get_family
from audit.registry import checks as check_registry

if TYPE_CHECKING:
    from audit.context import CheckContext


@dataclass(frozen=True)
class CheckSpec:
    """What a check is: id, area, families it applies to, capabilities it needs, direction, unit."""

    id: str
    fn: Callable[..., "Measurement"]
    families: tuple[str, ...]
    needs: frozenset[str]
    higher_is_better: bool | None
    unit: str
    description: str

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    def applies_to(self, family: str, capabilities: Iterable[str] | None = None) -> bool:
        """A check applies to the families it names. A model of any other family (`other`)
        is judged by what it can do: the check applies when it declares the capabilities it needs
        and the model has every one (`capabilities` None: not known yet, so it may apply)."""
        if family in self.families or OTHER in self.families:
            return True
        if get_family(family).named:
            return False
        return capabilities is None or (bool(self.needs) and self.needs <= set(capabilities))


@dataclass
class Measurement:
    """A check's result before gating: a value with its CI and n, plus optional detail."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    by_group: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)


def check(
    check_id: str,
    *,
    families: tuple[str, ...] = IMAGE_FAMILIES,
    needs: tuple[str, ...] = (),
    higher_is_better: bool | None = None,
    unit: str = "",
) -> Callable[[Callable[..., Measurement]], Callable[..., Measurement]]:
    """Register `fn(ctx, **params) -> Measurement` under `check_id`; the docstring's first line
    becomes the description shown by `audit list checks`."""

    def register(fn: Callable[..., Measurement]) -> Callable[..., Measurement]:
        description = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        spec = CheckSpec(check_id, fn, tuple(families), frozenset(needs), higher_is_better, unit, description)
        check_registry.register(check_id, spec, description, area=spec.area, families=spec.families)
        return fn

    return register
