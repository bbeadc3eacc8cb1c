"""Robot description: the G1 constants (one source of truth) and model loading."""
