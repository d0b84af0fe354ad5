"""What the harness seal (audit/seal.py) costs: taking a seal (fresh, and reused by a process
that plans again with nothing changed) and checking it after a check, with the libraries a full
run imports loaded; and the check of the shared instruments for in-place changes that runs
beside it. Median of several repeats in one process; writes results/seal_overhead.json.

    .venv/bin/python benchmarks/seal_overhead.py
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from datetime import date
from pathlib import Path

REPEATS = 9


def _median_seconds(call, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _instrument_check_seconds() -> float:
    """The other look the runner takes after each check (audit.instrument_integrity): digests of
    the shared instruments a quality run builds, compared with those taken as they were built."""
    from audit.instrument_integrity import InstrumentDigests
    from audit.evaluators import digits_evaluator, digits_reference
    from audit.sample_store import SampleStore

    store = SampleStore(digits_evaluator, digits_reference)
    for split in ("train", "test"):
        store.real_embedding(split)
    digests: InstrumentDigests = store.integrity
    assert digests.changed() == []
    return _median_seconds(digests.changed, repeats=3 * REPEATS)


def main() -> None:
    import numpy  # noqa: F401  (the libraries a run holds: the seal covers them)
    import pandas  # noqa: F401
    import scipy.linalg  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401

    from audit.seal import HarnessSeal

    started = time.perf_counter()
    seal = HarnessSeal.take(reuse=False)  # the first: imports every module of audit too
    first = time.perf_counter() - started
    fresh = _median_seconds(lambda: HarnessSeal.take(reuse=False))
    seal = HarnessSeal.take()
    reused = _median_seconds(HarnessSeal.take)
    check = _median_seconds(lambda: seal.restore(), repeats=3 * REPEATS)
    instruments = _instrument_check_seconds()
    results = {
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}",
        "date": date.today().isoformat(), "repeats": REPEATS,
        "namespaces": len(seal.namespaces), "functions": len(seal.functions),
        "first_take_s": round(first, 4), "take_fresh_s": round(fresh, 4), "take_reused_s": round(reused, 4),
        "check_after_each_check_s": round(check, 4),
        "instrument_check_after_each_check_s": round(instruments, 5),
        "instrument_check_covers": "digits evaluator, bundled digits reference arrays, its train/test evaluator features",
    }
    out = Path(__file__).parent / "results" / "seal_overhead.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
