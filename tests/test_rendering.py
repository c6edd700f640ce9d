"""What the bot says: escaping, limits, buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import rendering
from bot.callbacks import Ask, SubscribeTo, SubscribeToEach, decode, encode, fits
from bot.commands import Scope, commands_for
from bot.lexicon import default_lexicon
from bot.topics import Ambiguous, ambiguity
from tests.fakes import parse_telegram_html, utf16_len


def test_an_alert_with_hostile_and_huge_fields_is_valid_html_within_the_limit() -> None:
    text = rendering.alert(
        title="<b>" * 200,
        topics=[f"topic <{n}> & co" for n in range(50)],
        evidence="</i>&amp;" * 1000,
        source="<script>",
        url='https://x.example/?a="1"&b=<2>',
        published=datetime(2026, 11, 24, tzinfo=UTC),
    )
    plain = parse_telegram_html(text)
    assert utf16_len(plain) <= rendering.MESSAGE_LIMIT
    assert "<script>" in plain and "24 Nov 2026" in plain


def test_an_alert_shows_headline_reasons_evidence_source_date_and_link() -> None:
    text = rendering.alert(
        title="Copper rises",
        topics=["copper", "India-Chile", "zinc"],
        mentions={"zinc"},
        evidence="India and Chile agreed.",
        source="Wire",
        url="https://x.example/1",
        published=datetime(2026, 11, 24, tzinfo=UTC),
    )
    assert parse_telegram_html(text).splitlines() == [
        "🔔 Copper rises",
        "Matched: copper, India-Chile — main subject; zinc — mentioned",
        "“India and Chile agreed.”",
        "Wire · 24 Nov 2026 · Read more",
    ]


def test_an_alert_says_plainly_what_is_unknown_and_never_dates_a_story_by_its_ingest() -> None:
    text = rendering.alert(
        title="Copper miners strike in 1987",
        topics=["copper"],
        evidence="",
        source=None,
        url=None,
        published=None,
    )
    assert parse_telegram_html(text).splitlines()[-1] == ("source unknown · date unknown · no link")


def test_a_suggestion_offers_buttons_that_fit_callback_data() -> None:
    reply = rendering.suggestion("coper", ["copper", "cooper"])
    assert [row[0].action for row in reply.buttons] == [
        SubscribeTo("copper"),
        SubscribeTo("cooper"),
        SubscribeTo("coper"),
    ]
    long_typed = "é" * 40  # 80 bytes: no keep button, a hint instead
    reply = rendering.suggestion(long_typed, ["copper"])
    assert [row[0].action for row in reply.buttons] == [SubscribeTo("copper")]
    assert "/subscribe" in reply.text
    assert all(fits(b.action) for row in reply.buttons for b in row)


def test_split_message_keeps_lines_whole_and_under_the_limit() -> None:
    lines = [f"<b>{n}</b> " + "x" * 90 for n in range(100)]
    chunks = rendering.split_message(lines)
    assert len(chunks) == 3
    assert all(rendering.visible_length(chunk) <= rendering.MESSAGE_LIMIT for chunk in chunks)
    assert "\n".join(chunks) == "\n".join(lines)


def test_help_mentions_every_command_and_is_valid_html() -> None:
    plain = parse_telegram_html(rendering.help_text())
    for command in commands_for(Scope.EVERYONE):
        assert f"/{command.name}" in plain


def test_the_both_or_either_question_has_buttons_that_fit_or_says_what_to_type() -> None:
    lexicon = default_lexicon()
    india_chile = ambiguity("India Chile", lexicon)
    assert india_chile is not None
    question = rendering.several_topics_question(india_chile)
    assert [row[0].action for row in question.buttons] == [
        SubscribeTo("India-Chile"),
        SubscribeToEach(("India", "Chile")),
    ]
    long = ambiguity("Democratic Republic of the Congo Papua New Guinea -" + "x" * 20, lexicon)
    assert long is not None
    question = rendering.several_topics_question(long)
    assert all(fits(b.action) for row in question.buttons for b in row)
    assert len(question.buttons) < 2 and "/subscribe" in question.text
    assert "<b>Democratic Republic of the Congo-Papua New Guinea" in question.text


def test_button_data_of_new_kinds_reads_back() -> None:
    for made in (SubscribeToEach(("India", "Chile -cricket")), Ask("facts", "copper")):
        assert decode(encode(made)) == made


def test_the_either_button_is_left_out_when_a_topic_holds_its_separator() -> None:
    typed = Ambiguous("a|b or c", "a|b-c", ("a|b", "c"), phrase=False)
    question = rendering.several_topics_question(typed)
    assert [row[0].action for row in question.buttons] == [SubscribeTo("a|b-c")]
    assert "<code>/subscribe a|b, c</code>" in question.text


def test_no_list_of_headlines_carries_a_single_headline() -> None:
    items = [
        rendering.BurstItem(
            n, f"Copper headline number {n} " + "prices rise " * 15, None, "Wire", ("copper",)
        )
        for n in range(1, 60)
    ]
    split_at_one = 0
    for count in range(2, len(items) + 1):
        messages = rendering.alert_burst(items[:count])
        assert [i for m in messages for i in m.alert_ids] == list(range(1, count + 1))
        assert all(len(m.alert_ids) >= 2 for m in messages)
        assert all(rendering.visible_length(m.text) <= rendering.MESSAGE_LIMIT for m in messages)
        assert all(m.text.count("\n•") == len(m.alert_ids) for m in messages)
        split_at_one += len(messages) > len(rendering.alert_burst(items[: count - 1]))
    assert split_at_one >= 2  # the counts where one more headline starts a new message
