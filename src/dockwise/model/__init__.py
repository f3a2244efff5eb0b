"""The service model: what the rules see, and the joins that make it."""
