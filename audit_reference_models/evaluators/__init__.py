"""Evaluators: networks that score generated images (features and class logits)."""
