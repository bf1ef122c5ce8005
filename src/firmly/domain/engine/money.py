"""The fold's money: the account, services, payments, refusals on credit, sanctions, and effort per day."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from firmly.domain.engine import values
from firmly.domain.engine.core import Core
from firmly.domain.engine.decision import Decision, decision_id
from firmly.domain.engine.policy import Table
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.events import Event
from firmly.domain.ledger import Account, Book
from firmly.domain.scores import Day, count, day_of

Out = list[Decision]


class MoneyFold(Core):
    def _book(self, st: CounterpartyState, table: Table) -> Book:
        if st.account is None:
            st.account = Account(table.account.currency if table.account else table.currency)
        return Book(st.key, st.account, self.postings)

    def _price(self, st: CounterpartyState, table: Table, code: str) -> Decimal | None:
        """The counterparty's own price from the moment it was set, else the rulebook's."""
        own = (st.prices or {}).get(code)
        if own is not None:
            return own
        found = table.prices.get(code)
        return found.price if found else None

    def _money(self, st: CounterpartyState, table: Table, ev: Event, out: Out) -> None:
        data = ev.data
        if ev.type == "service.rendered":
            code = str(data.get("service"))
            price = self._price(st, table, code)
            if price is None:
                return  # not on any price list: a service that is not sold separately
            quantity = values.number(data.get("quantity") or 1, ev.id, "quantity")
            if quantity is None:
                return
            amount = price * quantity
            if amount <= 0:
                return  # a free service posts nothing
            book = self._book(st, table)
            if table.account is None:  # no account kept in advance: the service is owed
                book.owe(ev.at, amount, ev.id, "service", "service", code, None)
            elif not self._refused(st, table, book, amount, ev, code, out, None):
                book.charge(ev.at, amount, ev.id, "service", "service", code)
                self._low(st, table, book, ev.id, ev.at, out)
        elif ev.type == "payment.received":
            paid = values.amount(data.get("amount"), ev.id, "amount")
            if paid is None:
                return
            amount = paid
            if table.account is None:  # no account to hold money: a payment only settles what is owed here
                amount = min(amount, st.account.due if st.account is not None else Decimal(0))
                if amount <= 0:
                    return
            book = self._book(st, table)
            book.pay(ev.at, amount, ev.id)
            self._low(st, table, book, ev.id, ev.at, out)

    def _refused(self, st: CounterpartyState, table: Table, book: Book, amount: Decimal, ev: Event, code: str,
                 out: Out, rule: str | None) -> bool:
        """A service or bill that would pass the credit limit is not rendered on credit: a decision says so."""
        terms = table.account
        if terms is None or book.can_charge(amount, terms.credit_limit):
            return False
        found = table.prices.get(code)
        self._account_decision(st, "refused", ev.id, ev.at, amount, book.account.currency, out, rule, params={
            "service": code, "title": found.title if found else code, "balance": str(book.account.balance),
            "limit": str(terms.credit_limit)})
        return True

    def _low(self, st: CounterpartyState, table: Table, book: Book, event: str, at: int, out: Out) -> None:
        terms = table.account
        if terms is not None and terms.mode == "prepaid" and book.low(terms):
            assert terms.top_up is not None
            self._account_decision(st, "top_up_invoice", event, at, terms.top_up, book.account.currency, out, None,
                                   params={"balance": str(book.account.balance), "low": str(terms.low_balance)})

    def _account_decision(self, st: CounterpartyState, action: str, event: str, at: int, amount: Decimal,
                          currency: str, out: Out, rule: str | None, params: dict[str, Any]) -> None:
        st.n += 1
        out.append(Decision(decision_id(st.key, rule or "", action, event), st.key, rule, at, action, "applied",
                            event, (event,), st.n, amount=amount, currency=currency, params=params))

    def _sanction(self, st: CounterpartyState, d: Decision, at: int, out: Out) -> None:
        """Fees and surcharges always post; what the balance cannot cover becomes due."""
        assert d.amount is not None
        table = self.table(st, at)
        book = self._book(st, table)
        book.sanction(at, d.amount, d.event, d.id, d.action)
        self._low(st, table, book, d.event, at, out)  # a fee can take the balance below the threshold too

    def _day(self, st: CounterpartyState, table: Table, at: int) -> Day:
        if st.days is None:
            st.days = []
        return day_of(st.days, at, table.cost_period_us)

    def _effort(self, st: CounterpartyState, table: Table, ev: Event) -> None:
        data = ev.data
        bucket = self._day(st, table, ev.at)
        kind = ev.type
        if kind == "work.logged":
            minutes = values.whole(data.get("minutes") or 0, ev.id, "minutes")
            if minutes is not None:
                bucket.minutes += minutes
                if data.get("in_tariff") is False:
                    bucket.out_of_tariff += minutes
        elif kind == "request.received":
            minutes = values.whole(data.get("effort_minutes") or 0, ev.id, "effort_minutes")
            bucket.minutes += minutes or 0
            bucket.topics = count(bucket.topics, str(data.get("topic") or "other"))
        elif kind == "service.rendered":
            quantity = values.whole(data.get("quantity") or 1, ev.id, "quantity")
            if quantity is not None:
                bucket.services = count(bucket.services, str(data.get("service")), quantity)
        else:
            revenue = values.amount(data.get("amount"), ev.id, "amount")
            if revenue is not None:
                bucket.revenue += revenue
