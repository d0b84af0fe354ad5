"""What the fairness checks share: the project-authored counterfactual word lists
(audit.fairness.terms), the published word lists with their citations (audit.fairness.wordlists),
CrowS-Pairs-style minimal-pair scoring (audit.fairness.pair_scoring), the likelihood association
tests built on them (audit.fairness.association) and the downstream classifier of tabular
fairness (audit.fairness.tabular)."""
