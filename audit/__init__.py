"""audit: an evaluation and ethics audit harness for generative models.

The package root stays light (no torch) so the CLI starts fast; import submodules for the API:
`audit.adapters` (ModelAdapter contract), `audit.checks` (the @check decorator), `audit.runner`,
`audit.gates`, `audit.results`, `audit.report`, `audit.metrics`, `audit.stats`; for plugins,
`audit.registry` (models, data sets, evaluators, detectors, trainers), `audit.weights` (verified
weights files), `audit.datasets` (what checks read from a data set) and `audit.training`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
