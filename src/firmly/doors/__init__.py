"""Doors: thin layers that parse input, call a use case and render the result."""
