"""viddiff.agent."""
