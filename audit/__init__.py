"""audit: an evaluation and ethics audit harness for generative models.

`audit.run(suite=..., models=[...], ...)` runs a suite from Python (`audit.api`, imported on
first use). The package root stays light (no torch) so the CLI starts fast; import submodules for the API:
`audit.adapters` (ModelAdapter contract), `audit.checks` (the @check decorator), `audit.runner`,
`audit.gates`, `audit.results`, `audit.report`, `audit.metrics`, `audit.stats`; for plugins,
`audit.registry` (models, data sets, evaluators, detectors, trainers), `audit.weights` (verified
weights files), `audit.datasets` (what checks read from a data set) and `audit.training`.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())  # diagnostics are off until `audit run --verbose`

__all__ = ["AuditRun", "__version__", "run"]

_API = ("AuditRun", "run")
"""Names of audit.api re-exported here, imported on first use so `import audit` stays light."""


def __getattr__(name: str) -> object:
    if name in _API:
        from audit import api

        return getattr(api, name)
    raise AttributeError(f"module 'audit' has no attribute '{name}'")
