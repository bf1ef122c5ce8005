"""The business's invoice details are checked as their registries define them."""

from __future__ import annotations

import pytest

from firmly.domain import seller
from firmly.service.demo import SELLER


@pytest.mark.parametrize(("name", "value"), [
    ("seller_inn", "7707083893"), ("seller_inn", "500100732259"), ("seller_kpp", "773601001"),
    ("seller_kpp", "7736AB001"), ("seller_bik", "044525225"), ("seller_account", "40702810938000000001"),
    ("seller_corr_account", "30101810400000000225"), ("seller_iban", "GB82WEST12345698765432"),
    ("seller_iban", "DE89370400440532013000"), ("seller_swift", "DEUTDEFF"), ("seller_swift", "DEUTDEFF500"),
    ("seller_name", "ООО «Улыбка»"),
])
def test_valid_details_pass(name: str, value: str) -> None:
    assert seller.problem(name, seller.normal(name, value)) is None


@pytest.mark.parametrize(("name", "value", "said"), [
    ("seller_inn", "7707083894", "check digit"), ("seller_inn", "77070838", "10 or 12 digits"),
    ("seller_inn", "500100732258", "check digit"), ("seller_kpp", "77360100", "9 characters"),
    ("seller_bik", "04452522X", "9 digits"), ("seller_account", "4070281093800000000", "20 digits"),
    ("seller_corr_account", "40702810938000000001", "start with 301"),
    ("seller_iban", "GB82WEST12345698765433", "check number"), ("seller_swift", "DEUT", "8 or 11"),
    ("seller_name", "x" * 301, "at most 300"), ("seller_address", "", "must not be empty"),
])
def test_wrong_details_are_named(name: str, value: str, said: str) -> None:
    found = seller.problem(name, seller.normal(name, value))
    assert found is not None and said in found


def test_spaces_people_type_between_groups_are_dropped() -> None:
    assert seller.normal("seller_account", "4070 2810 9380 0000 0001") == "40702810938000000001"
    assert seller.normal("seller_iban", "gb82 west 1234 5698 7654 32") == "GB82WEST12345698765432"
    assert seller.normal("seller_address", "  Москва,\n ул. Тверская ") == "Москва, ул. Тверская"


def test_missing_asks_for_the_set_the_business_began() -> None:
    assert seller.missing({}) == ["seller_name", "seller_address", "seller_bank", "seller_inn", "seller_bik",
                                  "seller_account", "seller_corr_account"]
    assert seller.missing({"seller_iban": "GB82WEST12345698765432"}) == [
        "seller_name", "seller_address", "seller_bank", "seller_swift"]
    assert seller.missing(SELLER["ru"]) == [] and seller.missing(SELLER["en"]) == []


def test_an_account_that_does_not_fit_its_bik_is_named() -> None:
    assert seller.mismatches(SELLER["ru"]) == []
    wrong = {**SELLER["ru"], "seller_account": "40702810938000000002", "seller_bik": "044525225"}
    assert seller.mismatches(wrong) \
        == ["seller_account 40702810938000000002 does not match seller_bik 044525225 (its check digit is wrong)"]
    assert seller.mismatches({**SELLER["ru"], "seller_bik": "044525999"})  # the corr. account no longer fits
