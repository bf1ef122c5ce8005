"""A few thousand realistic events for the demo workspace, the same every time (seeded).

Five businesses' worth of counterparties, each governed by one of the shipped examples' rulebooks:
dental patients (smile), print-shop customers (print-shop, in Russian), studio clients on prepaid accounts
(studio), partner clinics with bookings, incidents and reviews (partner-clinics), and suppliers with
deliveries and incidents (suppliers). Times run from January to the end of June 2026."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

LONDON = timezone(timedelta(hours=1))  # summer time; winter dates in January-March are an hour off: harmless
MOSCOW = timezone(timedelta(hours=3))
BERLIN = timezone(timedelta(hours=2))
START = datetime(2026, 1, 5, 9, 0)
END = datetime(2026, 6, 28, 18, 0)
TICK = "2026-06-30T00:00:00+01:00"

FIRST_EN = ("Olivia", "Jack", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Grace", "Oscar",
            "Freya", "Arthur", "Lily", "Theo", "Ella", "Alfie", "Rosie", "Finn", "Zara", "Ethan", "Maya", "Sam")
LAST_EN = ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright",
           "Hughes", "Green", "Hall", "Wood", "Clarke", "Patel", "Khan", "Lewis", "Scott", "Young")
COMPANIES_RU = ("Ромашка", "Вектор", "Гранит", "Север", "Альфа-Принт", "Меридиан", "Орион", "Кедр", "Восход",
                "Сигма", "Полюс", "Заря", "Континент", "Прогресс", "Атлант", "Радуга", "Феникс", "Горизонт",
                "Маяк", "Ладога", "Эверест", "Стрела", "Янтарь", "Бриз", "Омега", "Тайга", "Сфера", "Рубин")
STUDIO_CLIENTS = ("Harbor Foods", "Lumen Labs", "Oakline", "Pixelwood", "Quartz Legal", "Redfern Bikes",
                  "Sable & Co", "Tidewater", "Umbra Games", "Vantage Health", "Willow Tea", "Yardley Homes")
PARTNERS = ("Eastgate Dental", "Harbourside Clinic", "Kingsway Medical", "Meadow Health", "Oak Street Clinic",
            "Parkview Dental", "Queensbridge Care", "Westfield Clinic")
SUPPLIERS = (("medsupply", "MedSupply Ltd", "12000.00"), ("cleanpro", "CleanPro Services", "3000.00"),
             ("dentalab", "DentaLab", "9000.00"), ("printfast", "PrintFast", "1500.00"),
             ("securenet", "SecureNet IT", "20000.00"), ("freshlinen", "Fresh Linen Co", "2500.00"))
SERVICES = (("check-up", "60.00"), ("cleaning", "85.00"), ("filling", "140.00"), ("whitening", "250.00"))

POLITE_RU = ("Добрый день! Спасибо за оперативность, всё получили.", "Благодарим за отличную печать, до встречи!",
             "Пожалуйста, подскажите сроки по следующему заказу. Спасибо!", "Всё в порядке, спасибо большое.")
NEUTRAL_RU = ("Когда будет готов тираж?", "Пришлите, пожалуйста, счёт на оплату.", "Нужна правка макета.")
HOSTILE_RU = ("Если тираж не будет завтра, подадим на вас в суд.", "Вы мошенники, напишу о вас во всех соцсетях!",
              "Сколько можно ждать, идиоты? Разорвём договор.")
POLITE_EN = ("Thank you so much for the quick turnaround!", "Lovely work, thanks to the whole team.",
             "Could you please send the proofs when you have a moment? Thanks!")
NEUTRAL_EN = ("When will the next draft be ready?", "Please send the invoice.", "We need one more change.")
HOSTILE_EN = ("This is a disgrace. I will sue you if this is not fixed today.",
              "You are useless, I'll post about this everywhere.", "Fix it now or we are taking you to court.")
REVIEWS = {5: ("Seen on time, friendly staff.", "Excellent, painless and quick."),
           4: ("Good visit, a short wait.", "Very professional."),
           3: ("Had to wait a while, but fine in the end.",),
           2: ("They did not know about my booking.",),
           1: ("Told my booking was 'not through the service' and sent home.",)}


class _Writer:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.n = 0

    def add(self, type_: str, key: str, at: datetime, data: dict[str, Any], ident: str | None = None) -> str:
        self.n += 1
        ident = ident or f"g{self.n:05d}"
        self.events.append({"id": ident, "type": type_, "counterparty": key, "occurred_at": at.isoformat(),
                            "data": data})
        return ident


def _moment(rng: random.Random, tz: timezone, start: datetime = START, end: datetime = END) -> datetime:
    span = int((end - start).total_seconds())
    local = start + timedelta(seconds=rng.randrange(span))
    return local.replace(second=0, microsecond=0, tzinfo=tz)


def _clock(at: datetime, hour: int, minute: int = 0) -> datetime:
    return at.replace(hour=hour, minute=minute, second=0, microsecond=0)


def generate(seed: int = 1) -> list[dict[str, Any]]:
    """The events, oldest first."""
    rng = random.Random(seed)
    w = _Writer()
    _patients(rng, w)
    _print_shop(rng, w)
    _studio(rng, w)
    _partners(rng, w)
    _suppliers(rng, w)
    return sorted(w.events, key=lambda e: (e["occurred_at"][:19], e["id"]))


def _patients(rng: random.Random, w: _Writer) -> None:
    for i in range(1, 201):
        key = f"pt-{i:03d}"
        first = _moment(rng, LONDON, START, END - timedelta(days=30))
        data: dict[str, Any] = {"kind": "client", "name": f"{rng.choice(FIRST_EN)} {rng.choice(LAST_EN)}",
                                "email": f"{key}@example.org", "locale": "en", "rulebooks": ["smile"]}
        if rng.random() < 0.08:
            data["tier"] = "family"
        w.add("counterparty.upserted", key, first, data, f"cp-{key}")
        careless = rng.random() < 0.12  # a few patients cancel late and miss visits far more often
        at = first
        for visit in range(rng.randint(2, 8)):
            at = at + timedelta(days=rng.randint(5, 40), minutes=rng.randint(0, 600))
            starts = _clock(at + timedelta(days=rng.randint(2, 14)), rng.randint(9, 18), rng.choice((0, 30)))
            if starts > END.replace(tzinfo=LONDON):
                break
            appointment = f"{key}-a{visit}"
            service, price = rng.choice(SERVICES)
            w.add("appointment.booked", key, at, {"appointment": appointment, "starts_at": starts.isoformat(),
                                                  "service": service, "price": price})
            roll = rng.random()
            late, missed = (0.30, 0.15) if careless else (0.05, 0.02)
            if roll < late:
                w.add("appointment.cancelled", key, starts - timedelta(hours=rng.randint(1, 10)),
                      {"appointment": appointment})
            elif roll < late + 0.08:
                w.add("appointment.cancelled", key, starts - timedelta(days=rng.randint(2, 5)),
                      {"appointment": appointment})
            elif roll < late + 0.08 + missed:
                w.add("appointment.no_show", key, starts + timedelta(minutes=30), {"appointment": appointment})
            else:
                w.add("appointment.attended", key, starts + timedelta(minutes=rng.randint(0, 10)),
                      {"appointment": appointment})


def _print_shop(rng: random.Random, w: _Writer) -> None:
    for i, company in enumerate(COMPANIES_RU):
        key = f"ps-{i + 1:02d}"
        w.add("counterparty.upserted", key, _clock(START.replace(tzinfo=MOSCOW), 9),
              {"kind": "client", "name": f"ООО «{company}»", "email": f"{key}@example.ru", "locale": "ru",
               "rulebooks": ["print-shop"]}, f"cp-{key}")
        sloppy = rng.random() < 0.25
        for n in range(rng.randint(4, 12)):
            day = _moment(rng, MOSCOW)
            order = f"{key}-o{n}"
            hour = rng.choice((15, 16, 17)) if rng.random() < (0.4 if sloppy else 0.08) else rng.randint(9, 13)
            submitted = _clock(day, hour, rng.choice((0, 15, 40)))
            w.add("order.submitted", key, submitted, {"order": order, "for_date": (day + timedelta(days=1)).date()
                                                      .isoformat()})
            for r in range(rng.randint(0, 4 if sloppy else 2)):
                channel = "phone:personal" if rng.random() < (0.35 if sloppy else 0.05) else "email:orders"
                w.add("request.received", key, submitted + timedelta(hours=r + 2),
                      {"request": f"{order}-q{r}", "channel": channel, "topic": "revision", "order": order,
                       "effort_minutes": rng.randint(15, 90)})
            if n % 2 == 0:
                amount = f"{rng.randint(8, 90) * 1000}.00"
                due = _clock(day + timedelta(days=10), 18)
                w.add("invoice.issued", key, submitted + timedelta(hours=3),
                      {"invoice": f"{order}-inv", "amount": amount, "due_at": due.isoformat()})
                roll = rng.random()
                if roll < (0.35 if sloppy else 0.08):
                    w.add("payment.received", key, due + timedelta(days=rng.randint(1, 6)),
                          {"amount": amount, "invoice": f"{order}-inv"})
                elif roll < 0.97:
                    w.add("payment.received", key, due - timedelta(days=rng.randint(1, 8)),
                          {"amount": amount, "invoice": f"{order}-inv"})
        for _ in range(rng.randint(0, 3)):
            pool = HOSTILE_RU if sloppy and rng.random() < 0.5 else rng.choice((POLITE_RU, NEUTRAL_RU))
            w.add("message.received", key, _moment(rng, MOSCOW), {"text": rng.choice(pool), "channel": "email:orders",
                                                                  "lang": "ru"})


def _studio(rng: random.Random, w: _Writer) -> None:
    for i, company in enumerate(STUDIO_CLIENTS):
        key = f"st-{i + 1:02d}"
        data: dict[str, Any] = {"kind": "client", "name": company, "email": f"{key}@example.com", "locale": "en",
                                "rulebooks": ["studio"]}
        demanding = i in (1, 4, 9)  # three clients take far more effort than they pay for
        if i % 4 == 0:
            data["prices"] = {"consultation": "100.00"}
        start = _clock(START.replace(tzinfo=BERLIN), 10)
        w.add("counterparty.upserted", key, start, data, f"cp-{key}")
        w.add("payment.received", key, start + timedelta(hours=1), {"amount": "3000.00"})
        at = start + timedelta(days=1)
        project, paid = 0, start
        while at < END.replace(tzinfo=BERLIN) - timedelta(days=3):
            at = at + timedelta(days=rng.randint(2, 9 if demanding else 16), hours=rng.randint(0, 6))
            if at - paid > timedelta(days=60 if demanding else 30):  # a monthly top-up, late for the demanding
                w.add("payment.received", key, at - timedelta(hours=2), {"amount": "1500.00"})
                paid = at
            roll = rng.random()
            if roll < 0.35:
                w.add("service.rendered", key, at, {"service": "consultation", "quantity": 1})
            elif roll < 0.55:
                project += rng.random() < 0.3
                w.add("request.received", key, at,
                      {"request": f"{key}-r{w.n}", "channel": "phone:personal" if demanding and rng.random() < 0.4
                       else "email:studio", "topic": "design_change", "project": f"{key}-p{project}",
                       "effort_minutes": rng.randint(30, 120)})
            elif roll < 0.75:
                w.add("work.logged", key, at, {"minutes": rng.randint(60, 600 if demanding else 240),
                                               "in_tariff": not (demanding and rng.random() < 0.5)})
            elif roll < 0.85:
                w.add("payment.received", key, at, {"amount": rng.choice(("1500.00", "3000.00", "900.00"))})
            elif roll < 0.9:
                w.add("service.rendered", key, at, {"service": "workshop", "quantity": 1})
            else:
                pool = HOSTILE_EN if demanding and rng.random() < 0.4 else rng.choice((POLITE_EN, NEUTRAL_EN))
                w.add("message.received", key, at, {"text": rng.choice(pool), "channel": "email:studio", "lang": "en"})


def _partners(rng: random.Random, w: _Writer) -> None:
    keys = []
    for i, name in enumerate(PARTNERS):
        key = f"pc-{i + 1:02d}"
        keys.append(key)
        w.add("counterparty.upserted", key, _clock(START.replace(tzinfo=LONDON), 8),
              {"kind": "partner", "name": name, "email": f"desk@{key}.example"}, f"cp-{key}")
    careless = {keys[2], keys[5]}
    for n in range(1, 301):
        patient = f"np-{n:03d}"
        partner = rng.choice(keys)
        booked = _moment(rng, LONDON, START, END - timedelta(days=14))
        if n <= 150:
            w.add("counterparty.upserted", patient, booked - timedelta(minutes=5),
                  {"kind": "client", "name": f"{rng.choice(FIRST_EN)} {rng.choice(LAST_EN)}", "locale": "en",
                   "rulebooks": ["smile"]}, f"cp-{patient}")
        appointment = f"nb-{n:03d}"
        starts = _clock(booked + timedelta(days=rng.randint(2, 12)), rng.randint(9, 17))
        w.add("appointment.booked", patient, booked, {"appointment": appointment, "starts_at": starts.isoformat(),
                                                      "partner": partner})
        bad = rng.random() < (0.15 if partner in careless else 0.03)
        w.add("appointment.attended", patient, starts + timedelta(minutes=5), {"appointment": appointment,
                                                                               "partner": partner})
        rating = rng.choice((1, 2, 3)) if bad else rng.choice((4, 5, 5))
        if bad:
            severity = "major" if rng.random() < 0.5 else "minor"
            w.add("incident.reported", partner, starts + timedelta(hours=3),
                  {"severity": severity, "category": "booking_refused" if severity == "major" else "booking_delayed",
                   "appointment": appointment, "description": "The booking was not honoured as agreed."})
        if rng.random() < 0.55:
            w.add("review.received", partner, starts + timedelta(hours=6),
                  {"rating": rating, "text": rng.choice(REVIEWS[rating]), "author": patient,
                   "appointment": appointment, "publish": rng.random() < 0.85})


def _suppliers(rng: random.Random, w: _Writer) -> None:
    for i, (key, name, switching) in enumerate(SUPPLIERS):
        w.add("counterparty.upserted", key, _clock(START.replace(tzinfo=LONDON), 8),
              {"kind": "supplier", "name": name, "switching_cost": switching, "email": f"orders@{key}.example"},
              f"cp-{key}")
        late_share = (0.05, 0.45, 0.1, 0.2, 0.05, 0.15)[i]
        for n in range(rng.randint(8, 16)):
            due = _clock(_moment(rng, LONDON), 17)
            late = rng.random() < late_share
            w.add("delivery.completed", key, due + timedelta(days=rng.randint(1, 4)) if late
                  else due - timedelta(hours=rng.randint(2, 30)), {"order": f"{key}-{n}", "due_at": due.isoformat()})
        for _ in range(rng.randint(0, 3)):
            w.add("incident.reported", key, _moment(rng, LONDON),
                  {"severity": rng.choice(("minor", "minor", "major")), "category": "quality",
                   "description": "A batch below the agreed quality."})
        if key == "securenet":
            w.add("incident.reported", key, _moment(rng, LONDON, END - timedelta(days=40)),
                  {"severity": "major", "category": "data_breach",
                   "description": "Backups of appointment data were left readable from the internet."})
