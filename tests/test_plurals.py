"""Every count the bot prints agrees with its number, in every interface language: each
rendering function is called with every count (numbers and list lengths) at 1 and at 2 (and 5
in the translations), and what it says is read back."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import itertools
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot import charts, i18n, rendering
from bot.text import counted
from storage.models import Alert, Article, Feed
from storage.stats import Stats

MOMENT = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
DAYS = itertools.count()  # each sample day a different one (a chart counts a day once)
NAMED = {"mode": "both", "digest_time": "07:30", "timezone": "Asia/Kolkata"}
# "1 new articles", "1 older ones", "(1 distinct topics)": a one followed by a plural noun
ONE_WITH_PLURAL = re.compile(r"(?<![\d.,:–-])\b1 (?:[a-z]+ )?(?!days\b)[a-z]+(?:s|ies)\b")
# "2 new article", "2 entry": a count above one followed by a singular noun
MANY_WITH_SINGULAR = re.compile(
    r"(?<![\d.,:–-])\b2 (?:new |older |distinct |failed )?"
    r"(?:article|entry|alert|duplicate|headline|topic|item|one|fetch)\b(?! \w+s\b)"
)

# The same in Spanish: "1 artículos", "1 temas nuevos"; "2 artículo", "5 alerta"
ONE_WITH_PLURAL_ES = re.compile(
    r"(?<![\d.,:–-])\b1 (?!tras\b)(?:[a-záéíóúñ]+ )?[a-záéíóúñ]+(?:os|as|es)\b"
)
MANY_WITH_SINGULAR_ES = re.compile(
    r"(?<![\d.,:–-])\b[25] (?:artículo|tema|alerta|entrada|duplicado|elemento|intento|titular"
    r"|entrega|descarga|día|fallo|feed)\b(?!s)"
)
# In Hindi nouns take the oblique plural after a number above one: "1 लेखों" is wrong
ONE_WITH_PLURAL_HI = re.compile(r"(?<![\d.,:–-])\b1 \S*ों(?=[\s,.)।]|$)")
AGREEMENT = {
    "es": (ONE_WITH_PLURAL_ES, MANY_WITH_SINGULAR_ES),
    "hi": (ONE_WITH_PLURAL_HI, None),
}


def sample(kind: Any, name: str, count: int, typevars: dict[Any, Any]) -> Any:
    """A value of a parameter's type: every number and every list of `count`."""
    kind = typevars.get(kind, kind)
    origin = typing.get_origin(kind)
    args = tuple(typevars.get(arg, arg) for arg in typing.get_args(kind))
    if origin in (types.UnionType, typing.Union):
        return sample(next(a for a in args if a is not type(None)), name, count, typevars)
    if origin is typing.Literal:
        return args[0]
    if kind is int:
        return count
    if kind is float:
        return 0.5
    if kind is bool:
        return True
    if kind is str and name in NAMED:
        return NAMED[name]
    if kind is str:
        return "https://news.example.com/copper" if "url" in name else "copper"
    if kind is datetime:
        return MOMENT
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(iter(kind))
    if kind is date:
        return MOMENT.date() - timedelta(days=next(DAYS))
    if origin in (list, Sequence, Collection) or (origin is tuple and args[-1:] == (Ellipsis,)):
        items = [sample(args[0], name, count, typevars) for _ in range(count)]
        return tuple(items) if origin is tuple else items
    if origin is tuple:
        return tuple(sample(arg, name, count, typevars) for arg in args)
    if origin in (dict, Mapping):  # keys of text: made distinct
        value = sample(args[1], name, count, typevars)
        return {f"{sample(args[0], name, count, typevars)} {i}": value for i in range(count)}
    if kind is Feed:
        return Feed(
            id=count,
            url="https://metals.example.com/feed.xml",
            name="Metals desk",
            last_error="timed out",
            items_seen=count,
            consecutive_failures=count,
            last_fetch_at=MOMENT,
        )
    if kind is Alert:
        return Alert(id=count, chat_id=count, article_id=count, topics='["copper"]')
    if kind is Article:
        return Article(id=count, title="Copper rises", content_hash="c", source="Wire")
    cls = origin or kind
    if dataclasses.is_dataclass(cls):
        bound = dict(zip(getattr(cls, "__parameters__", ()), args, strict=False))
        hints = typing.get_type_hints(cls)
        return cls(
            **{
                field.name: sample(hints[field.name], field.name, count, {**typevars, **bound})
                for field in dataclasses.fields(cls)
            }
        )
    raise TypeError(f"no sample for {kind!r}")


def said(result: Any) -> str:
    """The plain text of whatever a rendering function returns."""
    if isinstance(result, str):
        return rendering.plain_text(result)
    if isinstance(result, rendering.Reply):
        return rendering.plain_text(result.text)
    if isinstance(result, list | tuple):
        return "\n".join(said(part) for part in result)
    return ""


def rendering_functions() -> list[Callable[..., Any]]:
    found = [
        function
        for name, function in inspect.getmembers(rendering, inspect.isfunction)
        if function.__module__ == rendering.__name__ and not name.startswith("_")
    ]
    return [*found, charts.trend_caption]


def call(function: Callable[..., Any], count: int) -> str:
    hints = typing.get_type_hints(
        function, localns={"Alert": Alert, "Article": Article, "Feed": Feed, "Stats": Stats}
    )
    arguments = {
        name: sample(hints[name], name, count, {})
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is inspect.Parameter.empty
    }
    return said(function(**arguments))


@pytest.mark.parametrize("function", rendering_functions(), ids=lambda f: f.__name__)
def test_counts_agree_with_their_number(function: Callable[..., Any]) -> None:
    one, two = call(function, 1), call(function, 2)
    assert not ONE_WITH_PLURAL.findall(one), one
    assert not MANY_WITH_SINGULAR.findall(two), two


def test_a_count_takes_the_plural_it_is_given() -> None:
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(0, "entry", "entries") == "0 entries"
    assert counted(2, "new article") == "2 new articles"


@pytest.mark.parametrize("language", sorted(AGREEMENT))
@pytest.mark.parametrize("function", rendering_functions(), ids=lambda f: f.__name__)
def test_counts_agree_with_their_number_in_each_language(
    function: Callable[..., Any], language: str
) -> None:
    one_wrong, many_wrong = AGREEMENT[language]
    with i18n.speaking(language):
        one, two, five = (call(function, count) for count in (1, 2, 5))
    assert not one_wrong.findall(one), one
    if many_wrong is not None:
        assert not many_wrong.findall(two + five), two + five
