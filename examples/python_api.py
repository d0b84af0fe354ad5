"""Audit your own model object from Python, beside a bundled model (README: "Python API").

    python examples/python_api.py [OUT_FOLDER]

`TinyGenerator` stands for your model: any object with the adapter contract (audit.adapters)
can be passed to `audit.run` as it is, without an import path.
"""

from __future__ import annotations

import sys

import torch

import audit
from audit.adapters import SAMPLE, ModelAdapter, ModelInfo, count_params


class TinyGenerator(ModelAdapter):
    """A random-weight generator of 16x16 grayscale images in [0, 1]."""

    capabilities = frozenset({SAMPLE})

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 256), torch.nn.Sigmoid())
        self.info = ModelInfo(name="tiny", family="gan", params=count_params(self.net), image_shape=(1, 16, 16))

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.net}

    @torch.no_grad()
    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = torch.randn(n, 8, generator=torch.Generator().manual_seed(seed))
        return self.net(z.to(self.net[0].weight.dtype)).float().view(n, 1, 16, 16)


def main(out: str = "reports") -> audit.AuditRun:
    result = audit.run(suite="smoke", models=["gan", TinyGenerator()], check="quality.fid", n=64, bootstrap=20, out=out)
    for record in result.records:
        print(f"{record['model']:<6} {record['check']}  {record['value']:.1f}  [{record['ci_low']:.1f}, {record['ci_high']:.1f}]")
    print(f"exit code {result.exit_code}; report: {result.report}")
    return result


if __name__ == "__main__":
    main(*sys.argv[1:2])
