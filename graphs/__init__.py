"""viddiff.graphs."""
