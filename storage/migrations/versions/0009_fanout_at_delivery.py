"""fan-out at delivery: what articles matched, expanded to chats by the dispatcher

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 11:45:00.000000
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_alerts = sa.table(
    "alerts",
    sa.column("id", sa.Integer),
    sa.column("chat_id", sa.BigInteger),
    sa.column("article_id", sa.Integer),
    sa.column("topics", sa.Text),
    sa.column("mentions", sa.Text),
    sa.column("evidence_at", sa.Integer),
    sa.column("relevance", sa.Float),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_matches = sa.table(
    "article_matches",
    sa.column("article_id", sa.Integer),
    sa.column("topic", sa.String),
    sa.column("about", sa.Boolean),
    sa.column("relevance", sa.Float),
    sa.column("evidence_at", sa.Integer),
)
_fanouts = sa.table(
    "fanouts", sa.column("article_id", sa.Integer), sa.column("after_chat", sa.BigInteger)
)
_subscriptions = sa.table(
    "subscriptions",
    sa.column("chat_id", sa.BigInteger),
    sa.column("topic", sa.String),
    sa.column("level", sa.String),
)
_chats = sa.table(
    "chats",
    sa.column("id", sa.BigInteger),
    sa.column("active", sa.Boolean),
    sa.column("paused", sa.Boolean),
    sa.column("mode", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "article_matches",
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("topic", sa.String(length=200), primary_key=True),
        sa.Column("about", sa.Boolean(), nullable=False),
        sa.Column("relevance", sa.Float(), nullable=False),
        sa.Column("evidence_at", sa.Integer(), nullable=False),
    )
    op.create_table(
        "fanouts",
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("after_chat", sa.BigInteger(), nullable=True),
        sa.Column("expanded", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("alerts", sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_subscription_topic_chat", "subscriptions", ["topic", "chat_id"])
    op.create_index("ix_alert_claim_order", "alerts", ["status", "position", "id"])
    _record_matches_of_alerts()


def _record_matches_of_alerts() -> None:
    """Every alert already written stays as it is (pending ones are sent, held ones listed in
    digests); its article's matches are recovered from the alerts, so the dispatcher and the
    digest can settle them against the watch-lists of the moment: the items the alerts named
    (a main story when any alert said so), with the alerts' best relevance and evidence."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _alerts.c.article_id,
            _alerts.c.topics,
            _alerts.c.mentions,
            sa.func.max(_alerts.c.relevance),
            sa.func.min(_alerts.c.evidence_at),
        ).group_by(_alerts.c.article_id, _alerts.c.topics, _alerts.c.mentions)
    )
    matches: dict[tuple[int, str], dict[str, object]] = {}
    for article_id, topics, mentions, relevance, evidence_at in rows:
        passing = set(json.loads(mentions))
        for topic in json.loads(topics):
            about = topic not in passing
            known = matches.get((article_id, topic))
            if known is None or (about and not known["about"]):
                matches[(article_id, topic)] = {
                    "article_id": article_id,
                    "topic": topic[:200],
                    "about": about,
                    "relevance": relevance,
                    "evidence_at": evidence_at,
                }
    if matches:
        op.bulk_insert(_matches, list(matches.values()))


def downgrade() -> None:
    _expand_open_fanouts()
    op.drop_index("ix_alert_claim_order", table_name="alerts")
    op.drop_index("ix_subscription_topic_chat", table_name="subscriptions")
    op.drop_column("alerts", "position")
    op.drop_table("fanouts")
    op.drop_table("article_matches")


def _expand_open_fanouts() -> None:
    """Alerts the dispatcher has not expanded yet become alert rows, as ingest wrote them
    before: pending or held by the levels of the chats' items and their delivery mode."""
    connection = op.get_bind()
    now = datetime.now(UTC)
    for article_id, after_chat in connection.execute(
        sa.select(_fanouts.c.article_id, _fanouts.c.after_chat)
    ).all():
        matched = {
            topic: (about, relevance, evidence_at)
            for topic, about, relevance, evidence_at in connection.execute(
                sa.select(
                    _matches.c.topic,
                    _matches.c.about,
                    _matches.c.relevance,
                    _matches.c.evidence_at,
                ).where(_matches.c.article_id == article_id)
            )
        }
        told = set(
            connection.execute(
                sa.select(_alerts.c.chat_id).where(_alerts.c.article_id == article_id)
            ).scalars()
        )
        watched = sa.select(
            _subscriptions.c.chat_id, _subscriptions.c.topic, _subscriptions.c.level, _chats.c.mode
        ).join(_chats, _chats.c.id == _subscriptions.c.chat_id)
        watched = watched.where(
            _subscriptions.c.topic.in_(list(matched)),
            _chats.c.active.is_(True),
            _chats.c.paused.is_(False),
        )
        if after_chat is not None:
            watched = watched.where(_subscriptions.c.chat_id > after_chat)
        per_chat: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        for chat_id, topic, level, mode in connection.execute(watched):
            if chat_id not in told:
                per_chat[chat_id].append((topic, level, mode))
        rows = []
        for chat_id, items in sorted(per_chat.items()):
            kept = sorted(
                (topic, level) for topic, level, _ in items if matched[topic][0] or level != "main"
            )
            if not kept:
                continue
            push = items[0][2] != "digest" and any(
                matched[topic][0] or level == "all" for topic, level in kept
            )
            best = max(kept, key=lambda item: (matched[item[0]][0], matched[item[0]][1]))[0]
            rows.append(
                {
                    "chat_id": chat_id,
                    "article_id": article_id,
                    "topics": json.dumps([topic for topic, _ in kept]),
                    "mentions": json.dumps([t for t, _ in kept if not matched[t][0]]),
                    "evidence_at": matched[best][2],
                    "relevance": matched[best][1],
                    "status": "pending" if push else "held",
                    "attempts": 0,
                    "created_at": now,
                }
            )
        if rows:
            op.bulk_insert(_alerts, rows)
