"""The HTTP API (`/v1`): the command line's use cases for integrators, with tokens and roles."""

from firmly.doors.api.app import create_app

__all__ = ["create_app"]
