"""Partners and suppliers: incidents, clean bookings, karma and its bonuses, reviews, late deliveries."""

from __future__ import annotations

from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import to_us
from firmly.domain.engine import values
from firmly.domain.engine.ladder import LadderFold
from firmly.domain.engine.policy import Table
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.events import Event
from firmly.domain.scores import DAY_US, REVOKE_WITHIN_US, Incident, KarmaTerms, Track
from firmly.domain.sections import SCORECARD_WINDOW

INCIDENTS_KEPT_US = to_us(SCORECARD_WINDOW)  # without a scorecard, incidents are kept for its default window


class PartnerFold(LadderFold):
    def _track(self, st: CounterpartyState, table: Table, ev: Event, role: str) -> None:
        kind = ev.type
        if kind == "appointment.attended":
            if role == "partner":  # a clean booking is the partner's; the client's attendance is its own rule
                self._clean(st, table, ev)
            return
        if role == "partner" and kind not in ("incident.reported", "review.received"):
            return
        track = self._record(st, table.karma)
        if kind == "incident.reported":
            self._incident(st, table, track, ev)
        elif kind == "review.received":
            data = ev.data
            rating = values.whole(data.get("rating"), ev.id, "rating") if data.get("publish") is True else None
            if rating is not None:
                track.rating_sum += rating
                track.rating_n += 1
        elif kind == "delivery.completed" and ev.data.get("due_at") is not None:
            try:
                due = parse_instant(ev.data["due_at"])
            except TimeError:
                return
            if ev.at > due:
                keep = table.scorecard.window_us if table.scorecard else INCIDENTS_KEPT_US
                track.late = [*(x for x in track.late or () if x[0] > ev.at - keep), (ev.at, ev.id)]

    def _clean(self, st: CounterpartyState, table: Table, ev: Event) -> None:
        """A partner's visit with no incident: a clean booking, its karma and bonus (taken back by an incident
        reported about it later)."""
        karma = table.karma
        track = self._record(st, karma)
        appointment = str(ev.data.get("appointment"))
        if any(i.appointment == appointment for i in track.incidents):
            return  # an incident was already reported for it: not clean
        track.clean += 1
        recent = track.recent if track.recent is not None else {}
        within = karma.revoke_within_us if karma is not None else REVOKE_WITHIN_US
        if recent and min(recent.values()) <= ev.at - within:
            recent = {a: t for a, t in recent.items() if t > ev.at - within}
        recent[appointment] = ev.at
        track.recent = recent
        if karma is not None and karma.enabled:
            self._karma(track, ev.at, karma.clean_booking)
            if karma.bonus:
                self._book(st, table).bonus(ev.at, karma.bonus, ev.id)
                track.bonus += karma.bonus

    def _incident(self, st: CounterpartyState, table: Table, track: Track, ev: Event) -> None:
        data = ev.data
        karma = table.karma
        severity = str(data.get("severity") or "minor")
        about = data.get("appointment")
        keep = table.scorecard.window_us if table.scorecard else INCIDENTS_KEPT_US
        if track.incidents and track.incidents[0].at <= ev.at - keep:
            track.incidents = [i for i in track.incidents if i.at > ev.at - keep]
        track.incidents.append(Incident(ev.at, ev.id, severity, data.get("category"),
                                        None if about is None else str(about)))
        track.incidents_total += 1
        if karma is not None and karma.enabled:
            self._karma(track, ev.at, -(karma.incident or {}).get(severity, 0))
            clean_at = (track.recent or {}).pop(str(about), None) if about is not None else None
            if clean_at is not None and clean_at > ev.at - karma.revoke_within_us:  # not clean after all
                track.clean -= 1
                self._karma(track, ev.at, -karma.clean_booking)
                if karma.bonus:
                    self._book(st, table).bonus(ev.at, karma.bonus, ev.id, revoke=True)
                    track.bonus -= karma.bonus

    def _record(self, st: CounterpartyState, karma: KarmaTerms | None) -> Track:
        if st.track is None:
            st.track = Track()
        if karma is not None and karma.enabled and st.track.karma is None:
            st.track.karma = karma.start
        return st.track

    def _karma(self, track: Track, at: int, change: int) -> None:
        track.karma = (track.karma or 0) + change
        day = at // DAY_US
        history = track.history if track.history is not None else []
        if history and history[-1][0] == day:
            history[-1] = (day, track.karma)
        else:
            history.append((day, track.karma))
        track.history = history
