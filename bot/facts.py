"""Key facts: the figures in a sentence, the fact sentences of an article, the facts about a topic.

Pure domain code (no Telegram, no database), deterministic and regex-based.

- `find_figures` finds figures in one sentence: percentages, money, quantities with units, years,
  dates, quarters, rankings, record highs and lows, multiples, fractions, counts, ranges.
- `extract_facts` keeps the sentences of an article that carry a substantive figure, each with a
  de-duplication key; it runs at ingest so commands answer from an index.
- `facts_about` says which of an article's facts belong to a watch item and whether each sentence
  names the topic or only belongs because the article is about it; `rank_facts` orders and
  de-duplicates facts gathered from many articles.

What counts as a figure (and what does not):
- Numbers written in digits with a unit, currency, percent sign, scale word (`bn`, `million`)
  or a counted noun ("12 mines", "1,200 jobs"). Numbers with a thousands separator or decimals
  ("448,000", "112.5") count on their own.
- Spelled-out numbers count only with a unit, currency, percent or scale ("five per cent",
  "two million tonnes"); "two countries" or "three-hour staging" are prose, not figures.
- Years (1900-2099), dates, quarters and halves ("Q3", "third quarter", "H1 2026").
- Not figures: labels and model numbers ("Boeing 737", "S&P 500", "G7", "COVID-19",
  "Section 232"), times of day, phone numbers, "24/7", list markers ("1."), weekdays, a bare
  integer with no noun after it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache, lru_cache
from typing import Generic, NamedTuple, TypeVar

from rapidfuzz import fuzz

from bot.lexicon import Lexicon
from bot.matching import Matcher
from bot.text import normalize_word, split_sentences
from bot.topics import Term, WatchItem


class FigureKind(StrEnum):
    """What a figure measures."""

    PERCENT = "percent"  # 90%, five per cent, 25 basis points (unit: %, pp or bp)
    MONEY = "money"  # $6,300, US$1.2bn, Rs 500 crore, 40 million euros (unit: ISO currency code)
    QUANTITY = "quantity"  # 1.3 million tonnes, 500 MW, 100,000 barrels a day (unit: a name)
    COUNT = "count"  # 12 mines, 1,200 jobs, 1.3 million people, 10-year
    NUMBER = "number"  # a number with no unit: 448,000; 112.5; 5 billion
    MULTIPLE = "multiple"  # threefold, 3x, three times more
    FRACTION = "fraction"  # two-thirds of, half of
    YEAR = "year"  # 2026, in 2026, by 2047, end-2026, FY26, 2025/26
    DATE = "date"  # 24 November 2026, Nov. 24, November 2026, 2026-11-24
    QUARTER = "quarter"  # Q3, third quarter, first-half, H1 2026
    RANK = "rank"  # second-largest, world's largest, No. 1, top three
    RECORD = "record"  # 18-month high, record low, highest since 2019
    RANGE = "range"  # 7.8% to 35.3%, between 5 and 10 tonnes, 5-10% (unit: that of its ends)


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure found in a sentence: its text, kind and span (`sentence[start:end] == text`)."""

    text: str
    kind: FigureKind
    start: int
    end: int
    unit: str | None = None


# Kinds that place a sentence in time without saying anything measurable by themselves.
TEMPORAL_KINDS = frozenset({FigureKind.YEAR, FigureKind.DATE, FigureKind.QUARTER})

# --- building blocks --------------------------------------------------------------------------
# Patterns are compiled case-insensitively; `(?-i:…)` marks the parts where case carries meaning.

