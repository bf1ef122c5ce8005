"""Tone analysis (firmly.domain.tone) with the packaged lexicons (firmly.adapters.lexicons).

One test per hard case of the evaluation set, the texts of the grace-courtesy scenario, the whole
evaluation set against the goal, and a workspace's own lexicon file with its error messages."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from firmly.adapters.lexicons import load_lexicon
from firmly.domain.errors import InvalidInput
from firmly.domain.tone import Entry, Lexicon, Tone, analyse, build_lexicon

DATA = Path(__file__).resolve().parents[1] / "data"
GRACE_EVENTS = Path("/work/shared/scenarios/grace-courtesy/events.jsonl")

# The grace requests of the grace-courtesy scenario (seeds/003), kept here so the test runs anywhere.
OLGA = ("Здравствуйте! Я перевела деньги вечером 31-го, но платёж из другого банка прошёл только ночью. "
        "Пожалуйста, верните льготный период, если это возможно. Спасибо!")
IGOR = ("Вы что там, совсем обнаглели?! Верните грейс немедленно, иначе подам на вас в суд и расскажу всем "
        "в соцсетях, какой вы банк. Закрою счёт!")
PETR = ("Добрый день. Был в командировке и забыл пополнить карту, прошу понять и вернуть льготный период. "
        "Благодарю.")
KATE = ("Hi, sorry about this - my transfer from another bank arrived a few hours late. Could you please "
        "restore my grace period? Thank you!")
MIKE = ("This is ridiculous. Restore my grace period right now or I will sue you and post about your useless "
        "bank on Twitter. I'm closing my account!")


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return load_lexicon()


def tone_of(text: str, lexicon: Lexicon) -> Tone:
    tone = analyse(text, lexicon)
    position = 0
    for phrase in tone.phrases:  # quoted evidence: exact substrings, in order of appearance
        found = text.find(phrase, position)
        assert found >= 0, (phrase, text)
        position = found + len(phrase)
    assert list(tone.kinds) == sorted(set(tone.kinds))
    assert all(p in text for p in tone.polite)
    assert (tone.tone == "hostile") == bool(tone.kinds) == bool(tone.phrases)
    return tone


def tones(texts: Sequence[str], lexicon: Lexicon) -> list[str]:
    return [tone_of(t, lexicon).tone for t in texts]


# -- the grace-courtesy scenario -----------------------------------------------------------------------

def test_the_polite_grace_requests_are_polite(lexicon: Lexicon) -> None:
    assert tones([OLGA, PETR, KATE], lexicon) == ["polite", "polite", "polite"]
    assert tone_of(OLGA, lexicon).language == "ru"
    assert tone_of(KATE, lexicon).language == "en"
    assert tone_of(PETR, lexicon).polite == ("прошу", "Благодарю")


def test_igor_is_hostile_and_the_threat_to_sue_is_quoted(lexicon: Lexicon) -> None:
    tone = tone_of(IGOR, lexicon)
    assert tone.tone == "hostile"
    assert tone.kinds == ("insult", "pressure", "threat")
    assert tone.phrases == ("совсем обнаглели", "немедленно, иначе", "подам на вас в суд",
                            "расскажу всем в соцсетях", "Закрою счёт")
    assert any("суд" in phrase for phrase in tone.phrases)


def test_mike_is_hostile_with_every_threat_quoted(lexicon: Lexicon) -> None:
    tone = tone_of(MIKE, lexicon)
    assert tone.tone == "hostile"
    assert {"threat", "insult", "pressure"} <= set(tone.kinds)
    assert "sue you" in tone.phrases
    assert "I'm closing my account" in tone.phrases
    assert any("Twitter" in phrase for phrase in tone.phrases)


def test_the_shared_scenario_still_holds_these_texts(lexicon: Lexicon) -> None:
    if not GRACE_EVENTS.exists():
        pytest.skip(f"{GRACE_EVENTS} is not here (a clone without ../shared)")
    texts = {}
    for line in GRACE_EVENTS.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if "text" in event["data"]:
            texts[event["counterparty"]] = event["data"]["text"]
    expected = {"olga": "polite", "petr": "polite", "kate": "polite", "igor": "hostile", "mike": "hostile"}
    assert {who: tone_of(text, lexicon).tone for who, text in texts.items()} == expected


# -- one test per hard case ----------------------------------------------------------------------------

def test_plain_messages(lexicon: Lexicon) -> None:
    assert tones([
        "Какой лимит на снятие наличных по дебетовой карте?",
        "How much does a replacement card cost?",
        "Спасибо, что так быстро разблокировали карту!",
        "Could you let me know whether the follow-up visit is included in the price?",
        "Мне нужна выписка по счёту для суда по разделу имущества. Как её получить?",
        "There's a court order freezing part of my account. Who can explain what it covers?",
        "Мне звонили мошенники от имени банка, карта заблокирована. Что делать дальше?",
        "Блин, забыла оплатить вовремя, простите.",
        "Судя по выписке, проценты начислены неверно. Проверьте, пожалуйста.",
        "Холестериновые бляшки нашли на УЗИ, нужна запись к кардиологу.",
        "Это пиздец, а не банк.",
        "Fucking useless app.",
    ], lexicon) == ["neutral", "neutral", "polite", "polite", "neutral", "neutral", "neutral", "polite",
                    "polite", "neutral", "hostile", "hostile"]


def test_polite_complaints_stay_polite(lexicon: Lexicon) -> None:
    assert tones([
        "I am disappointed, please look into this.",
        "The receptionist was rude to me on the phone. I'd appreciate it if you could speak to her.",
        "This is the third time I'm writing about the fee refund without an answer. Please escalate.",
        "Вынуждена пожаловаться на работу отделения: очередь больше часа. Прошу обратить внимание. Спасибо.",
        "Оператор мне нахамил по телефону. Надеюсь, вы проведёте беседу с сотрудником. Благодарю.",
    ], lexicon) == ["polite"] * 5


def test_threats_without_insults(lexicon: Lexicon) -> None:
    cases = {
        "Верните льготный период, иначе обращусь в Центробанк.": "Центробанк",
        "Закрываю все счета и ухожу в другой банк.": "Закрываю все счета",
        "Напишу отзыв на Банки.ру, пусть все знают.": "Напишу отзыв на Банки",
        "Увидимся в суде.": "в суде",
        "My lawyer will be in touch.": "lawyer will be in touch",
        "I'm filing a complaint with the CFPB today.": "filing a complaint with",
        "I'll post the whole conversation on Facebook and Reddit.": "post the whole conversation on Facebook",
    }
    for text, phrase in cases.items():
        tone = tone_of(text, lexicon)
        assert tone.kinds == ("threat",), text
        assert any(phrase in p for p in tone.phrases), (text, tone.phrases)


def test_insults_without_threats(lexicon: Lexicon) -> None:
    for text in ("Ваши операторы — идиоты.", "Шарашкина контора, а не клиника.", "Вы мошенники!",
                 "Clowns, all of you.", "Are you people completely incompetent?", "You are thieves!"):
        assert tone_of(text, lexicon).kinds == ("insult",), text


def test_sarcasm_is_hostile_and_sincere_praise_is_not(lexicon: Lexicon) -> None:
    sarcasm = tone_of("Спасибо за прекрасный сервис, третий раз теряете мой платёж.", lexicon)
    assert sarcasm.kinds == ("insult",)
    assert sarcasm.phrases == ("прекрасный сервис", "третий раз")
    assert tones([
        "Thanks for the wonderful service, that's the third time you've lost my payment.",
        "Bravo! You blocked my card on holiday again. Great job.",
        "Спасибо за отличный сервис, всё пришло вовремя!",
        "Great job as always, thank you for the mockups!",
        "Спасибо за быстрый ответ! Карта опять не проходит в магазине, подскажите, что делать?",
    ], lexicon) == ["hostile", "hostile", "polite", "polite", "polite"]


def test_negated_threats_do_not_count(lexicon: Lexicon) -> None:
    assert tones([
        "Я не буду подавать в суд, просто прошу вернуть комиссию. Спасибо.",
        "I won't sue, I just want the fee refunded. Thanks.",
        "Не хочу жаловаться, но врач опоздал на полчаса. Учтите, пожалуйста.",
        "Жалобу в ЦБ писать не буду, давайте решим вопрос сами.",
        "I have no intention of going to court, please just call me back.",
        "I'm not going to close my account, I just need to understand this charge.",
    ], lexicon) == ["polite", "polite", "polite", "neutral", "polite", "neutral"]


def test_negations_that_keep_the_threat(lexicon: Lexicon) -> None:
    assert tones([
        "Не вынуждайте меня обращаться в прокуратуру.",
        "I won't hesitate to sue if this happens again.",
        "Don't make me call my lawyer.",
        "Если не вернёте я подам в суд.",
        "I'm going to complain to the ombudsman if you don't refund me.",
        "Не хотелось бы доводить до суда, но выбора у меня не будет.",
    ], lexicon) == ["hostile"] * 6


def test_quoted_speech_of_others_is_not_held_against_the_writer(lexicon: Lexicon) -> None:
    assert tones([
        "Ваш оператор сказал мне: «Вы что, совсем тупая?» Пожалуйста, разберитесь с этим сотрудником.",
        'The receptionist replied "go sue us if you don\'t like it". Please check the call recording.',
        "«Закрою счёт и уйду к конкурентам», — пригрозил мне муж. Объясните, пожалуйста, комиссию.",
        "Сотрудник назвал меня идиоткой при других клиентах. Примите меры, пожалуйста.",
        "Your employee called me an idiot in front of other customers. Please take action.",
    ], lexicon) == ["polite"] * 5
    # ... but the writer's own words, quoted, and scare quotes are theirs
    assert tones([
        "Я вашему менеджеру так и сказал: «Ещё раз — и подам в суд».",
        'I told your manager exactly that: "one more time and I\'m taking you to court".',
        'Your "service" is a joke.',
    ], lexicon) == ["hostile"] * 3


def test_typos(lexicon: Lexicon) -> None:
    assert tones([
        "Обращусь в прокуротуру, если не вернёте деньги.",
        "Напишу жалобу в роспотребнадзр.",
        "Ваши сотрудники идеоты.",
        "I will file a lawsiut.",
        "I'm closing my acount and going to another bank.",
        "Пажалуйста, верните льготный период. Спосибо.",
    ], lexicon) == ["hostile"] * 5 + ["polite"]


def test_all_caps(lexicon: Lexicon) -> None:
    caps = tone_of("ВЕРНИТЕ ДЕНЬГИ НЕМЕДЛЕННО, ИНАЧЕ ПОДАЮ В СУД!", lexicon)
    assert caps.kinds == ("pressure", "threat")
    assert caps.phrases == ("НЕМЕДЛЕННО, ИНАЧЕ", "ПОДАЮ В СУД")
    assert tones(["ARE YOU IDIOTS?! I ASKED YOU NOT TO CALL!", "PLEASE HELP, MY CARD WAS BLOCKED ABROAD.",
                  "СПАСИБО БОЛЬШОЕ ЗА ПОМОЩЬ!!!"], lexicon) == ["hostile", "polite", "polite"]


def test_russian_in_latin_letters(lexicon: Lexicon) -> None:
    sud = tone_of("Vy chto tam, sovsem obnagleli? Podam v sud!", lexicon)
    assert sud.language == "ru"
    assert sud.phrases == ("sovsem obnagleli", "Podam v sud")
    assert tones(["podam v sud", "Idioty, vernite dengi nemedlenno.", "Zakroyu schet i uydu v drugoy bank.",
                  "Izvinite, mozhno perenesti priem na zavtra?", "Skazhite, kogda pridet perevod?"],
                 lexicon) == ["hostile", "hostile", "hostile", "polite", "neutral"]
    # English words that happen to spell Russian ones are read as English in English text
    assert tone_of("I'm going to the bank to pick up my card.", lexicon).tone == "neutral"


# -- threats that are history or about someone else -----------------------------------------------------

def test_legal_words_about_the_past_or_a_third_party_are_not_threats(lexicon: Lexicon) -> None:
    assert tones([
        "I've filed a lawsuit against my former employer, so I need my salary statements for 2022.",
        "Last year I complained to the regulator about another bank; this time I just need a refund form.",
        "Years ago I sued my landlord over the deposit.",
        "My neighbour is suing the developer, he asked me to recommend a bank.",
        "Подал иск против работодателя, нужна выписка по зарплатному счёту.",
        "В прошлом году я жаловался в ЦБ на другой банк, но у вас пока всё хорошо.",
        "Когда-то я подавала жалобу в Роспотребнадзор на магазин, там быстро разобрались.",
        "В 2019 году мы судились с прежним поставщиком.",
        "Подам в суд на застройщика, пришлите справку о платежах по ипотеке.",
    ], lexicon) == ["neutral"] * 9


def test_legal_words_about_us_are_still_threats(lexicon: Lexicon) -> None:
    cases = {
        "I have already filed a complaint with the regulator about you.": "regulator",
        "Я уже написал жалобу в ЦБ на вас.": "жалобу в ЦБ",
        "Я написал жалобу в ЦБ.": "жалобу в ЦБ",  # no time, no one else: about us
        "Last year I complained to the regulator about you, and I will do it again.": "regulator",
        "В прошлом году я уже жаловался на вас в Роспотребнадзор.": "Роспотребнадзор",
        "В 2019 году мы судились с вами и выиграли.": "судились",
        "I will sue you and my former employer too.": "sue you",
        "I'm taking you to small claims court.": "small claims court",
    }
    for text, phrase in cases.items():
        tone = tone_of(text, lexicon)
        assert tone.kinds == ("threat",), text
        assert any(phrase in p for p in tone.phrases), (text, tone.phrases)


def test_a_leaving_destination_or_an_audience_is_not_a_third_party(lexicon: Lexicon) -> None:
    # "в другой банк" is where the writer goes, not whom they complain about
    assert tone_of("Перейду на обслуживание в другой банк.", lexicon).kinds == ("threat",)
    assert tone_of("I'm closing my account and moving to another bank.", lexicon).phrases == (
        "I'm closing my account", "moving to another bank")
    # the parents are who will hear it, not whom it is about
    assert tone_of("I'll tell every parent in our school group to avoid your clinic.", lexicon).tone == "hostile"


def test_the_core_drops_history_with_a_lexicon_of_its_own() -> None:
    forms = {"подать": ["подать", "подам", "подал"], "суд": ["суд", "суде"], "работодатель": ["работодателя"]}

    def inflect(word: str) -> list[tuple[str, frozenset[str]]]:
        return [(f, frozenset()) for f in forms.get(word, [word])]

    lexicon = build_lexicon([
        Entry("threat", "подать ... =в суд"), Entry("third_party", "=на ...2 работодатель"),
        Entry("past_time", "=когда =то"), Entry("past_tense", "=подал"), Entry("addressee", "=вас"),
    ], inflect)
    assert analyse("Подам в суд на работодателя.", lexicon).tone == "neutral"
    assert analyse("Когда-то подал в суд, долго тянулось.", lexicon).tone == "neutral"
    assert analyse("Подал в суд, ждите.", lexicon).tone == "hostile"  # past, but no time: current
    assert analyse("Когда-то подал на вас в суд.", lexicon).tone == "hostile"  # about the addressee


# -- the evaluation set ---------------------------------------------------------------------------------

def test_the_evaluation_set_meets_the_goal(lexicon: Lexicon) -> None:
    rows = [json.loads(line) for line in (DATA / "tone_eval.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 320
    assert {r["lang"] for r in rows} == {"ru", "en"}
    hostile = [r for r in rows if r["label"] == "hostile"]
    calm = [r for r in rows if r["label"] != "hostile"]
    missed = [r["text"] for r in hostile if analyse(r["text"], lexicon).tone != "hostile"]
    wrongly = [r["text"] for r in calm if analyse(r["text"], lexicon).tone == "hostile"]
    assert 1 - len(missed) / len(hostile) >= 0.95, missed
    assert len(wrongly) / len(calm) <= 0.02, wrongly


# -- building lexicons ---------------------------------------------------------------------------------

def test_the_core_compiles_a_lexicon_without_any_file_or_analyser() -> None:
    forms = {"подать": ["подать", "подам", "подал", "подаст"], "суд": ["суд", "суда", "суде"]}

    def inflect(word: str) -> list[tuple[str, frozenset[str]]]:
        return [(f, frozenset()) for f in forms.get(word, [word])]

    lexicon = build_lexicon([Entry("threat", "подать ... =в суд"), Entry("polite", "спасибо")], inflect)
    tone = analyse("Спасибо, но я подам на вас в суд.", lexicon)
    assert (tone.tone, tone.phrases, tone.polite) == ("hostile", ("подам на вас в суд",), ("Спасибо",))
    assert analyse("Подам документы в понедельник, суд назначен на среду.", lexicon).tone == "neutral"


def test_a_workspace_lexicon_adds_words(lexicon: Lexicon, tmp_path: Path) -> None:
    extra = tmp_path / "tone.yaml"
    extra.write_text(textwrap.dedent("""\
        # words this workspace counts as insults, and a phrase that is harmless here
        insult:
          - "бюрократ"
          - "paper pusher|=pushers"
        safe:
          - "=в =суд =присяжных"
        """), encoding="utf-8")
    assert tone_of("Бюрократы!", lexicon).tone == "neutral"
    custom = load_lexicon([extra])
    assert custom is load_lexicon([extra])  # compiled once per file
    assert tone_of("Одни бюрократами сидят.", custom).phrases == ("бюрократами",)
    assert tone_of("You paper pushers!", custom).kinds == ("insult",)
    assert tone_of("Меня вызвали в суд присяжных, можно перенести приём?", custom).tone == "neutral"
    assert tone_of("Подам в суд.", custom).tone == "hostile"  # the packaged words are still there


def test_a_broken_workspace_lexicon_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    extra = tmp_path / "tone.yaml"
    extra.write_text(textwrap.dedent("""\
        insult:
          - "бюрократ"
          - "подать ..."
          - 42
          - "закрыть:1per,plur,xyz"
        threats:
          - "sue"
        profanity_roots:
          - "(unclosed"
        """), encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        load_lexicon([extra])
    message = str(raised.value)
    assert f"{extra}:3: insult[1]: 'подать ...': \"...\" must stand between two words" in message
    assert f"{extra}:4: insult[2]: must be a non-empty string" in message
    assert f"{extra}:6: threats: is not a lexicon key" in message
    assert f"{extra}:5: insult[3]: 'закрыть:1per,plur,xyz': no form of 'закрыть' has the grammemes" in message
    assert f"{extra}:9: profanity_roots[0]: is not a regular expression" in message
    assert [(p.line, p.field) for p in raised.value.problems] == [
        (3, "insult[1]"), (4, "insult[2]"), (5, "insult[3]"), (6, "threats"), (9, "profanity_roots[0]")]

    extra.write_text("insult: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"tone\.yaml:\d+: lexicon: is not valid YAML"):
        load_lexicon([extra])
    with pytest.raises(InvalidInput, match=r"missing\.yaml: lexicon: cannot be read"):
        load_lexicon([tmp_path / "missing.yaml"])
