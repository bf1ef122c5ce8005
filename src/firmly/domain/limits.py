"""How big a value in an event may be: checked where input comes in, the same on SQLite and PostgreSQL.

The lengths are the columns' (adapters/sql/tables.py; a test keeps the two in step), so a value that
passes here is never refused by one database and kept by the other. README "Events" lists them.
"""

from __future__ import annotations

ID = 200  # an event's id (events.id, decisions.event)
KEY = 200  # a counterparty's key, and a partner's (counterparties.key, events.partner)
TYPE = 100  # an event's type (events.type)
TIER = 100  # a counterparty's tier (counterparties.tier)
SERVICE = 100  # a price-list code (postings.service)
REFERENCE = 200  # an appointment, invoice, order or request id, a channel, an author
FIELD_NAME = 100  # the name of a data field
TEXT = 65_536  # characters in one text value (a message, a review, a description)
EVENT_BYTES = 256 * 1024  # one event as JSON; a CSV cell can be no longer
DEPTH = 20  # levels of objects and lists inside an event's data

COUNT = 10**9  # minutes, quantities, defects: a billion is past any real count
NUMBER = 10**15  # any other number an event carries, below this in size (as money is)
YEARS = 100  # the longest duration ("late_by", rulebook windows)
FIRST_YEAR, END_YEAR = 1970, 2200  # times from 1970-01-01 up to 2200-01-01 (UTC), not including it
TIME_TEXT = 40  # characters of a time as sent (events.occurred_at)


def shown(value: object, width: int = 60) -> str:
    """A value as an error message quotes it: its repr, cut short when long, so a 5,000-digit cell or a
    100 KiB text makes a readable message."""
    if isinstance(value, int) and value.bit_length() > 4 * width:  # writing out a huge int is slow, or refused
        return f"a whole number of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    if len(text) <= width:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters written out"
    return f"{text[:width]}… ({size})"
