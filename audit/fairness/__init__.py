"""What the fairness checks share: the project-authored counterfactual word lists
(audit.fairness.terms) and the downstream classifier of tabular fairness (audit.fairness.tabular)."""
