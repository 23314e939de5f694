"""viddiff.evals."""
