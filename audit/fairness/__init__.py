"""Data the fairness checks use: the project-authored counterfactual word lists (audit.fairness.terms)."""
