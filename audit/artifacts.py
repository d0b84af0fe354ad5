"""Image artifacts a run writes into its `artifacts/` folder (the reports embed them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def safe_filename(word: str) -> str:
    """A model word (which may hold ':' or '/') as a file-name part."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in word)


def save_sample_grid(images: Any, labels: Any, path: Path, per_class: int = 10) -> None:
    """A PNG grid: one column per class (rows are samples), or the first 100 images."""
    import numpy as np
    from PIL import Image

    x = images.numpy()
    if labels is not None:
        lab = labels.numpy()
        classes = sorted(set(lab.tolist()))
        rows = [[x[np.nonzero(lab == c)[0][r]] for c in classes] for r in range(min(per_class, min((lab == c).sum() for c in classes)))]
    else:
        k = int(np.sqrt(min(len(x), 100)))
        rows = [[x[r * k + c] for c in range(k)] for r in range(k)]
    grid = np.concatenate([np.concatenate([img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0) for img in row], axis=1) for row in rows], axis=0)
    Image.fromarray((np.clip(grid, 0, 1) * 255).round().astype(np.uint8)).save(path)
