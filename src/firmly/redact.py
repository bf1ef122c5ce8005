"""Secrets kept out of what people read: errors, logs and listings show `***` where a password, a token's
secret or a webhook secret would be. One helper for every door, so no message forgets it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "***"
# `scheme://user:password@` anywhere in a text (a URL quoted in an error, a driver's message); the password
# runs to the last @, as URL parsers read it
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*:)(?P<password>[^\s/'\"]*)@")
_SECRETS = (
    re.compile(r"(?P<head>whsec_)[A-Za-z0-9+/=]+"),  # a Standard Webhooks signing secret
    re.compile(r"(?P<head>\bfy_[0-9a-f]+_)[A-Za-z0-9_\-]+"),  # an API token: its public id stays, for the logs
)


def url(value: str) -> str:
    """A URL as it may be shown: the password (if any) replaced by `***`, everything else as given."""
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:  # a malformed URL (a bad port, an unclosed bracket): mask by pattern instead
        return text(value)
    if not password:
        return text(value)
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return parts._replace(netloc=f"{name}:{MASK}@{host}").geturl()


def text(message: str) -> str:
    """A message with every URL's password and every token or webhook secret in it masked."""
    masked = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", message)
    for pattern in _SECRETS:
        masked = pattern.sub(lambda m: f"{m['head']}{MASK}", masked)
    return masked
