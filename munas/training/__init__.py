"""Candidate training: the torch network of an architecture, the trainer with DPF structured
pruning, int8 post-training quantisation, and the per-data-set training presets."""
