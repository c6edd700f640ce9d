"""OPML import and export of feeds: the reader (nesting, bad and repeated outlines, XML
attacks), `tradebot feeds import FILE.opml` / `tradebot feeds export` round-tripping through a
fresh database, and an admin sending an .opml file to the bot through the fake Bot API."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as settings_for_property
from hypothesis import strategies as st

from bot.articles import MAX_SOURCE_LENGTH
from bot.cli import main
from bot.context import BotApplication
from bot.opml import MAX_OPML_BYTES, OpmlError, read_opml, write_opml
from bot.settings import Settings
from bot.text import collapse_whitespace, shorten
from storage import feeds as feed_store
from storage.db import SessionFactory
from storage.models import Feed
from tests.fakes import FakeTelegram, SentMessage
from tests.fakes.web import FakeWeb, rss20
from tests.test_feed_polling import ADMIN, story

STRANGER = 31

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="Metals" title="Metals">
      <outline type="rss" text="Mining Wire" title="Mining Wire"
               xmlUrl="https://mining.example.com/feed.xml" htmlUrl="https://mining.example.com/"/>
      <outline text="Base metals">
        <outline type="rss" text="Copper Daily" xmlUrl="HTTPS://Copper.Example.org/rss"/>
      </outline>
    </outline>
    <outline type="rss" text="https://plain.example.net/atom" xmlUrl="https://plain.example.net/atom"/>
    <outline type="rss" text="Copper again" xmlUrl="https://copper.example.org/rss"/>
    <outline type="rss" text="Mail" xmlUrl="mailto:news@example.com"/>
    <outline type="rss" text="Router" xmlUrl="http://192.168.1.1/feed"/>
    <outline text="A note, not a feed"/>
  </body>
</opml>
"""


def test_every_feed_outline_is_read_at_any_depth_with_its_name() -> None:
    found = read_opml(READER_EXPORT)
    assert [(o.url, o.name) for o in found.feeds] == [
        ("https://mining.example.com/feed.xml", "Mining Wire"),
        ("HTTPS://Copper.Example.org/rss", "Copper Daily"),
        ("https://plain.example.net/atom", None),  # named by its URL: no name of its own
        ("https://copper.example.org/rss", "Copper again"),
        ("mailto:news@example.com", "Mail"),
        ("http://192.168.1.1/feed", "Router"),
    ]
    assert [(s.where, s.reason) for s in found.skipped] == [
        ('outline 9 "A note, not a feed"', "no xmlUrl: not a feed")
    ]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<opml version="2.0"><body><outline text="&lol2;" xmlUrl="https://x.example/"/>'
            b"</body></opml>",
            "refused: DTDForbidden",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<opml version="2.0"><body><outline text="&xxe;" xmlUrl="https://x.example/"/>'
            b"</body></opml>",
            "refused: DTDForbidden",
        ),
        (b"<opml><body><outline xmlUrl='https://x.example/'></body></opml>", "not well-formed"),
        (b"<rss version='2.0'><channel/></rss>", "not OPML: the root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "not OPML: no <body>"),
        (b"", "not well-formed"),
        (b" " * (MAX_OPML_BYTES + 1), "larger than 1024 KB"),
    ],
)
def test_unsafe_or_unreadable_documents_are_refused_with_a_reason(
    document: bytes, reason: str
) -> None:
    with pytest.raises(OpmlError) as refused:
        read_opml(document)
    assert str(refused.value).startswith(reason)


def test_written_opml_reads_back_the_same_feeds_even_with_hostile_names() -> None:
    feeds = [
        Feed(id=1, url="https://a.example/feed?x=1&y=<2>", name='Metals "&" <Mining>'),
        Feed(id=2, url="https://b.example/rss", name=None),
        Feed(id=3, url="https://c.example/rss", name="Bell\x07 and \ufffe noise"),
    ]
    document = write_opml(feeds)
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    found = read_opml(document.encode())
    assert [(o.url, o.name) for o in found.feeds] == [
        ("https://a.example/feed?x=1&y=<2>", 'Metals "&" <Mining>'),
        ("https://b.example/rss", None),
        ("https://c.example/rss", "Bell and noise"),
    ]
    assert found.skipped == []