# Not inside a word or a number, not after a currency sign, not after "COVID-" (letter-hyphen).
_START = r"(?<![\w&$€£¥₹.,])(?<![A-Za-z&][-–/])"
_END = r"(?![\w%])"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CARDINAL = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine)\b)?"
)
_LONG_SCALE = r"(?:million|billion|trillion|thousand|lakhs?|crores?)"
_SHORT_SCALE = r"(?:mn|mln|bn|tn|trn)"
# "5m", "$2b", "10k" only attached; "5 bn" and "5bn"; "5 million".
_SCALE = rf"(?:\s{_LONG_SCALE}\b|\s?{_SHORT_SCALE}\b|[mbk]\b)"
_SPELLED_SCALED = rf"(?:\b(?:{_CARDINAL}|a|half\s+a|several|a\s+few)\s+{_LONG_SCALE}\b)"
_AMOUNT = rf"(?:(?:{_NUM}){_SCALE}?|{_SPELLED_SCALED}|\b{_CARDINAL}\b)"
# "over 90%", "more than 5 million" (the words of a qualifier may be any spaces apart)
_QUALIFIER_WORDS = (
    "over|under|above|below|about|around|roughly|nearly|almost|approximately|some|more than"
    "|less than|fewer than|at least|at most|up to|close to|as much as|as many as|as little as"
    "|an estimated|an extra|another"
)
_QUALIFIER_ALTERNATIVES = _QUALIFIER_WORDS.replace(" ", r"\s+")
_QUALIFIER = rf"(?:(?:just\s+|well\s+)?(?:{_QUALIFIER_ALTERNATIVES})\s+)"
_YEAR = r"(?:19|20)\d{2}"
_TEMPORAL = (
    r"(?:(?:by|in|on|since|until|till|through|before|after|during|for|as\s+of)\s+(?:the\s+)?)"
)
_PART_OF_YEAR = r"(?:(?:the\s+)?(?:end|start|beginning|middle|mid|early|late)(?:\s+of\s+|\s+|-))"
_MONTH = (
    r"(?-i:January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_ORDINAL = r"(?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d{1,2}(?:st|nd|rd|th))"
_SUPERLATIVE = (
    r"(?:largest|biggest|highest|lowest|smallest|leading|greatest|top|richest|busiest|fastest"
    r"|strongest|weakest|cheapest|(?:most|least)[- ][a-z]+)"
)
_PERIOD = r"(?:day|week|month|quarter|year|decade|session)s?"
_ZONE = r"(?-i:GMT|UTC|ET|EST|EDT|BST|CET|CEST|IST|JST|SGT|HKT)"

_CURRENCY_SIGNS = {
    "US$": "USD",
    "U.S.$": "USD",
    "A$": "AUD",
    "C$": "CAD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "Rs.": "INR",
    "Rs": "INR",
}
_CURRENCY_CODES = ("USD", "EUR", "GBP", "JPY", "CNY", "RMB", "INR", "AUD", "CAD", "CHF", "BRL")
# Currency words after an amount, singular; plurals add "s" ("reais" is listed as written).
_CURRENCY_WORDS = {
    "dollar": "USD",
    "us dollar": "USD",
    "u.s. dollar": "USD",
    "euro": "EUR",
    "pound": "GBP",
    "pound sterling": "GBP",
    "yuan": "CNY",
    "renminbi": "CNY",
    "rupee": "INR",
    "yen": "JPY",
    "peso": "MXN",
    "rand": "ZAR",
    "won": "KRW",
    "real": "BRL",
    "reais": "BRL",
    "franc": "CHF",
    # Wire copy: "12.5 mln dlrs", "65 cts a lb", "40 mln stg"
    "dlr": "USD",
    "us dlr": "USD",
    "u.s. dlr": "USD",
    "canadian dlr": "CAD",
    "canadian dollar": "CAD",
    "australian dlr": "AUD",
    "australian dollar": "AUD",
    "hong kong dlr": "HKD",
    "hong kong dollar": "HKD",
    "new zealand dlr": "NZD",
    "new zealand dollar": "NZD",
    "singapore dlr": "SGD",
    "singapore dollar": "SGD",
    "cent": "USD cent",
    "ct": "USD cent",
    "stg": "GBP",
}
_SIGN_PATTERN = "|".join(
    re.escape(sign) if not sign[0].isalpha() else rf"(?-i:{re.escape(sign)})"
    for sign in sorted(_CURRENCY_SIGNS, key=len, reverse=True)
)
_CODE_PATTERN = rf"(?-i:{'|'.join(_CURRENCY_CODES)})"
_CURRENCY_WORD_PATTERN = (
    r"(?:(?:US|U\.S\.|(?-i:Canadian|Australian|Hong\s+Kong|New\s+Zealand|Singapore))\s+)?"
    r"(?:dollars?|dlrs?)|euros?|pounds?(?:\s+sterling)?(?!\s+of\b)|yuan|renminbi"
    r"|rupees?|yen|pesos?|rand|won|reais|reals?|francs?|cents?|cts|stg"
)
# Price per unit after an amount of money: "$6,300 an ounce", "$9,000/t".
_PER_UNIT = (
    r"(?:\s(?:a|an|per)\s(?:metric\s+)?(?:tonne|ton|ounce|troy\s+ounce|barrel|pound|lb|bushel"
    r"|share|kilogram|kg|gram|unit|(?-i:MMBtu|mmBtu)|megawatt[- ]hour|(?-i:MWh|kWh)|litre|liter"
    r"|gallon|carat|head)\b|\s?/\s?(?:t|mt|oz|bbl|lb|kg|(?-i:MWh|MMBtu)|tonne)\b)"
)
_PER_TIME = r"(?:\s(?:a|per|each)\s(?:day|week|month|year|annum)\b|\s?/\s?(?:day|yr|year|d)\b)"

# Canonical unit → how it is written. Abbreviations in (?-i:…) are case-sensitive ("Mt" ≠ "mt").
_UNITS: dict[str, tuple[str, ...]] = {
    "tonne": ("metric tonnes?", "metric tons?", "tonnes?", "tons?", "(?-i:mt|MT)"),
    "kilotonne": ("kilotonnes?", "(?-i:kt)"),
    "megatonne": ("megatonnes?", "(?-i:Mt)"),
    "tonnes a year": ("(?-i:tpa|mtpa|Mtpa)",),
    "kilogram": ("kilograms?", "kilos?", "kg"),
    "gram": ("grams?",),
    "ounce": ("troy ounces?", "ounces?", "oz"),
    "pound": ("lbs?", r"pounds?(?=\s+of\b)"),
    "barrel": ("barrels? of oil equivalent", "barrels?", "(?-i:bbl|boe)"),
    "barrels a day": ("(?-i:bpd|b/d|mb/d|kb/d)",),
    "bushel": ("bushels?",),
    "cubic metre": ("cubic met(?:re|er)s?", "(?-i:bcm)"),
    "cubic foot": ("cubic feet", "(?-i:bcf|tcf)"),
    "megawatt": ("megawatts?", "(?-i:MW)"),
    "gigawatt": ("gigawatts?", "(?-i:GW)"),
    "kilowatt": ("kilowatts?", "(?-i:kW)"),
    "megawatt-hour": ("megawatt[- ]hours?", "(?-i:MWh)"),
    "gigawatt-hour": ("gigawatt[- ]hours?", "(?-i:GWh)"),
    "terawatt-hour": ("terawatt[- ]hours?", "(?-i:TWh)"),
    "kilowatt-hour": ("kilowatt[- ]hours?", "(?-i:kWh)"),
    "litre": ("lit(?:re|er)s?",),
    "gallon": ("gallons?",),
    "hectare": ("hectares?",),
    "acre": ("acres?",),
    "square kilometre": ("square kilomet(?:re|er)s?", "(?-i:sq km|km2)"),
    "kilometre": ("kilomet(?:re|er)s?", "km"),
    "mile": ("miles?",),
    "metre": ("met(?:re|er)s?",),
    "carat": ("carats?",),
    "TEU": ("(?-i:TEUs?)",),
    "point": ("points?",),
}
_UNIT_PATTERN = "|".join(
    f"(?P<u{i}>{'|'.join(surfaces)})" for i, surfaces in enumerate(_UNITS.values())
)
_UNIT_GROUPS = tuple(f"u{i}" for i in range(len(_UNITS)))

# Group name → unit: "%" for per cent, "pp" for percentage points, "bp" for basis points.
_PERCENT_UNITS = {"pct": "%", "pp": "pp", "bp": "bp"}
_PERCENT_UNIT_PATTERN = (
    r"(?P<pct>%|per\s?cent\b|percent\b|pct\b)|(?P<pp>percentage[- ]points?\b|ppts?\b|pp\b)"
    r"|(?P<bp>basis[- ]points?\b|bps\b|bp\b)"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words after a number that show it is not counting anything ("5 to 10", "3 of the").
_NOT_COUNTED = (
    r"(?:and|or|nor|but|to|of|in|on|at|by|for|from|with|into|onto|over|under|up|down|out|off|as"
    r"|than|per|the|a|an|am|pm|is|are|was|were|be|been|has|have|had|will|would|could|should"
    r"|may|might|can|that|this|these|those|which|who|it|its|if|when|while|after|before|since"
    r"|until|so|not|also|percent|times|fold|million|billion|trillion|thousand|lakhs?|crores?"
    r"|mn|mln|bn|tn|trn|last|next|every|each|ago|earlier|later|more|fewer|less|apiece|now|then"
    r"|again|too|only|already|still|just)"
)
# Lower-case words that make the next number a label: "chapter 11", "phase 2".
_LABEL_WORDS = _words(
    "chapter section article page paragraph clause phase version flight route series type "
    "model item tier grade stage step part annex rule line level gate platform room unit "
)
# Capitalised first words of a sentence that do not make the next number a label.
_OPENERS = _words(
    "the only some about around nearly almost over under just another all its their his her "
    "our more fewer less exactly roughly approximately at least up in by since with for to "
    "from after before during and but of on as then when while those these "
)
_MOVEMENT = re.compile(
    r"\b(?:rose|rise[sn]?|rising|fell|fall(?:s|en|ing)?|climb(?:ed|s|ing)?|jump(?:ed|s)?"
    r"|drop(?:ped|s)?|decline[ds]?|increase[ds]?|decrease[ds]?|gain(?:ed|s)?|lost|loses?"
    r"|slip(?:ped|s)?|slid|slump(?:ed|s)?|surge[ds]?|soar(?:ed|s)?|plunge[ds]?|tumble[ds]?"
    r"|ease[ds]?|grew|grows?|shr[ai]nk|edged?|added|advanced?|up|down|cut|rais(?:ed|es)"
    r"|lower(?:ed|s)|lift(?:ed|s)|trim(?:med|s)|by)\s+(?:(?:just|some|about|around|roughly"
    r"|nearly|almost|over|more\s+than|less\s+than)\s+)?$",
    re.IGNORECASE,
)


# --- hints ------------------------------------------------------------------------------------
# Finding figures costs trying every case-insensitive pattern at every word of a sentence, yet
# most sentences hold no figure and most patterns cannot match a given one. So each pattern has
# hints, each a set of marks: every match of the pattern holds a mark of each of its hints, and
# the pattern runs only on sentences that do (their marks are read in one pass: `_marks`).
# Numbers in words and qualifiers, costly to try at every word and rare, are also left out of the
# patterns run on a sentence without their words (`_compiled`).
#
# Marks are read in the lower-cased sentence, from its runs of letters a-z, its runs of digits
# and its signs. A mark of three letters or more begins a run ("ton" marks "tonnes", not
# "Washington"); one of one or two letters is a whole run ("h" marks "H1", not "the"); a sign is
# itself ("%"); the `<…>` marks are runs of digits. A hint that misses a way its pattern can
# match loses figures: `test_hints_only_skip_patterns_that_cannot_match` checks them.
_NUMBER = "<number>"  # a run of digits
_YEAR_NUMBER = "<year>"  # a run of digits holding 19xx or 20xx
_FOUR_DIGITS = "<four-digits>"  # a run of exactly four digits
_CARDINAL_MARKS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety"
)
_SCALE_MARKS = "million billion trillion thousand lakh crore"
_SPELLED_MARKS = f"{_CARDINAL_MARKS} {_SCALE_MARKS}"  # numbers in words
_AMOUNT_MARKS = f"{_NUMBER} {_SPELLED_MARKS}"
_CODE_MARKS = " ".join(code.lower() for code in _CURRENCY_CODES)
_UNIT_MARKS = (
    "ton mt kt tpa mtpa kilo mega giga tera kg gram ounce oz lb lbs pound barrel bbl boe bpd / "
    "bushel cubic bcm bcf tcf watt mw gw kw mwh gwh twh kwh litre liter gallon hectare acre km "
    "mile metre meter carat teu point"
)
_MONTH_MARKS = "jan feb mar apr may jun jul aug sep oct nov dec"
_SUPERLATIVE_MARKS = (
    "largest biggest highest lowest smallest leading greatest top richest busiest fastest "
    "strongest weakest cheapest most least"
)

_MARK_BITS: dict[str, int] = {}


def _hint(marks: str) -> int:
    """A hint (marks between spaces) as bits, a bit per mark, numbered as first seen."""
    bits = 0
    for mark in marks.split():
        bits |= _MARK_BITS.setdefault(mark, 1 << len(_MARK_BITS))
    return bits


_SPELLED = _hint(_SPELLED_MARKS)
# A qualifier needs all its words: a hint each, all of whose marks a sentence must hold.
_QUALIFIER_HINTS = tuple(map(_hint, _QUALIFIER_WORDS.split("|")))


@dataclass(frozen=True, slots=True)
class _Pattern:
    kind: FigureKind | None  # None: a blocker (time, phone number, 24/7) or a bare number
    source: str  # a regex, compiled case-insensitively by `_compiled`
    hints: tuple[int, ...]  # see "hints" above
    label_check: bool = False  # a bare number may be a label: "Boeing 737", "S&P 500"
    bare: bool = False  # kept only as the first end of a range


def _pattern(
    kind: FigureKind | None,
    source: str,
    *hints: str,
    label_check: bool = False,
    bare: bool = False,
) -> _Pattern:
    return _Pattern(kind, source, tuple(map(_hint, hints)), label_check, bare)


_K = FigureKind
# In priority order: when two candidates cover the same span, the earlier pattern wins.
_PATTERNS: tuple[_Pattern, ...] = (
    _pattern(
        _K.PERCENT,
        rf"{_START}{_QUALIFIER}?(?P<num>{_AMOUNT})\s?(?:{_PERCENT_UNIT_PATTERN})",
        _AMOUNT_MARKS,
        "% cent percent pct pp ppt bp bps point",
    ),
    _pattern(
        _K.MONEY,
        rf"{_START}{_QUALIFIER}?(?P<sign>{_SIGN_PATTERN}|{_CODE_PATTERN})\s?(?P<num>{_NUM})"
        rf"{_SCALE}?{_PER_UNIT}?",
        _NUMBER,
        f"$ € £ ¥ ₹ rs {_CODE_MARKS}",
    ),
    _pattern(
        _K.MONEY,
        rf"{_START}{_QUALIFIER}?(?P<num>{_AMOUNT})\s(?P<word>{_CURRENCY_WORD_PATTERN}"
        rf"|{_CODE_PATTERN})\b{_PER_UNIT}?",
        _AMOUNT_MARKS,
        "dollar dlr euro pound yuan renminbi rupee yen peso rand won reai real franc cent cts stg "
        f"{_CODE_MARKS}",
    ),
    _pattern(
        _K.QUANTITY,
        rf"{_START}{_QUALIFIER}?(?P<num>{_AMOUNT})\s?(?:{_UNIT_PATTERN})(?![\w/]){_PER_TIME}?",
        _AMOUNT_MARKS,
        _UNIT_MARKS,
    ),
    _pattern(
        _K.DATE,
        rf"{_START}{_TEMPORAL}?{_DAY}\s+{_MONTH}(?:,?\s+{_YEAR})?(?!\w)",
        _NUMBER,
        _MONTH_MARKS,
    ),
    _pattern(
        _K.DATE,
        rf"{_START}{_TEMPORAL}?{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?(?![\w%]|[.,]\d)",
        _NUMBER,
        _MONTH_MARKS,
    ),
    _pattern(
        _K.DATE,
        rf"{_START}{_TEMPORAL}?{_PART_OF_YEAR}?{_MONTH}\s+{_YEAR}{_END}",
        _YEAR_NUMBER,
        _MONTH_MARKS,
    ),
    _pattern(
        _K.DATE,
        rf"{_START}{_TEMPORAL}?{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b",
        _YEAR_NUMBER,
        "-",
    ),
    _pattern(
        _K.DATE, rf"{_START}{_TEMPORAL}?\d{{1,2}}/\d{{1,2}}/(?:{_YEAR}|\d{{2}})\b", _NUMBER, "/"
    ),
    _pattern(
        _K.QUARTER,
        rf"{_START}{_TEMPORAL}?(?:(?:fiscal|financial)\s+)?(?:first|second|third|fourth|final|last"
        rf"|1st|2nd|3rd|4th)[- ]quarter\b(?:\s+of\s+(?:the\s+year|(?:fiscal\s+)?{_YEAR}))?",
        "quarter",
    ),
    _pattern(
        _K.QUARTER,
        rf"{_START}{_TEMPORAL}?(?-i:Q[1-4])(?:\s?(?:FY\s?)?(?:{_YEAR}|'?\d{{2}}))?{_END}",
        _NUMBER,
        "q",
    ),
    _pattern(
        _K.QUARTER,
        rf"{_START}{_TEMPORAL}?(?-i:[1-4]Q)(?:\s?(?:{_YEAR}|'?\d{{2}}))?{_END}",
        _NUMBER,
        "q",
    ),
    _pattern(
        _K.QUARTER,
        rf"{_START}{_TEMPORAL}?(?:(?:first|second)-half\b|(?:first|second)\s+half\s+(?:of\s+)?"
        rf"(?:the\s+year|(?:fiscal\s+)?{_YEAR})\b|(?-i:H[12])\s?(?:{_YEAR}|'\d{{2}}|FY\s?\d{{2}})"
        rf"{_END}|(?-i:[12]H)\s?(?:{_YEAR}|'?\d{{2}}){_END})",
        "half h",
    ),
    _pattern(
        _K.QUARTER, rf"{_START}(?:in|during|for|by)\s+(?:the\s+)?(?-i:H[12]){_END}", _NUMBER, "h"
    ),
    _pattern(
        _K.YEAR,
        rf"{_START}(?:{_TEMPORAL}?{_PART_OF_YEAR}|{_TEMPORAL})(?:(?:fiscal|financial)\s+(?:year\s+)?"
        rf"|(?-i:FY)\s?)?{_YEAR}(?:\s?[/–-]\s?(?:{_YEAR}|\d{{2}}))?(?![\w%]|[.,]\d)",
        _YEAR_NUMBER,
    ),
    _pattern(
        _K.YEAR,
        rf"{_START}(?:(?:fiscal|financial)\s+(?:year\s+)?|(?-i:FY)\s?)?(?P<num>{_YEAR})"
        rf"(?:\s?[/–-]\s?(?:{_YEAR}|\d{{2}}))?(?![\w%]|[.,]\d)",
        _YEAR_NUMBER,
        label_check=True,
    ),
    _pattern(
        _K.YEAR, rf"{_START}{_TEMPORAL}?(?-i:FY)\s?'?\d{{2}}(?:/\d{{2}})?{_END}", _NUMBER, "fy"
    ),
    _pattern(
        _K.RECORD,
        rf"{_START}(?:{_NUM}|{_CARDINAL}|multi|several)[- ]{_PERIOD}[- ](?:high|low|peak|trough"
        rf"|best|worst)s?\b",
        f"{_NUMBER} {_CARDINAL_MARKS} multi several",
        "day week month quarter year decade session",
        "high low peak trough best worst",
    ),
    _pattern(
        _K.RECORD,
        rf"{_START}(?:all[- ]time|record)[- ](?:highs?|lows?|levels?|peaks?)\b",
        "record time",
        "high low level peak",
    ),
    _pattern(
        _K.RECORD,
        rf"{_START}(?:highest|lowest|strongest|weakest|biggest|largest|smallest|best|worst)\s+"
        rf"(?:levels?\s+)?(?:since\s+(?:(?:{_MONTH}\s+)?{_YEAR}|{_MONTH})|in\s+(?:(?:more\s+than"
        rf"|over|nearly|almost)\s+)?(?:{_NUM}|{_CARDINAL}|a)\s+{_PERIOD})\b",
        "highest lowest strongest weakest biggest largest smallest best worst",
    ),
    _pattern(
        _K.RANK,
        rf"{_START}(?:(?:world|globe|country|nation|region|continent)['’]s\s+)?{_ORDINAL}"
        rf"[- ]{_SUPERLATIVE}\b",
        "second third fourth fifth sixth seventh eighth ninth tenth st nd rd th",
        _SUPERLATIVE_MARKS,
    ),
    _pattern(
        _K.RANK,
        rf"{_START}(?:world|globe)['’]s\s+{_SUPERLATIVE}\b",
        "world globe",
        _SUPERLATIVE_MARKS,
    ),
    _pattern(_K.RANK, rf"{_START}(?:(?-i:No\.)\s?|#)\d{{1,3}}{_END}", _NUMBER, "no #"),
    _pattern(_K.RANK, rf"{_START}number\s+(?:one|two|three)\b", "number"),
    _pattern(
        _K.RANK,
        rf"{_START}top[- ](?:\d{{1,3}}|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty"
        rf"|hundred){_END}",
        "top",
    ),
    _pattern(
        _K.RANK, rf"{_START}ranked\s+(?:first|{_ORDINAL}|(?-i:No\.)\s?\d{{1,3}}){_END}", "ranked"
    ),
    _pattern(
        _K.MULTIPLE,
        rf"{_START}{_QUALIFIER}?(?:(?:{_NUM})x\b|(?:{_NUM}|{_CARDINAL})[- ]?fold\b|(?:{_NUM}"
        rf"|{_CARDINAL})\s+times\b(?=\s+(?:more|higher|larger|bigger|greater|faster|as|the|over"
        rf"|what|that)\b))",
        f"{_NUMBER} {_CARDINAL_MARKS}",
        "x fold times " + " ".join(f"{word}fold" for word in _CARDINAL_MARKS.split()),
    ),
    _pattern(
        _K.FRACTION,
        rf"{_START}{_QUALIFIER}?(?:(?:one|two)[- ]thirds?|three[- ]quarters|(?:one|a)[- ]"
        rf"(?:third|quarter|fifth|tenth)|half)(?=\s+of\b)",
        "third quarter fifth tenth half",
    ),
    _pattern(
        _K.COUNT,
        rf"{_START}{_QUALIFIER}?(?P<num>(?!{_YEAR}(?![\d,.]))(?:{_NUM}){_SCALE}?|{_SPELLED_SCALED})"
        rf"(?:-[a-z]+\b|\s+(?!{_NOT_COUNTED}\b)[a-z][a-z-]*)",
        f"{_NUMBER} {_SCALE_MARKS}",
        label_check=True,
    ),
    _pattern(
        _K.NUMBER,
        rf"{_START}{_QUALIFIER}?(?P<num>(?:{_NUM})(?:\s?{_SHORT_SCALE}|\s{_LONG_SCALE})\b"
        rf"|{_SPELLED_SCALED}|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+\.\d+){_END}",
        f"{_NUMBER} {_SCALE_MARKS}",
        label_check=True,
    ),
    _pattern(None, rf"{_START}(?P<num>{_NUM}){_END}", _NUMBER, label_check=True, bare=True),
    # Blockers: matched so that nothing inside them is read as a figure, then dropped.
    _pattern(
        None,
        rf"{_START}\d{{1,2}}(?:[:.]\d{{2}})?\s?(?:a\.m\.|p\.m\.|am\b|pm\b)",
        _NUMBER,
        "am pm m",  # "a.m." has "m"
    ),
    _pattern(None, rf"{_START}\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s?{_ZONE})?{_END}", _NUMBER, ":"),
    _pattern(
        None,
        rf"{_START}\d{{1,2}}\.\d{{2}}\s?{_ZONE}\b|{_START}\d{{4}}\s?{_ZONE}\b",
        _NUMBER,
        "gmt utc et est edt bst cet cest ist jst sgt hkt",
    ),
    _pattern(None, r"(?<![\w+])\+\d[\d\s().-]{6,}\d|\(\d{2,5}\)\s?\d[\d\s-]{4,}\d", _NUMBER, "+ ("),
    _pattern(
        None,
        rf"{_START}\d{{3}}[-.]\d{{3}}[-.]\d{{4}}\b",
        _FOUR_DIGITS,
        "- .",
    ),
    _pattern(None, rf"{_START}\d+/\d+(?![/\d])", _NUMBER, "/"),
)

_RANGE_GAP = re.compile(r"\s*(?:-|–|—|to|and)\s*", re.IGNORECASE)
_RANGE_INTRO = re.compile(r"\b(?:between|from)\s+$", re.IGNORECASE)
_TARGET = re.compile(r"(?:by|until|till|before|through)\b", re.IGNORECASE)
_WITH_UNIT = frozenset({_K.PERCENT, _K.MONEY, _K.QUANTITY, _K.COUNT, _K.NUMBER})


class _Candidate(NamedTuple):
    start: int
    end: int
    priority: int
    kind: FigureKind | None
    unit: str | None
    bare: bool


def find_figures(sentence: str) -> list[Figure]:
    """The figures in one sentence, in order and not overlapping.

    Where candidates overlap, the leftmost wins, then the longest, then the more specific kind
    ("1.3 million tonnes" is one quantity, not a number and a unit). Two figures joined by "to",
    "and" or a dash become one range when they measure the same thing ("7.8% to 35.3%",
    "between 5 and 10 tonnes", "5-10%"), but not after a verb of movement: in "rose $50 to
    $2,400" the figures are a change and a level.
    """
    runnable = _runnable(_marks(sentence))
    if not runnable:  # most sentences
        return []
    candidates: list[_Candidate] = []
    for priority, pattern, regex in runnable:
        for match in regex.finditer(sentence):
            if (
                pattern.label_check
                and match.start() == match.start("num")
                and _is_label(sentence, match.start())
            ):
                continue
            if (
                pattern.kind is _K.COUNT
                and not _counts_something(match)
                and not _is_title_case(sentence)
            ):
                continue
            candidates.append(
                _Candidate(
                    match.start(),
                    match.end(),
                    priority,
                    pattern.kind,
                    _unit_of(pattern.kind, match),
                    pattern.bare,
                )
            )
    candidates.sort(key=lambda c: (c.start, c.start - c.end, c.priority))
    kept: list[_Candidate] = []
    for candidate in candidates:
        if not kept or candidate.start >= kept[-1].end:
            kept.append(candidate)
    return [
        Figure(sentence[c.start : c.end], c.kind, c.start, c.end, c.unit)
        for c in _join_ranges(sentence, kept)
        if c.kind is not None and not c.bare
    ]


# Marks of one or two letters and signs are whole tokens; longer ones, beginnings of words.
_WHOLE_MARKS = {mark: bit for mark, bit in _MARK_BITS.items() if len(mark) <= 2}
_PREFIX_MARKS = {
    mark: bit
    for mark, bit in _MARK_BITS.items()
    if len(mark) > 2 and mark not in (_NUMBER, _YEAR_NUMBER, _FOUR_DIGITS)
}
_PREFIX_LENGTHS = sorted({len(mark) for mark in _PREFIX_MARKS})
_TOKEN = re.compile(r"[a-z]+|\d+|[^\w\s]")  # a run of letters, a run of digits, a sign
_YEAR_IN_NUMBER = re.compile(_YEAR)


def _marks(sentence: str) -> int:
    """The marks of a sentence (see "hints"), as bits: those of its distinct words."""
    if not sentence.isascii():
        # Letters a case-insensitive pattern takes for "i" or "s" that lower() does not make so.
        sentence = sentence.replace("İ", "i").replace("ı", "i").replace("ſ", "s")
    marks = 0
    known = _WORD_MARKS
    for word in sentence.lower().split():
        bits = known.get(word)
        if bits is None:
            if len(known) >= _WORDS_KEPT:  # news prose repeats its words, not its numbers
                known.clear()
            bits = 0
            for token in _TOKEN.findall(word):
                bits |= _token_marks(token)
            known[word] = bits
        marks |= bits
    return marks


# The marks of lower-cased words (anything between spaces: "(2026)," is a word).
_WORD_MARKS: dict[str, int] = {}
_WORDS_KEPT = 1 << 16


def _token_marks(token: str) -> int:
    """The marks of a token: a run of letters, a run of digits or a sign."""
    if token[0].isdecimal():
        marks = _MARK_BITS[_NUMBER]
        if _YEAR_IN_NUMBER.search(token):
            marks |= _MARK_BITS[_YEAR_NUMBER]
        if len(token) == 4:
            marks |= _MARK_BITS[_FOUR_DIGITS]
        return marks
    marks = _WHOLE_MARKS.get(token, 0)
    for length in _PREFIX_LENGTHS:
        marks |= _PREFIX_MARKS.get(token[:length], 0)
    return marks


_Runnable = tuple[tuple[int, "_Pattern", re.Pattern[str]], ...]


@lru_cache(maxsize=1 << 15)  # a tuple of shared entries each: wire text has many mark sets
def _runnable(marks: int) -> _Runnable:
    """The patterns that can match in a sentence with these marks, with their priorities."""
    spelled = bool(marks & _SPELLED)
    qualified = any(words & marks == words for words in _QUALIFIER_HINTS)
    entries = _entries(spelled=spelled, qualified=qualified)
    return tuple(
        entries[priority]
        for priority, pattern in enumerate(_PATTERNS)
        if all(hint & marks for hint in pattern.hints)
    )


@cache
def _entries(*, spelled: bool, qualified: bool) -> _Runnable:
    """Every pattern with its priority, compiled for sentences with or without numbers in
    words and qualifiers."""
    return tuple(
        (priority, pattern, _compiled(pattern.source, spelled=spelled, qualified=qualified))
        for priority, pattern in enumerate(_PATTERNS)
    )


_NEVER = r"(?:(?!))"


@cache
def _compiled(source: str, *, spelled: bool, qualified: bool) -> re.Pattern[str]:
    """A pattern without the parts a sentence cannot hold: numbers in words ("five", "two
    million") unless `spelled`, qualifiers ("over", "about") unless `qualified`.

    Each such part becomes one that never matches, which changes no match (the part could not
    match anywhere) and spares trying its many words at every word of the sentence.
    """
    if not spelled:
        source = source.replace(_SPELLED_SCALED, _NEVER).replace(_CARDINAL, _NEVER)
    if not qualified:
        source = source.replace(_QUALIFIER, _NEVER)
    return re.compile(source, re.IGNORECASE)


def _counts_something(match: re.Match[str]) -> bool:
    """A count's noun is in lower case ("12 mines"); "12 Mines" is a name in running text."""
    tail = match.group()[match.end("num") - match.start() :].lstrip(" -")
    return tail[:1].islower()


def _unit_of(kind: FigureKind | None, match: re.Match[str]) -> str | None:
    if kind is _K.PERCENT:
        return next(unit for name, unit in _PERCENT_UNITS.items() if match.group(name))
    if kind is _K.MONEY:
        groups = match.groupdict()
        written = groups.get("sign") or re.sub(r"\s+", " ", groups["word"])
        if written in _CURRENCY_SIGNS:
            return _CURRENCY_SIGNS[written]
        if written in _CURRENCY_CODES:
            return "CNY" if written == "RMB" else written
        word = written.lower().replace("pounds", "pound")
        return _CURRENCY_WORDS.get(word) or _CURRENCY_WORDS[word.removesuffix("s")]
    if kind is _K.QUANTITY:
        return next(
            unit
            for unit, written in zip(_UNITS, match.group(*_UNIT_GROUPS), strict=True)
            if written
        )
    return None


@lru_cache(maxsize=64)
def _is_title_case(sentence: str) -> bool:
    """A headline in Title Case: most longer words capitalised."""
    words = re.findall(r"[^\W\d_]{4,}", sentence)
    capitalised = sum(1 for w in words if w[0].isupper())
    return len(words) >= 3 and capitalised >= 0.6 * len(words)


_SLASHED = re.compile(r"\d/$")
_DASHED = re.compile(r"\d+[-–]$")
_LAST_WORD = re.compile(r"([\w&.'’-]+)\s+$")
_POSSESSIVE = re.compile(r"['’]s$")


@lru_cache(maxsize=64)  # several patterns ask about one number
def _is_label(sentence: str, start: int) -> bool:
    """True when the number at `start` names a thing rather than measuring one.

    "Boeing 737", "S&P 500", "Section 232", "Vision 2030", "U.S. 10-year": a capitalised word
    (not a sentence-opening function word, not a possessive) or a label word right before it.
    The number after a slash ("24/7") or a labelled number ("737-800") is a label too.
    """
    before = sentence[:start]
    if _SLASHED.search(before):
        return True
    before = _DASHED.sub("", before)
    # A word followed by spaces to the end is in the last chunk between spaces: search only it.
    last_chunk = before.rsplit(None, 1)[-1] if before.strip() else ""
    word_match = _LAST_WORD.search(before, len(before.rstrip()) - len(last_chunk))
    if word_match is None:
        return False
    word = word_match.group(1)
    if word.lower() in _LABEL_WORDS or "&" in word:
        return True
    if not any(ch.isupper() for ch in word) or _POSSESSIVE.search(word):
        return False
    if before[: word_match.start()].strip() == "" and word.lower() in _OPENERS:
        return False
    return not _is_title_case(sentence) or word.isupper() or "." in word


def _join_ranges(sentence: str, kept: list[_Candidate]) -> list[_Candidate]:
    joined: list[_Candidate] = []
    for candidate in kept:
        previous = joined[-1] if joined else None
        if previous is not None:
            merged = _as_range(sentence, previous, candidate)
            if merged is not None:
                joined[-1] = merged
                continue
        joined.append(candidate)
    return joined


def _as_range(sentence: str, low: _Candidate, high: _Candidate) -> _Candidate | None:
    gap = sentence[low.end : high.start]
    if high.kind is None or high.bare or not _RANGE_GAP.fullmatch(gap):
        return None
    if low.kind is _K.RANGE:
        return None
    same_measure, unit = _range_unit(low, high)
    if not same_measure:
        return None
    connector = gap.strip().lower()
    intro = _RANGE_INTRO.search(sentence, 0, low.start)
    if connector == "and" and (intro is None or intro.group().strip().lower() != "between"):
        return None
    if connector == "to" and intro is None and _MOVEMENT.search(sentence, 0, low.start):
        return None
    start = intro.start() if intro is not None and connector in ("to", "and") else low.start
    # A span of years or dates stays temporal: "from 2019 to 2023" is a YEAR.
    kind = high.kind if high.kind in TEMPORAL_KINDS else _K.RANGE
    return _Candidate(start, high.end, low.priority, kind, unit, False)


def _range_unit(low: _Candidate, high: _Candidate) -> tuple[bool, str | None]:
    """Whether `low` and `high` measure one thing, and the unit of the range they make."""
    assert high.kind is not None
    if low.bare or low.kind is _K.NUMBER:
        return high.kind in _WITH_UNIT, high.unit
    if high.kind is _K.NUMBER and low.kind in _WITH_UNIT:
        return True, low.unit
    return low.kind is high.kind and low.unit == high.unit, low.unit


# --- fact sentences ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FactCandidate:
    """A sentence of an article that carries at least one substantive figure."""

    sentence: str
    figures: tuple[Figure, ...]
    position: int  # index of the sentence in the body (0 for a title-only article)
    key: str  # fact_key(sentence): equal for sentences that differ only in wording noise


def figures_to_json(figures: Sequence[Figure]) -> str:
    """Figures as stored with their fact."""
    return json.dumps([[f.text, f.kind.value, f.start, f.end, f.unit] for f in figures])


def figures_from_json(stored: str) -> tuple[Figure, ...]:
    return tuple(
        Figure(text, FigureKind(kind), start, end, unit)
        for text, kind, start, end, unit in json.loads(stored)
    )


def is_fact(figures: Sequence[Figure]) -> bool:
    """Whether figures make their sentence a fact.

    A measurable figure (percent, money, quantity, count, rank, record, range…) always does.
    Years, dates and quarters alone do only as a target or deadline ("by 2047", "until March
    2027"): "the talks began in 2019" or "analysts said on Nov. 24" only place a sentence in time.
    """
    return any(
        figure.kind not in TEMPORAL_KINDS or _TARGET.match(figure.text) for figure in figures
    )


# A results line ("Net 1,364,000 vs 1,025,000", "Shr 42 cts vs 42 cts") or a price table's
# "nil" and bracketed last-period figures ("Standard cathodes nil (6,325), Grade A 2,429,200").
_VERSUS = re.compile(
    r"\d\S*(?:\s+[a-z]+\.?){0,2}\s+vs\.?\s+(?:(?:loss|profit)\s+)?[\d.(]", re.IGNORECASE
)
_TABLE_CELL = re.compile(r"\bnil\b|\(\s*(?:nil|[\d,.]+)\s*\)", re.IGNORECASE)
_TABLE_WORD = re.compile(r"(?<![\w])[^\W\d_]{2,}")  # not "months" of "3months"


def is_table_row(sentence: str, figures: Sequence[Figure]) -> bool:
    """Whether a "sentence" is rows of a table run together rather than prose.

    Wire copy prints results, rate sheets and market reports as tables, which the wire's joined
    lines turn into long runs of figures: a line comparing figures with "vs", cells reading
    "nil" or bracketed figures, or fewer words outside the cells (figures and "nil") than
    there are cells, not counting labels in capitals ("COPPER STANDARD - Quiet 75 tonnes cash
    861.00 3months nil"; "124-150 days 5.93 pct 5.92 pct 174-182 days"). Prose names what its
    figures measure.
    """
    cells = _TABLE_CELL.findall(sentence)
    if _VERSUS.search(sentence) or len(cells) >= 2:
        return True
    if len(figures) + len(cells) < 3:
        return False
    outside = []
    previous_end = 0
    for figure in figures:
        outside.append(sentence[previous_end : figure.start])
        previous_end = figure.end
    outside.append(sentence[previous_end:])
    words = [
        word
        for word in _TABLE_WORD.findall(" ".join(outside))
        if (sentence.isupper() or not word.isupper()) and word.lower() not in ("vs", "nil")
    ]
    return len(words) < len(figures) + len(cells)


def extract_facts(title: str, body: str) -> list[FactCandidate]:
    """The fact sentences of an article, in order.

    Sentences come from the body (`bot.text.split_sentences`); an article without a body (a
    related headline) is its title. Commentary without figures ("analysts said they would watch
    closely") has none and stays out, and so do table rows (`is_table_row`).
    """
    sentences = split_sentences(body) if body.strip() else (title.strip(),)
    facts: list[FactCandidate] = []
    for position, sentence in enumerate(sentences):
        figures = find_figures(sentence)
        if figures and is_fact(figures) and not is_table_row(sentence, figures):
            facts.append(FactCandidate(sentence, tuple(figures), position, fact_key(sentence)))
    return facts


_NORM_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*")
_THOUSANDS_SEPARATOR = re.compile(r",(?=\d{3}\b)")
_PERCENT_WORDS = re.compile(r"\s?(?:per\s?cent|percent|pct)\b", re.IGNORECASE)
_STOPWORDS = _words(
    "the a an of in on at to for and or but is are was were be been by with as that this it "
    "its their from which who than also has have had will would could may said say "
)


# Wire abbreviations and the words they stand for ("mln dlrs" is "million dollars").
_WIRE_WORDS = {
    "mln": "million",
    "mn": "million",
    "bln": "billion",
    "bn": "billion",
    "dlr": "dollar",
    "cts": "cent",
    "ct": "cent",
    "lbs": "pound",
    "lb": "pound",
    "stg": "sterling",
}


@lru_cache(maxsize=8192)
def normalize_fact(sentence: str) -> str:
    """A sentence in the form facts are compared in: normal words, plain numbers, no filler,
    wire abbreviations written out."""
    text = _PERCENT_WORDS.sub("%", sentence)
    tokens = []
    for token in _NORM_TOKEN.findall(text):
        if token[0].isdigit():
            tokens.append(_THOUSANDS_SEPARATOR.sub("", token) if "," in token else token)
        else:
            word = normalize_word(token)
            if word not in _STOPWORDS:
                tokens.append(_WIRE_WORDS.get(word, word))
    return " ".join(tokens)


def fact_key(sentence: str) -> str:
    """A fixed-width key, equal for sentences that differ only in case, punctuation, plurals,
    filler words, "per cent" vs "%" or thousands separators: the exact de-duplication key."""
    return hashlib.sha256(normalize_fact(sentence).encode("utf-8")).hexdigest()[:32]


# Token-set similarity (0-100) above which two sentences with the same numbers are one fact.
# Rewrites of one wire fact by two outlets score 65-90, but so do different facts that share a
# single number ("China makes roughly 90% of magnets" / "China refines roughly 90% of rare
# earths" scores 86): one shared number needs near-identical wording; two or more shared
# numbers (not years) rarely coincide, so a rewrite is enough.
NEAR_IDENTICAL_SIMILARITY = 90
REWRITE_SIMILARITY = 60


def is_near_duplicate(a: str, b: str) -> bool:
    """Whether two sentences state the same fact.

    They must carry the same numbers ("imports over 90%" is not "imports over 80%", however
    alike the words). Then rapidfuzz `token_set_ratio` of their normal forms must reach
    `NEAR_IDENTICAL_SIMILARITY`, or `REWRITE_SIMILARITY` when they share two or more numbers
    other than years ("over 90% … 97% by 2047" told in other words).
    """
    norm_a, norm_b = normalize_fact(a), normalize_fact(b)
    numbers = _numbers(norm_a)
    if numbers != _numbers(norm_b):
        return False
    distinctive = [n for n in numbers if not re.fullmatch(r"(?:19|20)\d\d", n)]
    threshold = REWRITE_SIMILARITY if len(distinctive) >= 2 else NEAR_IDENTICAL_SIMILARITY
    return fuzz.token_set_ratio(norm_a, norm_b) >= threshold


def _numbers(normal: str) -> frozenset[str]:
    return frozenset(re.findall(r"\d+(?:\.\d+)?", normal))


# --- whose fact -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actors:
    """Who an article is about: what a fact saying only "the company" or "the government" means."""

    organisation: str | None  # the company or body the article reports on
    country: str | None  # the country it names first (a lexicon name)


_NAME_WORD = r"[A-Z][\w&'’.-]*"
# The lead's subject: "Magma Copper Co, a subsidiary of Newmont Mining Corp, said …"
_LEAD_SUBJECT = re.compile(
    rf"(?-i:(?:The\s+)?(?P<name>{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|of|and|&|de))*)(?:,[^,]{{1,80}},)?"
    r"\s+(?:said|says|reported|announced|expects|plans|agreed|has|had|will|is|was)\b)"
)
_CORPORATE_NAME = re.compile(
    rf"(?-i:(?:{_NAME_WORD}\s+){{0,4}}{_NAME_WORD}\s+(?:Corp|Corporation|Inc|Co|Cos|Ltd|Plc|PLC"
    r"|AG|SA|NV|SpA|Group|Holdings)\b(?:\s+(?:Ltd|Inc)\b)?)"
)
LEAD_NAME_SENTENCES = 3
# Subjects that only make sense with the article: "The company said…", "It expects…".
# "It" only before what a company does ("It is situated 14 km away" is about a mine).
_ORGANISATION_SUBJECT = re.compile(
    r"(?-i:^(?:The|the)\s+(?:company|firm|group|miner|producer|concern)\b|^It(?=\s+"
    r"(?:said|says|expects|expected|plans|planned|reported|announced|added|estimated|forecast"
    r"|intends|aims|targets|agreed|produced|earned|sold|bought)\b))"
)
# Not "The government of President …" nor "The government's …": they say whose, or read badly.
_GOVERNMENT_SUBJECT = re.compile(r"(?-i:^The\s+government\b(?!\s+of\b|['’]))")
_COUNTRY_SUBJECT = re.compile(r"(?-i:^The\s+country\b(?!['’]))")


def main_actors(title: str, body: str, lexicon: Lexicon) -> Actors:
    """The organisation and country an article is about.

    The organisation is the subject of the lead ("Codelco, the world's largest copper
    producer, said…") unless that is a lexicon name other than an organisation ("India is
    negotiating…"), else the first company name ("… Corp", "… Ltd") in the title or the first
    sentences. The country is the first country the title, else the body, names.
    """
    sentences = split_sentences(body)[:LEAD_NAME_SENTENCES] if body.strip() else ()
    organisation = None
    lead = _LEAD_SUBJECT.match(sentences[0]) if sentences else None
    if lead is not None:
        concept = lexicon.lookup(lead.group("name"))
        if concept is None or concept.kind == "organisation":
            organisation = lead.group("name")
    if organisation is None:
        for text in (title, *sentences):
            named = _CORPORATE_NAME.search(text)
            if named is not None:
                organisation = named.group().removeprefix("The ")
                break
    countries = _country_matcher(lexicon).match(title, body)
    first = min(countries, key=lambda match: match.evidence_at, default=None)
    return Actors(organisation, lexicon.concepts[first.key].name if first else None)


@cache
def _country_matcher(lexicon: Lexicon) -> Matcher:
    return Matcher(
        [
            WatchItem(concept.id, (Term(concept.name, concept, None),))
            for concept in lexicon.concepts.values()
            if concept.kind == "country"
        ],
        lexicon,
    )


def _with_article(country: str) -> str:
    """ "the US", "the United Kingdom", but "India"."""
    needs_article = country.isupper() or country.startswith("United ")
    return f"the {country}" if needs_article else country


def needs_subject(sentence: str) -> bool:
    """Whether a sentence starts with a subject only its article explains."""
    return any(
        pattern.match(sentence)
        for pattern in (_ORGANISATION_SUBJECT, _GOVERNMENT_SUBJECT, _COUNTRY_SUBJECT)
    )


def with_subject(sentence: str, actors: Actors) -> str:
    """The sentence with "The company" or "It" replaced by the organisation, "The government"
    made "The government of India" and "The country" "India"; as it was when the article
    names no such actor."""
    if actors.organisation and _ORGANISATION_SUBJECT.match(sentence):
        return _ORGANISATION_SUBJECT.sub(actors.organisation, sentence, count=1)
    if actors.country and _GOVERNMENT_SUBJECT.match(sentence):
        return (
            f"The government of {_with_article(actors.country)}" + sentence[len("The government") :]
        )
    if actors.country and _COUNTRY_SUBJECT.match(sentence):
        named = _with_article(actors.country)
        return named[:1].upper() + named[1:] + sentence[len("The country") :]
    return sentence


# --- facts about a topic ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicFact:
    """A fact that belongs to a watch item.

    `names_topic` is True when the sentence alone matches the item (for a co-occurrence item,
    every term); False when it belongs because its article is about the topic.
    """

    fact: FactCandidate
    names_topic: bool


LEAD_SENTENCES = 2
ABOUT_MIN_SENTENCES = 2


class _TopicScan:
    """Which of a watch item's terms, and which rival concepts, a piece of text names."""

    def __init__(self, item: WatchItem, lexicon: Lexicon) -> None:
        self.item = item
        self._terms = Matcher(
            [WatchItem(str(i), (term,)) for i, term in enumerate(item.terms)], lexicon
        )
        self._whole = Matcher([item], lexicon)
        self._rivals = _rival_matcher(lexicon, _concept_ids(item, lexicon), _kinds(item))

    def matches(self, title: str, body: str) -> bool:
        return bool(self._whole.match(title, body))

    def terms_in(self, text: str) -> frozenset[int]:
        return frozenset(int(match.key) for match in self._terms.match(text))

    def names_rival(self, text: str) -> bool:
        return self._rivals is not None and bool(self._rivals.match(text))

    def is_about(self, title: str, sentences: Sequence[str]) -> bool:
        in_title = self.terms_in(title)
        in_sentences = [self.terms_in(sentence) for sentence in sentences]
        in_lead = in_title.union(*in_sentences[:LEAD_SENTENCES])
        return all(
            index in in_lead or sum(index in found for found in in_sentences) >= ABOUT_MIN_SENTENCES
            for index in range(len(self.item.terms))
        )


def _concept_ids(item: WatchItem, lexicon: Lexicon) -> frozenset[str]:
    ids: set[str] = set()
    for term in item.terms:
        if term.concept is not None:
            ids |= lexicon.expand(term.concept.id)
    return frozenset(ids)


def _kinds(item: WatchItem) -> frozenset[str]:
    # Trade terms (tariff, FTA) are not subjects a sentence is about, so they have no rivals.
    return frozenset(
        term.concept.kind
        for term in item.terms
        if term.concept is not None and term.concept.kind != "term"
    )


@cache
def _rival_matcher(lexicon: Lexicon, own: frozenset[str], kinds: frozenset[str]) -> Matcher | None:
    """A matcher for concepts of the topic's kinds that are neither the topic, its members nor
    a group it belongs to: for copper, other commodities; for India, other countries."""
    if not kinds:
        return None
    rivals = [
        WatchItem(concept.id, (Term(concept.name, concept, None),))
        for concept in lexicon.concepts.values()
        if concept.kind in kinds
        and concept.id not in own
        and lexicon.expand(concept.id).isdisjoint(own)
    ]
    return Matcher(rivals, lexicon)


def _article_sentences(body: str) -> tuple[str, ...]:
    return split_sentences(body) if body.strip() else ()


def article_is_about(item: WatchItem, title: str, body: str, lexicon: Lexicon) -> bool:
    """Whether an article is about a watch item: it matches the item (as for alerts, exclusions
    included) and each term is prominent, i.e. in the title, in the lead (the first two
    sentences) or in at least two sentences. For a one-term item that is exactly "the topic is
    in the title or lead, or mentioned repeatedly"."""
    scan = _TopicScan(item, lexicon)
    return scan.matches(title, body) and scan.is_about(title, _article_sentences(body))


def facts_about(
    item: WatchItem, title: str, body: str, facts: Iterable[FactCandidate], lexicon: Lexicon
) -> list[TopicFact]:
    """The facts of one article that belong to a watch item, in the order given.

    - An article the item would not alert on (a term missing, an exclusion present) has none.
    - A sentence that names the topic belongs (`names_topic=True`).
    - In an article about the topic, a sentence that does not name it belongs too
      (`names_topic=False`): "National output fell 1.5% to 448,000 tonnes" in a story about
      Chile's copper mines is a copper fact. Except when it names a rival of the same kind
      instead — another commodity for a commodity, another country for a country: "China makes
      roughly 90% of rare earth magnets" is not a copper fact, even in a copper story.
    - For a co-occurrence item (India-Chile), a sentence naming some of its terms belongs to an
      article about it (`names_topic=False`); one naming none of them belongs only when it
      names no rival either ("China makes 90% of magnets" is not an India-Chile fact).
    """
    scan = _TopicScan(item, lexicon)
    if not scan.matches(title, body):
        return []
    about: bool | None = None  # computed on the first sentence that needs it
    every_term = len(item.terms)
    belonging: list[TopicFact] = []
    for fact in facts:
        present = scan.terms_in(fact.sentence)
        if len(present) == every_term:
            belonging.append(TopicFact(fact, True))
            continue
        if about is None:
            about = scan.is_about(title, _article_sentences(body))
        if not about:
            continue
        if present or not scan.names_rival(fact.sentence):
            belonging.append(TopicFact(fact, False))
    return belonging


# --- ranking ----------------------------------------------------------------------------------

ArticleRef = TypeVar("ArticleRef")


@dataclass(frozen=True, slots=True)
class RankedInput(Generic[ArticleRef]):
    """A fact to rank, with what ranking needs and a reference to its article (an id, a source
    label: whatever the caller needs to show it)."""

    sentence: str
    key: str
    names_topic: bool
    published: datetime | None
    position: int
    article: ArticleRef


@dataclass(frozen=True, slots=True)
class RankedFact(Generic[ArticleRef]):
    """One fact after de-duplication: the best-ranked report and the others that say the same."""

    best: RankedInput[ArticleRef]
    duplicates: tuple[RankedInput[ArticleRef], ...] = ()


def rank_facts(facts: Iterable[RankedInput[ArticleRef]]) -> list[RankedFact[ArticleRef]]:
    """Order facts for display and fold duplicates.

    Order: the newest article first (unknown dates last); within an article, sentences naming
    the topic first, then earlier in the article first. A fact with the same key as, or a near
    duplicate (`is_near_duplicate`) of, a better-ranked one joins that one's `duplicates`.
    """
    ordered = sorted(
        facts,
        key=lambda f: (
            f.published is None,
            -f.published.timestamp() if f.published is not None else 0.0,
            not f.names_topic,
            f.position,
        ),
    )
    groups: list[tuple[RankedInput[ArticleRef], list[RankedInput[ArticleRef]]]] = []
    by_key: dict[str, int] = {}
    for fact in ordered:
        index = by_key.get(fact.key)
        if index is None:
            index = next(
                (
                    i
                    for i, (best, _) in enumerate(groups)
                    if is_near_duplicate(best.sentence, fact.sentence)
                ),
                None,
            )
        if index is None:
            by_key[fact.key] = len(groups)
            groups.append((fact, []))
        else:
            by_key.setdefault(fact.key, index)
            groups[index][1].append(fact)
    return [RankedFact(best, tuple(duplicates)) for best, duplicates in groups]
