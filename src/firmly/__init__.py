"""firmly: polite, but firm. A conduct engine for a service business."""

__version__ = "0.1.0"