def test_feeds_import_adds_every_feed_and_explains_each_skipped_one(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    opml = tmp_path / "reader.opml"
    opml.write_bytes(READER_EXPORT)
    assert main(["feeds", "add", "https://plain.example.net/atom"]) == 0
    capsys.readouterr()

    assert main(["feeds", "import", str(opml)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "imported: 2, already there: 1, skipped: 4",
        '  outline 5 "https://plain.example.net/atom": already there as feed #1',
        '  skipped outline 6 "Copper again": repeats outline 4 "Copper Daily"',
        '  skipped outline 7 "Mail": only http and https URLs are fetched, not mailto',
        '  skipped outline 8 "Router": 192.168.1.1 is a private address',
        '  skipped outline 9 "A note, not a feed": no xmlUrl: not a feed',
        "the running bot fetches them within 30 s (no restart needed)",
    ]

    assert main(["feeds", "import", str(opml)]) == 0  # again: nothing new, nothing lost
    assert capsys.readouterr().out.startswith("imported: 0, already there: 3, skipped: 4")


def test_export_then_import_into_a_fresh_database_gives_the_same_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = f"sqlite+aiosqlite:///{tmp_path / 'first.db'}"
    second = f"sqlite+aiosqlite:///{tmp_path / 'second.db'}"
    monkeypatch.setenv("DATABASE_URL", first)
    assert main(["feeds", "add", "https://a.example/feed", "--name", "Mining & Metals <Wire>"]) == 0
    assert main(["feeds", "add", "https://b.example/rss"]) == 0
    assert main(["feeds", "add", "https://c.example/atom?x=1&y=2", "--name", "Cöpper Nëws"]) == 0
    capsys.readouterr()
    assert main(["feeds", "export"]) == 0
    exported = capsys.readouterr().out
    (tmp_path / "feeds.opml").write_text(exported, encoding="utf-8")

    monkeypatch.setenv("DATABASE_URL", second)
    assert main(["feeds", "import", str(tmp_path / "feeds.opml")]) == 0
    assert capsys.readouterr().out.startswith("imported: 3, already there: 0, skipped: 0")
    assert main(["feeds", "export"]) == 0
    again = capsys.readouterr().out
    assert _without_date(again) == _without_date(exported)
    assert 'text="Mining &amp; Metals &lt;Wire&gt;"' in exported


def _without_date(document: str) -> list[str]:
    return [line for line in document.splitlines() if "dateCreated" not in line]


def test_feeds_import_of_a_missing_or_hostile_file_says_why(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["feeds", "import", str(tmp_path / "nope.opml")]) == 1
    assert "cannot read" in capsys.readouterr().err
    bomb = tmp_path / "bomb.opml"
    bomb.write_bytes(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>')
    assert main(["feeds", "import", str(bomb)]) == 1
    assert "refused: DTDForbidden" in capsys.readouterr().err


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "allow_private_feed_hosts": True,
            "feed_poll_seconds": 60.0,
            "feed_timeout_seconds": 2.0,
            "admin_ids": frozenset({ADMIN}),
        }
    )


async def send_file(
    telegram: FakeTelegram, data: bytes, chat_id: int = ADMIN, **options: object
) -> list[SentMessage]:
    before = len(telegram.sent_to(chat_id))
    telegram.add_document(chat_id, data, file_name="feeds.opml", **options)  # type: ignore[arg-type]
    return (await telegram.wait_for_sent(before + 1, chat_id=chat_id))[before:]


async def stored_feeds(db: SessionFactory) -> list[tuple[str, str | None]]:
    async with db() as session:
        return [(feed.url, feed.name) for feed in await feed_store.list_feeds(session=session)]


async def test_an_admin_sends_an_opml_file_and_its_feeds_are_imported_and_fetched(
    bot: BotApplication, telegram: FakeTelegram, web: FakeWeb, db: SessionFactory
) -> None:
    web.serve("/metals.xml", rss20([story(1)]))
    document = (
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="Desk">'
        f'<outline type="rss" text="Metals &lt;desk&gt;" xmlUrl="{web.url("/metals.xml")}"/>'
        '<outline type="rss" text="Mail" xmlUrl="mailto:news@example.com"/>'
        "</outline></body></opml>"
    ).encode()

    [reply] = await send_file(telegram, document, mime_type="text/x-opml")
    assert (reply.plain_text or "").splitlines() == [
        "📥 Imported 1 feed (0 already there, 1 skipped). The new ones are fetched within a "
        "minute; see /feeds.",
        "Skipped",
        '• outline 3 "Mail": only http and https URLs are fetched, not mailto',
    ]
    assert await stored_feeds(db) == [(web.url("/metals.xml"), "Metals <desk>")]
    await web.wait_for_hits("/metals.xml")  # fetched at once, not at the next round
    assert [call.status for call in telegram.calls_of("getFile")] == [200]

    [again] = await send_file(telegram, document)
    assert (again.plain_text or "").startswith("📥 Imported 0 feeds (1 already there, 1 skipped).")
    assert '• outline 2 "Metals <desk>": already there as feed #1' in (again.plain_text or "")


@pytest.mark.parametrize(
    ("chat_id", "chat_type", "user_id", "refusal"),
    [
        (STRANGER, "private", None, "Only the bot's admins can import feeds from an OPML file."),
        (-100, "group", STRANGER, "Only the bot's admins can import feeds from an OPML file."),
        (
            -100,
            "group",
            ADMIN,
            "Send OPML files to me in a private chat: feed lists are not for the group.",
        ),
    ],
)
async def test_an_opml_file_from_anyone_but_an_admin_in_private_is_refused_unread(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    chat_id: int,
    chat_type: str,
    user_id: int | None,
    refusal: str,
) -> None:
    [reply] = await send_file(
        telegram, READER_EXPORT, chat_id, chat_type=chat_type, user_id=user_id
    )
    assert reply.plain_text == refusal
    assert telegram.calls_of("getFile") == []
    assert await stored_feeds(db) == []


async def test_a_large_or_hostile_opml_file_gets_a_short_answer_and_imports_nothing(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    [too_large] = await send_file(telegram, b" " * (MAX_OPML_BYTES + 1))
    assert too_large.plain_text == (
        "That file is too large: OPML files of up to 1024 KB are imported."
    )
    assert telegram.calls_of("getFile") == []

    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><opml><body/></opml>'
    [refused] = await send_file(telegram, bomb)
    assert refused.plain_text == (
        "Cannot import feeds.opml: refused: DTDForbidden (DTDs and entities are not allowed)."
    )
    assert await stored_feeds(db) == []


@settings_for_property(max_examples=200, deadline=None)
@given(
    names=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=120), min_size=1, max_size=5
    )
)
def test_any_stored_feed_name_survives_export_and_import(names: list[str]) -> None:
    feeds = [
        Feed(id=n, url=f"https://feeds.example/{n}?a=1&b=2", name=stored_name(name))
        for n, name in enumerate(names, start=1)
    ]
    found = read_opml(write_opml(feeds).encode())
    assert [(o.url, o.name) for o in found.feeds] == [
        (f.url, readable(f.name) or None) for f in feeds
    ]


def stored_name(typed: str) -> str | None:
    """A name as `feeds add --name` stores it."""
    return shorten(collapse_whitespace(typed), MAX_SOURCE_LENGTH) or None


def readable(name: str | None) -> str:
    """What survives of a name: characters XML cannot carry and control characters go."""
    kept = "".join(c if c.isprintable() else " " for c in name or "")
    return shorten(collapse_whitespace(kept), MAX_SOURCE_LENGTH)
