"""Robustness: image corruptions, adversarial attacks on the evaluator, text perturbations,
and bootstrap helpers for degradation curves. Pure functions; the checks live in
audit.checks.robustness. Torch is imported inside the modules that need it."""
