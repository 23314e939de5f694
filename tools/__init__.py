"""viddiff.tools."""
