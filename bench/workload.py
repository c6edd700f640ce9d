"""Deterministic workloads (seeded `random.Random`): a topic vocabulary, chats with their
subscriptions, and trade-news articles, plus a fast bulk loader for chats and subscriptions.

- Topics: the lexicon's names (as typed, and in lower case), co-occurrences (`India-Chile`,
  `Chile-copper`), exclusions (`copper -Copperfield`), commodity and trade phrases
  (`nickel exports`), and invented company names (`Varonex`, `Kelmora Resources`) until the
  count is reached. Every topic is the key `parse_watch_item` gives it, so it is stored exactly
  as `/subscribe` or `subscriptions import` would store it, and all are distinct.
- Subscriptions: every topic has at least one subscriber; the rest follow a Zipf-like law
  (weight 1/(rank+50)), so the most popular topics have a few hundred subscribers and most a
  handful. Chats are spread evenly (5 topics each at the issue's scale); 10% are groups.
- Articles: ~2 KB of trade-news prose, each about a few topics of the vocabulary (sentences
  with figures, so facts are extracted) plus an incidental name or two and neutral sentences.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.lexicon import Lexicon, default_lexicon
from bot.topics import TopicError, WatchItem, parse_watch_item
from storage.models import Chat, DeliveryMode, Subscription

SEED = 20_240_601
GROUP_SHARE = 0.10
DIGEST_ONLY_SHARE = 0.05
ARTICLE_BYTES = 2_000
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)  # fixed: the same workload on every run

_ONSETS = ["b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr"]
_ONSETS += ["gr", "kr", "tr", "st", "th", "ch", "qu", "pl", "fl", "sk"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"]
_CODAS = ["", "", "n", "r", "l", "x", "s", "m", "nd", "rt", "st", "th"]
_COMPANY_SUFFIXES = [
    "Resources",
    "Mining",
    "Metals",
    "Minerals",
    "Holdings",
    "Energy",
    "Logistics",
    "Shipping",
    "Trading",
    "Steel",
    "Agri",
    "Chemicals",
    "Group",
    "Capital",
    "Industries",
]
_TRADE_NOUNS = [
    "exports",
    "imports",
    "futures",
    "prices",
    "output",
    "shipments",
    "stockpiles",
    "smelters",
    "mines",
    "demand",
    "supply",
    "inventories",
    "refiners",
    "premiums",
    "contracts",
]
_EXCLUDED = ["Copperfield", "wire", "jewellery", "coins", "recipe", "football", "jokes", "paint"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August"]
_MONTHS += ["September", "October", "November", "December"]
_SOURCES = ["Reuters", "Bloomberg", "Mining Weekly", "Fastmarkets", "Argus", "Metal Bulletin"]
_SOURCES += ["Trade Wire", "Port Report", "Commodity Desk", "Asia Markets Daily"]


def invented_word(rng: random.Random) -> str:
    syllables = rng.choice((2, 2, 3, 3, 4))
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
    return (word + rng.choice(_CODAS)).capitalize()


@dataclass(frozen=True, slots=True)
class Topic:
    key: str  # what is stored: the parsed watch item's key
    item: WatchItem
    mentions: tuple[str, ...]  # how an article names each of its terms


def _topic(text: str, lexicon: Lexicon) -> Topic | None:
    try:
        item = parse_watch_item(text, lexicon)
    except TopicError:
        return None
    if parse_watch_item(item.key, lexicon).key != item.key:
        return None
    mentions = tuple(t.concept.name if t.concept else t.display for t in item.terms)
    return Topic(item.key, item, mentions)


def topic_vocabulary(count: int = 10_000, *, seed: int = SEED) -> list[Topic]:
    """`count` distinct topics that all parse, in a fixed order (lexicon names first)."""
    lexicon = default_lexicon()
    rng = random.Random(seed)
    concepts = [c for c in lexicon.concepts.values() if "/" not in c.id]
    members = [c for c in lexicon.concepts.values() if "/" in c.id]
    countries = [c.name for c in concepts if c.kind == "country"]
    commodities = [c.name for c in concepts + members if c.kind == "commodity"]
    names = [c.name for c in concepts] + [c.name for c in members]
    topics: dict[str, Topic] = {}
    invented: set[str] = set()

    def add(text: str) -> None:
        if len(topics) < count:
            topic = _topic(text, lexicon)
            if topic is not None and topic.key not in topics:
                topics[topic.key] = topic

    def company() -> str:
        while True:
            word = invented_word(rng)
            if word not in invented and len(word) >= 5 and lexicon.lookup(word) is None:
                invented.add(word)
                return word

    share = max(count // 10, 1)
    for concept in concepts + members:  # names as typed; aliases resolve to the same key
        add(rng.choice([s.text for s in concept.surfaces]) if rng.random() < 0.3 else concept.name)
        if concept.proper:
            add(concept.name.lower())  # typed in lower case: case relaxed, a key of its own
        if len(topics) >= share * 2:
            break
    phrases = share * 3
    while len(topics) < phrases:  # co-occurrences, exclusions, trade phrases
        roll = rng.random()
        if roll < 0.45:
            add(f"{rng.choice(countries)}-{rng.choice(countries + commodities)}")
        elif roll < 0.55:
            add(f"{rng.choice(commodities)} -{rng.choice(_EXCLUDED)}")
        else:
            add(f"{rng.choice(commodities)} {rng.choice(_TRADE_NOUNS)}")
    while len(topics) < count:  # invented companies, alone, with a suffix, or with a place
        roll = rng.random()
        if roll < 0.55:
            add(company())
        elif roll < 0.85:
            add(f"{company()} {rng.choice(_COMPANY_SUFFIXES)}")
        else:
            add(f"{company()}-{rng.choice(names)}")
    return list(topics.values())


@dataclass(frozen=True, slots=True)
class ChatRow:
    id: int
    kind: str
    mode: str


def chats(count: int = 20_000, *, seed: int = SEED) -> list[ChatRow]:
    rng = random.Random(seed + 1)
    rows = []
    for n in range(count):
        group = rng.random() < GROUP_SHARE
        chat_id = -(1_000_000_000_000 + n) if group else 100_000_000 + n
        mode = DeliveryMode.DIGEST if rng.random() < DIGEST_ONLY_SHARE else DeliveryMode.BOTH
        rows.append(ChatRow(chat_id, "supergroup" if group else "private", str(mode)))
    return rows


def popularity(topics: int, total: int, *, seed: int = SEED) -> list[int]:
    """Subscribers per topic (in a shuffled order of topics): at least one each, the rest
    following weight 1/(rank+50)."""
    rng = random.Random(seed + 2)
    counts = [1] * topics
    weights = list(itertools.accumulate(1.0 / (rank + 50) for rank in range(topics)))
    ranks = list(range(topics))
    rng.shuffle(ranks)  # which topic gets which popularity rank
    for _ in range(max(total - topics, 0)):
        rank = bisect.bisect(weights, rng.random() * weights[-1])
        counts[ranks[min(rank, topics - 1)]] += 1
    return counts


def subscriptions(
    topics: Sequence[Topic], chat_rows: Sequence[ChatRow], total: int, *, seed: int = SEED
) -> list[tuple[int, str]]:
    """(chat id, topic key) pairs, distinct, `total` of them (or as many as fit)."""
    rng = random.Random(seed + 3)
    counts = popularity(len(topics), total, seed=seed)
    slots = [topic.key for topic, n in zip(topics, counts, strict=True) for _ in range(n)]
    rng.shuffle(slots)
    taken: set[tuple[int, str]] = set()
    pairs = []
    for n, key in enumerate(slots):
        for step in range(len(chat_rows)):
            chat_id = chat_rows[(n + step * 7919) % len(chat_rows)].id
            if (chat_id, key) not in taken:
                taken.add((chat_id, key))
                pairs.append((chat_id, key))
                break
    return pairs


async def load_subscriptions(
    engine: AsyncEngine, chat_rows: Sequence[ChatRow], pairs: Sequence[tuple[int, str]]
) -> None:
    """Bulk insert chats and subscriptions (core `insert` executemany, one transaction)."""
    now = NOW
    async with engine.begin() as connection:
        await connection.execute(
            insert(Chat),
            [
                {
                    "id": row.id,
                    "kind": row.kind,
                    "title": None,
                    "active": True,
                    "inactive_reason": None,
                    "timezone": "UTC",
                    "digest_time": "08:00",
                    "mode": row.mode,
                    "empty_digest_line": False,
                    "created_at": now,
                }
                for row in chat_rows
            ],
        )
        await connection.execute(
            insert(Subscription),
            [{"chat_id": chat_id, "topic": key, "created_at": now} for chat_id, key in pairs],
        )


# ------------------------------------------------------------------------------------ articles


def _figure(rng: random.Random) -> dict[str, str]:
    return {
        "pct": f"{rng.randint(1, 40)}.{rng.randint(0, 9)}",
        "qty": f"{rng.randint(2, 900):,},{rng.randint(0, 999):03d}",
        "money": f"{rng.randint(80, 12_000):,}",
        "bn": f"{rng.randint(1, 60)}.{rng.randint(0, 9)}",
        "month": rng.choice(_MONTHS),
        "year": str(rng.randint(2026, 2032)),
        "rank": rng.choice(["second", "third", "fourth", "fifth"]),
    }


_ABOUT_ONE = [
    "{a} exports rose {pct}% to {qty} tonnes in {month}, customs data showed.",
    "Output linked to {a} fell {pct} percent from a year earlier, according to industry data.",
    "Shipments tied to {a} climbed to a record {qty} tonnes last month.",
    "Prices for {a} cargoes rose to ${money} a tonne on the spot market this week.",
    "{a} said it planned to lift production by {qty} tonnes by {year}.",
    "Traders said demand from {a} buyers had recovered, with imports up {pct}% in {month}.",
    "{a} became the {rank}-largest supplier to the region, its trade ministry said.",
    "Inventories of {a} material in bonded warehouses dropped {pct}% over the quarter.",
]
_ABOUT_TWO = [
    "{a} and {b} agreed to cut tariffs on metals and farm goods by {pct}% over five years.",
    "Trade between {a} and {b} reached ${bn} billion last year, official figures showed.",
    "{a} signed a ${bn} billion supply contract with partners in {b}, officials said.",
    "Exports from {a} to {b} jumped {pct}% in {month} as new port capacity opened.",
    "Officials from {a} met counterparts from {b} to discuss quotas and shipping costs.",
]
_NEUTRAL = [
    "Analysts said the outlook remained uncertain after weeks of volatile trading.",
    "The ministry did not respond to a request for comment on Tuesday.",
    "Several traders pointed to tight freight markets and longer delivery times.",
    "Market participants expect the issue to come up at next month's meeting.",
    "Buyers have been cautious, waiting for clearer signals on the policy.",
    "Port operators reported congestion at two terminals earlier in the week.",
    "The company declined to comment on the negotiations, citing confidentiality.",
    "Industry groups welcomed the decision but warned that costs could rise.",
    "A spokesperson said talks would continue and that no deadline had been set.",
    "Economists cautioned that currency swings could offset part of the gains.",
    "Logistics firms said rail capacity remained the main bottleneck for the season.",
    "Some smaller producers have already cut shifts because of weak margins.",
]
_REPORTERS = ["says", "reports", "finds", "warns", "notes", "estimates"]
_TITLES = [
    "{a} exports jump as buyers return",
    "{a} and {b} move closer to trade deal",
    "{a} output slips amid supply disruptions",
    "Demand for {a} lifts shipments to {b}",
    "{a} signs supply pact with {b}",
    "{a} prices climb on tight supply",
    "Talks on {a} tariffs resume in {b}",
    "{a} trims forecast as costs rise",
]


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    title: str
    url: str
    body: str
    source: str
    published: str
    topics: tuple[str, ...]  # the vocabulary keys it was written about

    def json_line(self) -> str:
        return json.dumps(
            {
                "title": self.title,
                "url": self.url,
                "body": self.body,
                "source": self.source,
                "published": self.published,
            },
            ensure_ascii=False,
        )


def article(
    rng: random.Random,
    number: int,
    focus: Sequence[Topic],
    incidental: Sequence[str],
    *,
    size: int = ARTICLE_BYTES,
    prefix: str = "news",
) -> ArticleRecord:
    """One article of about `size` characters about the `focus` topics."""
    names = [m for topic in focus for m in topic.mentions]
    lead = focus[0].mentions
    title = rng.choice(_TITLES).format(
        a=lead[0], b=lead[1] if len(lead) > 1 else rng.choice(incidental or names)
    )
    sentences: list[str] = []
    for topic in focus:
        values = _figure(rng)
        if len(topic.mentions) > 1:
            sentences.append(
                rng.choice(_ABOUT_TWO).format(a=topic.mentions[0], b=topic.mentions[1], **values)
            )
        else:
            sentences.append(rng.choice(_ABOUT_ONE).format(a=topic.mentions[0], **values))
    for name in incidental:
        sentences.append(rng.choice(_ABOUT_ONE).format(a=name, **_figure(rng)))
    rng.shuffle(sentences)
    paragraphs: list[list[str]] = [[]]
    length = sum(len(s) + 1 for s in sentences)
    pool = list(_NEUTRAL)
    while length < size:
        sentence = rng.choice(pool)
        if rng.random() < 0.15:  # a figure in a neutral sentence now and then
            sentence = sentence.rstrip(".") + f", with volumes up {rng.randint(2, 30)}%."
        sentences.insert(rng.randint(1, len(sentences)), sentence)
        length += len(sentence) + 1
    for sentence in sentences:
        if len(paragraphs[-1]) >= 3:
            paragraphs.append([])
        paragraphs[-1].append(sentence)
    body = "\n\n".join(" ".join(p) for p in paragraphs)
    published = NOW - timedelta(minutes=rng.randint(0, 48 * 60))
    return ArticleRecord(
        title=f"{title}, {invented_word(rng)} {rng.choice(_REPORTERS)}",
        url=f"https://{prefix}.example/{number}",
        body=body,
        source=rng.choice(_SOURCES),
        published=published.isoformat(),
        topics=tuple(topic.key for topic in focus),
    )


def articles(
    topics: Sequence[Topic], count: int = 5_000, *, seed: int = SEED, prefix: str = "news"
) -> Iterator[ArticleRecord]:
    """`count` articles, each about 2-4 topics of the vocabulary and 1-2 lexicon names."""
    rng = random.Random(seed + 4)
    lexicon = default_lexicon()
    incidental = [c.name for c in lexicon.concepts.values() if c.kind in ("country", "commodity")]
    for number in range(count):
        focus = rng.sample(list(topics), rng.randint(2, 4)) if len(topics) > 4 else list(topics)
        names = rng.sample(incidental, rng.randint(1, 2))
        yield article(rng, number, focus, names, prefix=prefix)


def distinct_story(rng: random.Random, name: str, number: int) -> tuple[str, str]:
    """A headline and a short body about `name` that no other call's output resembles closely
    enough to be taken for the same story (invented names make up most of the words)."""
    a, b, c, d, e, f, g = (invented_word(rng) for _ in range(7))
    title = f"{name.capitalize()}: {a} {b} {rng.choice(_REPORTERS)} {c} deal ({number})"
    body = (
        f"{d} {e} and {a} said {name} shipments to {f} {g} changed by {rng.randint(1, 40)}%. "
        f"{c} {b} buyers were cautious."
    )
    return title, body


def write_jsonl(path: Path, records: Iterator[ArticleRecord] | Sequence[ArticleRecord]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record.json_line() + "\n")
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class Workload:
    """Workload 1 at a scale: topics, chats, subscriptions."""

    topics: list[Topic]
    chats: list[ChatRow]
    subscriptions: list[tuple[int, str]]


def workload_one(*, topics: int, chats_count: int, subscriptions_count: int) -> Workload:
    vocabulary = topic_vocabulary(topics)
    chat_rows = chats(chats_count)
    return Workload(
        vocabulary, chat_rows, subscriptions(vocabulary, chat_rows, subscriptions_count)
    )


# ------------------------------------------------------------------ fan-out workload (issue 14)

# People in the news as a deployment's users would type them (surnames of 1987 wire stories and
# today's), then invented full names until the count is reached.
_PEOPLE = [
    "Baker",
    "Volcker",
    "Yeutter",
    "Nakasone",
    "Reagan",
    "Lawson",
    "Stoltenberg",
    "Poehl",
    "Sumita",
    "Miyazawa",
    "Gorbachev",
    "Thatcher",
    "Kohl",
    "Mitterrand",
    "Chirac",
    "Balladur",
    "Subroto",
    "Lukman",
    "Nazer",
    "Sarney",
    "Funaro",
    "Greenspan",
    "Lyng",
    "Darman",
    "Tamura",
    "Delors",
    "Andriessen",
    "Dunkel",
    "Camdessus",
    "Conable",
    "Sprinkel",
    "Gephardt",
    "Bentsen",
    "Dole",
    "Shultz",
    "Murdoch",
    "Icahn",
    "Pickens",
    "Boesky",
    "Goldsmith",
    "Lagarde",
    "Powell",
    "Yellen",
    "Xi",
    "Modi",
    "Lula",
    "Milei",
    "Boric",
    "Okonjo-Iweala",
    "Georgieva",
    "Dimon",
    "Musk",
]
_GIVEN_NAMES = [
    "Ana",
    "James",
    "Li",
    "Maria",
    "Kenji",
    "Olu",
    "Sara",
    "Pedro",
    "Ivan",
    "Amina",
    "Tom",
    "Priya",
    "Hans",
    "Chen",
    "Rosa",
]


def fanout_vocabulary(count: int = 3_500, *, seed: int = SEED) -> list[Topic]:
    """`count` distinct topics a news audience watches, most popular first: the big commodities
    and countries, then every lexicon commodity, country and organisation, people, and
    country-commodity pairs (`Chile-copper`) until the count is reached. All parse."""
    lexicon = default_lexicon()
    rng = random.Random(seed + 10)
    kinds = ("commodity", "country", "organisation", "bloc", "region")
    concepts = sorted(
        (c for c in lexicon.concepts.values() if c.kind in kinds),
        key=lambda c: (kinds.index(c.kind), c.name),
    )
    headline = [
        "copper", "gold", "oil", "China", "United States", "iron ore", "wheat", "coal",
        "Japan", "natural gas", "OPEC", "Chile", "silver", "sugar", "coffee", "aluminium",
        "Brazil", "India", "Russia", "soybeans", "nickel", "zinc", "Australia", "Germany",
    ]  # fmt: skip
    countries = [c.name for c in concepts if c.kind == "country"]
    commodities = [c.name for c in concepts if c.kind == "commodity"]
    topics: dict[str, Topic] = {}

    def add(text: str) -> None:
        if len(topics) < count:
            topic = _topic(text, lexicon)
            if topic is not None and topic.key not in topics:
                topics[topic.key] = topic

    for text in headline:
        add(text)
    rest = [c.name for c in concepts]
    rng.shuffle(rest)
    for text in rest:
        add(text)
    for person in _PEOPLE:
        add(person)
    for _ in range(150):
        add(f"{rng.choice(_GIVEN_NAMES)} {invented_word(rng)}")
    pairs = [f"{country}-{commodity}" for country in countries for commodity in commodities]
    rng.shuffle(pairs)  # pairs naming a headline country or commodity first (`Chile-copper`)
    pairs.sort(key=lambda pair: not any(part in headline for part in pair.split("-")))
    for pair in pairs:
        if len(topics) >= count:
            break
        add(pair)
    return list(topics.values())


def fanout_subscriptions(
    topics: Sequence[Topic], chat_rows: Sequence[ChatRow], per_chat: int, *, seed: int = SEED
) -> list[tuple[int, str]]:
    """`per_chat` distinct topics for every chat, drawn with weight 1/(rank+10) (Zipf-like:
    the first topics are watched by thousands of chats, most by a few dozen)."""
    rng = random.Random(seed + 11)
    cumulative = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(topics))))
    total = cumulative[-1]
    keys = [topic.key for topic in topics]
    pairs = []
    for row in chat_rows:
        chosen: set[int] = set()
        while len(chosen) < min(per_chat, len(keys)):
            chosen.add(min(bisect.bisect(cumulative, rng.random() * total), len(keys) - 1))
        pairs.extend((row.id, keys[rank]) for rank in sorted(chosen))
    return pairs


if __name__ == "__main__":  # a look at the workload: python -m bench.workload
    import collections

    work = workload_one(topics=10_000, chats_count=20_000, subscriptions_count=100_000)
    per_topic = collections.Counter(key for _, key in work.subscriptions)
    print(f"topics {len(work.topics)}, chats {len(work.chats)}, subs {len(work.subscriptions)}")
    print("most popular:", per_topic.most_common(5))
    print("median subscribers:", sorted(per_topic.values())[len(per_topic) // 2])
    print("sample topics:", [t.key for t in work.topics[:: len(work.topics) // 15]])
    sample = next(articles(work.topics, 1))
    print(len(sample.body), sample.title, "\n", sample.body[:600])
