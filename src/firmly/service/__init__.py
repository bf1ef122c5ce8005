"""Use cases: one function each, through the ports only."""
