"""The router keeps its matcher across small watch-list changes and matches as a new one would."""

from __future__ import annotations

from bot.ingest import REBUILD_AT_LEAST, Router
from bot.lexicon import default_lexicon

TITLE = "Chile copper output rises as Peru gold and Vale iron shipments slow"
BODY = "Copper from Chile, gold from Peru and coffee from Brazil were in demand, Vale said."


def keys(router: Router) -> list[str]:
    return [match.key for match in router.route(TITLE, BODY)]


def test_an_updated_router_matches_what_a_new_one_would() -> None:
    lexicon = default_lexicon()
    before = ["copper", "gold", "Brazil", "coffee -Brazil", "tin"]
    after = ["copper", "Peru", "Chile-copper", "Brazil", "tin", "Vale", "coffee"]
    updated = Router(before, lexicon).updated(after)
    assert updated.route(TITLE, BODY) == Router(after, lexicon).route(TITLE, BODY)
    assert keys(updated) == ["Brazil", "Chile-copper", "Peru", "Vale", "coffee", "copper"]


def test_a_topic_removed_then_watched_again_matches_again() -> None:
    lexicon = default_lexicon()
    router = Router(["copper", "gold"], lexicon)
    without_gold = router.updated(["copper"])
    assert keys(without_gold) == ["copper"]
    assert keys(without_gold.updated(["copper", "gold"])) == ["copper", "gold"]
    assert keys(without_gold.updated(["gold"])) == ["gold"]


def test_the_same_topics_keep_the_router() -> None:
    router = Router(["copper", "gold"], default_lexicon())
    assert router.updated(["gold", "copper"]) is router


def test_many_changes_build_a_new_matcher_that_still_matches() -> None:
    lexicon = default_lexicon()
    router = Router(["copper"], lexicon)
    many = ["copper", "gold", *(f"Firm{n} Holdings" for n in range(REBUILD_AT_LEAST))]
    step = router.updated(many[:3])
    rebuilt = step.updated(many)
    assert keys(rebuilt) == ["copper", "gold"]
    assert rebuilt.route(TITLE, BODY) == Router(many, lexicon).route(TITLE, BODY)


def test_every_stored_topic_of_an_item_gets_its_match() -> None:
    router = Router(["Copper", "gold", "COPPER", "Peruvian", "tin"], default_lexicon())
    assert keys(router) == ["Peruvian", "Copper", "COPPER", "gold"]  # by item key: Peru, copper
    assert keys(router.updated(["Copper", "copper", "gold"])) == ["Copper", "copper", "gold"]
