"""alert evidence as a position in the article

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:10:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.matching import evidence_sentence, matched_text

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

alerts = sa.table(
    "alerts",
    sa.column("id", sa.Integer),
    sa.column("article_id", sa.Integer),
    sa.column("evidence", sa.Text),
    sa.column("evidence_at", sa.Integer),
)
articles = sa.table(
    "articles", sa.column("id", sa.Integer), sa.column("title", sa.Text), sa.column("body", sa.Text)
)
ALERTS_WITH_ARTICLES = sa.select(
    alerts.c.id,
    alerts.c.article_id,
    alerts.c.evidence,
    alerts.c.evidence_at,
    articles.c.title,
    articles.c.body,
).join(articles, articles.c.id == alerts.c.article_id)


def _set(column: str, values: list[dict[str, object]]) -> None:
    """Set one column of alerts, given as {"alert": id, "value": value} rows."""
    if values:
        update = alerts.update().where(alerts.c.id == sa.bindparam("alert"))
        op.get_bind().execute(update.values({column: sa.bindparam("value")}), values)


def upgrade() -> None:
    # Each alert copied its evidence sentence (whitespace collapsed); it now points into the
    # article, and the sentence is read when the alert is shown.
    op.add_column(
        "alerts", sa.Column("evidence_at", sa.Integer(), nullable=False, server_default="0")
    )
    found: dict[tuple[int, str], int] = {}  # an article's chats share its evidence
    rows: list[dict[str, object]] = []
    for alert_id, article_id, evidence, _, title, body in op.get_bind().execute(
        ALERTS_WITH_ARTICLES
    ):
        if (article_id, evidence) not in found:
            spaced = r"\s+".join(map(re.escape, evidence.split()))
            located = re.search(spaced, matched_text(title, body)) if spaced else None
            found[article_id, evidence] = located.start() if located else 0
        rows.append({"alert": alert_id, "value": found[article_id, evidence]})
    _set("evidence_at", rows)
    op.drop_column("alerts", "evidence")


def downgrade() -> None:
    op.add_column("alerts", sa.Column("evidence", sa.Text(), nullable=False, server_default=""))
    rows = [
        {"alert": alert_id, "value": evidence_sentence(title, body, evidence_at)}
        for alert_id, _, _, evidence_at, title, body in op.get_bind().execute(ALERTS_WITH_ARTICLES)
    ]
    _set("evidence", rows)
    op.drop_column("alerts", "evidence_at")
