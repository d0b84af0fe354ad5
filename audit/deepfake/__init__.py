"""Deepfake detection and provenance: detection metrics, image perturbations, image and text
watermarks, and zero-shot machine-text detection (pure functions; the checks live in
`audit.checks.deepfake`)."""
