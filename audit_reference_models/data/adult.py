"""UCI Adult (census income, CC BY 4.0; see ADULT.md) with its official train / held-out split.

The data ships gzip-compressed in this package (`adult.csv.gz`), so nothing is downloaded. The
file keeps every row of the published `adult.data` and `adult.test` as written there (a `split`
column says which); the loader cleans it:

- rows with a missing value (`?`) are dropped (3,620 of 48,842: 2,399 train, 1,221 test),
- the test file's labels lose their trailing period (`>50K.` -> `>50K`),
- numeric columns become int64 and the others pandas categoricals with fixed category sets
  (the values present in the cleaned training split, sorted), so every frame shares one schema.

Result: 30,162 training and 15,060 held-out rows; 24.9% / 24.6% of them earn >50K (UCI's
adult.names: 23.93% / 24.78% of all rows "without unknowns"; 24.08% with them).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from audit.datasets import TabularSchema

DATA_FILE = Path(__file__).with_name("adult.csv.gz")

CONTINUOUS = ("age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week")
CATEGORICAL = (
    "workclass", "education", "marital_status", "occupation", "relationship", "race", "sex", "native_country", "income",
)
COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation", "relationship",
    "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country", "income",
)
"""The 15 columns in the published order (hyphens of the UCI names written as underscores)."""
LABEL = "income"
POSITIVE = ">50K"
SENSITIVE = ("sex", "race")
MISSING = "?"
SCHEMA = TabularSchema(columns=COLUMNS, categorical=CATEGORICAL, continuous=CONTINUOUS, label=LABEL, positive=POSITIVE)
"""The columns and label as the harness reads them (audit.datasets)."""


@dataclass(frozen=True)
class AdultSplit:
    """The cleaned official split as pandas DataFrames with the columns of `COLUMNS`."""

    train: "pd.DataFrame"  # noqa: F821
    test: "pd.DataFrame"  # noqa: F821

    @property
    def sha256(self) -> str:
        """A hash of the cleaned split itself (both frames as CSV, in order), for manifests."""
        return frame_sha256(self.train, self.test)

    @property
    def categories(self) -> dict[str, list[str]]:
        return {c: list(self.train[c].cat.categories) for c in CATEGORICAL}

    @property
    def schema(self) -> TabularSchema:
        return SCHEMA


def frame_sha256(*frames: "pd.DataFrame") -> str:  # noqa: F821
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(f"{len(frame)}x{list(frame.columns)}\n".encode())
        digest.update(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return digest.hexdigest()


def build_csv(source_dir: Path, out: Path = DATA_FILE) -> str:
    """Rebuild `adult.csv.gz` from the published `adult.data` and `adult.test` (see ADULT.md);
    returns the sha256 of the uncompressed CSV. gzip level 9 with mtime 0: byte-reproducible."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("split", *COLUMNS))
    for split, name in (("train", "adult.data"), ("test", "adult.test")):
        for line in (Path(source_dir) / name).read_text(encoding="ascii").splitlines():
            if not line.strip() or line.startswith("|"):
                continue  # blank trailing lines and the test file's "|1x3 Cross validator" header
            fields = [f.strip() for f in line.split(",")]
            if len(fields) != len(COLUMNS):
                raise ValueError(f"{name}: expected {len(COLUMNS)} fields, got {len(fields)} in {line!r}")
            writer.writerow((split, *fields))
    data = buffer.getvalue().encode("ascii")
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as fh:
        fh.write(data)
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def load_raw() -> "pd.DataFrame":  # noqa: F821
    """Every row of the bundled file as strings (48,842 rows; `?` and the test labels' `.` kept)."""
    import pandas as pd

    with gzip.open(DATA_FILE, "rt", encoding="ascii") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def clean(raw: "pd.DataFrame", categories: dict[str, list[str]]) -> "pd.DataFrame":  # noqa: F821
    """Drop rows with `?`, strip the label's trailing period, apply the fixed schema."""
    import pandas as pd

    frame = raw.loc[~(raw[list(COLUMNS)] == MISSING).any(axis=1), list(COLUMNS)].copy()
    frame[LABEL] = frame[LABEL].str.rstrip(".")
    for c in CONTINUOUS:
        frame[c] = frame[c].astype(np.int64)
    for c in CATEGORICAL:
        unknown = set(frame[c]) - set(categories[c])
        if unknown:
            raise ValueError(f"column {c!r} has values outside the training categories: {sorted(unknown)}")
        frame[c] = pd.Categorical(frame[c], categories=categories[c])
    return frame.reset_index(drop=True)


@lru_cache(maxsize=1)
def load_adult_split() -> AdultSplit:
    """The official split, cleaned: 30,162 training and 15,060 held-out rows."""
    raw = load_raw()
    train_raw, test_raw = raw[raw["split"] == "train"], raw[raw["split"] == "test"]
    kept = train_raw.loc[~(train_raw[list(COLUMNS)] == MISSING).any(axis=1)]
    categories = {c: sorted(set(kept[c].str.rstrip(".") if c == LABEL else kept[c])) for c in CATEGORICAL}
    return AdultSplit(clean(train_raw, categories), clean(test_raw, categories))


def empty_frame(categories: dict[str, list[str]]) -> "pd.DataFrame":  # noqa: F821
    """A zero-row frame with the training schema (column order, dtypes, category sets)."""
    import pandas as pd

    return pd.DataFrame({
        c: pd.Categorical([], categories=categories[c]) if c in CATEGORICAL else np.array([], dtype=np.int64) for c in COLUMNS
    })
