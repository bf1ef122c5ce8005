"""Words that come from the data (actions, statuses, kinds, roles, ...) in the page's language.

Marked with N_ so that `pybabel extract -k N_` finds them; translated when shown, one dict per language
(a template asks for a term many times per page)."""

from __future__ import annotations

from functools import cache

from firmly.doors.web import i18n


def N_(message: str) -> str:  # gettext's name for "mark now, translate when shown"
    return message


WORDS = {
    "reminder": N_("reminder"), "thanks": N_("thanks"), "feedback": N_("feedback"), "warning": N_("warning"),
    "fee": N_("fee"), "surcharge": N_("surcharge"), "require_prepayment": N_("prepayment required"),
    "suspend": N_("suspension"), "terminate": N_("termination"), "grace_approved": N_("grace approved"),
    "grace_denied": N_("grace denied"), "earn_back": N_("strike earned back"), "bill": N_("bill"),
    "top_up_invoice": N_("top-up invoice"), "refused": N_("refused"), "reinstate": N_("reinstated"),
    "exempt": N_("exempt"), "exception_granted": N_("leniency granted"), "exception_denied": N_("leniency declined"),
    "waiver": N_("waiver"), "upcoming": N_("upcoming"), "expired": N_("expired"), "ended": N_("ended"),
    "applied": N_("applied"), "scheduled": N_("scheduled"), "cancelled": N_("cancelled"), "proposed": N_("proposed"),
    "approved": N_("approved"), "softened": N_("softened"), "dismissed": N_("dismissed"),
    "superseded": N_("superseded"),
    "active": N_("active"), "restricted": N_("restricted"), "suspended": N_("suspended"),
    "terminated": N_("terminated"),
    "client": N_("client"), "partner": N_("partner"), "supplier": N_("supplier"),
    "admin": N_("admin"), "operator": N_("operator"), "viewer": N_("viewer"),
    "keep": N_("keep"), "replace": N_("replace"), "drop": N_("drop"),
    "approve": N_("approve"), "soften": N_("soften"), "dismiss": N_("dismiss"), "reopen": N_("reopen"),
    "polite": N_("polite"), "neutral": N_("neutral"), "hostile": N_("hostile"),
    "credit": N_("credit"), "debit": N_("debit"), "standard": N_("standard"),
    "payment": N_("payment"), "settlement": N_("settlement"), "service": N_("service"), "invoice": N_("invoice"),
    "bonus": N_("bonus"),
    "appointment": N_("appointment"), "order": N_("order"), "request": N_("request"), "project": N_("project"),
}


@cache
def _translated(lang: str) -> dict[str, str]:
    catalogue = i18n.translations(lang)
    return {word: catalogue.gettext(message) for word, message in WORDS.items()}


def term(word: str | None) -> str:
    if not word:
        return "—"
    return _translated(i18n.current()).get(word, word)
