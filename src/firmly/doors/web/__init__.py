"""The web UI: server-rendered pages for operators and owners, in Russian and English."""

from firmly.doors.web.app import install

__all__ = ["install"]
