"""The pure core: standard library and small value libraries only, no I/O."""
