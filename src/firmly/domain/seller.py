"""The business's own details as an invoice carries them, checked the way their registries define them.

Russian payers need the legal name, address, INN (and KPP for an organisation), the bank's name and BIK,
the settlement account and the bank's correspondent account; payers abroad need an IBAN and a SWIFT/BIC
code instead. Each setting is checked when it is set; whether the whole set is enough for an invoice is
checked when one is drawn, so a business can fill them in any order."""

from __future__ import annotations

import re

from firmly.domain.vocabulary import N_

SETTINGS = {
    "seller_name": N_("the business's legal name on invoices, e.g. \"ООО «Улыбка»\""),
    "seller_address": N_("the business's legal address on invoices"),
    "seller_inn": N_("the business's INN (10 digits for an organisation, 12 for a sole trader)"),
    "seller_kpp": N_("the business's KPP (9 characters; organisations only)"),
    "seller_vat_id": N_("the business's VAT or other tax id, for invoices abroad"),
    "seller_bank": N_("the bank the business is paid through, e.g. \"ПАО Сбербанк, г. Москва\""),
    "seller_bik": N_("the bank's BIK (9 digits)"),
    "seller_account": N_("the business's settlement account (20 digits)"),
    "seller_corr_account": N_("the bank's correspondent account (20 digits, starting 301)"),
    "seller_iban": N_("the business's IBAN, for payments from abroad (instead of BIK and accounts)"),
    "seller_swift": N_("the bank's SWIFT/BIC code (8 or 11 characters), with the IBAN"),
}
ALWAYS = ("seller_name", "seller_address", "seller_bank")
RUSSIAN_BANK = ("seller_inn", "seller_bik", "seller_account", "seller_corr_account")
FOREIGN_BANK = ("seller_iban", "seller_swift")
LONGEST = 300  # a name, an address or a bank: what fits an invoice's box

_KPP = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")
_SWIFT = re.compile(r"[A-Z]{6}[A-Z\d]{2}([A-Z\d]{3})?")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z\d]{11,30}")
_INN_WEIGHTS = {10: ((2, 4, 10, 3, 5, 9, 4, 6, 8),),
                12: ((7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))}


def normal(name: str, value: str) -> str:
    """A value as it is stored: numbers and codes without the spaces people type between groups."""
    if name in ("seller_name", "seller_address", "seller_bank", "seller_vat_id"):
        return " ".join(value.split())
    return "".join(value.split()).upper()


def problem(name: str, value: str) -> str | None:
    """What is wrong with one setting's value (already normal), or None."""
    if not value:
        return "must not be empty (leave the value out to remove the setting)"
    if name in ("seller_name", "seller_address", "seller_bank", "seller_vat_id"):
        return f"must be at most {LONGEST} characters, got {len(value)}" if len(value) > LONGEST else None
    if name == "seller_inn":
        ok = _inn_valid(value)
        return None if ok else f"must be an INN of 10 or 12 digits with a valid check digit, got {value!r}"
    if name == "seller_kpp":
        return None if _KPP.fullmatch(value) else f"must be a KPP of 9 characters like 770101001, got {value!r}"
    if name == "seller_bik":
        return None if value.isdigit() and len(value) == 9 else f"must be a BIK of 9 digits, got {value!r}"
    if name in ("seller_account", "seller_corr_account"):
        if not (value.isdigit() and len(value) == 20):
            return f"must be 20 digits, got {value!r}"
        if name == "seller_corr_account" and not value.startswith("301"):
            return f"must start with 301 (a correspondent account), got {value!r}"
        return None
    if name == "seller_iban":
        return None if _iban_valid(value) else f"must be an IBAN with a valid check number, got {value!r}"
    if name == "seller_swift":
        return None if _SWIFT.fullmatch(value) else f"must be a SWIFT/BIC code of 8 or 11 characters, got {value!r}"
    return None


def missing(settings: dict[str, str]) -> list[str]:
    """The settings an invoice still needs: the name, address and bank, and either the Russian bank details or
    an IBAN with its SWIFT code (whichever the business has begun to give; the Russian set when neither)."""
    foreign = any(settings.get(name) for name in FOREIGN_BANK) and not any(settings.get(n) for n in RUSSIAN_BANK)
    needed = ALWAYS + (FOREIGN_BANK if foreign else RUSSIAN_BANK)
    return [name for name in needed if not settings.get(name)]


def mismatches(settings: dict[str, str]) -> list[str]:
    """Details that are valid alone but not together: an account whose control digit does not fit the BIK."""
    bik, account, corr = (settings.get(n, "") for n in ("seller_bik", "seller_account", "seller_corr_account"))
    found = []
    if bik and account and not _account_fits(bik[-3:], account):
        found.append(f"seller_account {account} does not match seller_bik {bik} (its check digit is wrong)")
    if bik and corr and not _account_fits("0" + bik[4:6], corr):
        found.append(f"seller_corr_account {corr} does not match seller_bik {bik} (its check digit is wrong)")
    return found


def _inn_valid(value: str) -> bool:
    if not value.isdigit() or len(value) not in _INN_WEIGHTS:
        return False
    digits = [int(c) for c in value]
    for weights in _INN_WEIGHTS[len(value)]:
        check = sum(w * d for w, d in zip(weights, digits, strict=False)) % 11 % 10
        if digits[len(weights)] != check:
            return False
    return True


def _iban_valid(value: str) -> bool:
    if not _IBAN.fullmatch(value):
        return False
    moved = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _account_fits(prefix: str, account: str) -> bool:
    """The Bank of Russia's control key: the BIK's three digits and the account, weighted 7-1-3, end in 0."""
    weights = (7, 1, 3) * 8
    return sum(int(c) * w % 10 for c, w in zip(prefix + account, weights, strict=False)) % 10 == 0
