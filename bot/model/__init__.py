"""The optional language model and the grounding check its answers must pass."""
