"""ORM mappings of the hub's tables (PostgreSQL only).

The customer database keeps history: source records are immutable versions,
golden records write a version per change, and every change is an event in one
ordered sequence. Rows never leave ``hub/``; the GraphQL layer sees plain
domain values.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Sequence,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = dict[str, Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: DateTime(timezone=True),
        Json: JSONB,
        Decimal: Numeric(18, 2),
    }


def _now() -> MappedColumn[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class SourceSystem(Base):
    """A department or system that submits records (finance, sales, callcenter …)."""

    __tablename__ = "source_system"

    id: Mapped[int] = mapped_column(SmallInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class SourceRecord(Base):
    """A department's record of one customer, identified by (source, source_key).

    The values live in immutable :class:`SourceRecordVersion` rows; this row
    points at the current one and says whether the department retired it.
    """

    __tablename__ = "source_record"
    __table_args__ = (UniqueConstraint("source_id", "source_key"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source_system.id"))
    source_key: Mapped[str] = mapped_column(String(200))
    party_type: Mapped[str] = mapped_column(String(16))
    current_version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class SourceRecordVersion(Base):
    """One immutable version of a source record: raw payload and standardized form."""

    __tablename__ = "source_record_version"

    source_record_id: Mapped[int] = mapped_column(
        ForeignKey("source_record.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    payload: Mapped[Json]
    standardized: Mapped[Json]
    flags: Mapped[list[Json]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    source_updated_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = _now()


class GoldenRecord(Base):
    """One real customer: surviving values, their lineage, and a version counter.

    A merged golden record keeps its row with ``status = 'merged'`` and
    ``merged_into_id`` so that its public id keeps resolving to the survivor.
    """

    __tablename__ = "golden_record"
    __table_args__ = (
        CheckConstraint("status in ('active', 'merged', 'retired')", name="status"),
        Index("ix_golden_record_active_name", "name", postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    party_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("golden_record.id"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    name: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(8), index=True)
    industry: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[Json]
    lineage: Mapped[Json]
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class GoldenRecordVersion(Base):
    """The golden record as it was from ``valid_from`` until the next version."""

    __tablename__ = "golden_record_version"

    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_record.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    merged_into_id: Mapped[int | None] = mapped_column(BigInteger)
    attributes: Mapped[Json]
    lineage: Mapped[Json]
    members: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    change: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime] = _now()


class CrossReference(Base):
    """Which golden record a source record currently belongs to, and why."""

    __tablename__ = "cross_reference"

    source_record_id: Mapped[int] = mapped_column(
        ForeignKey("source_record.id", ondelete="CASCADE"), primary_key=True
    )
    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_record.id"), index=True)
    link_kind: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    linked_at: Mapped[datetime] = _now()
    linked_by: Mapped[str | None] = mapped_column(Text)


class MatchKey(Base):
    """A blocking key of a source record's current version (candidate lookup)."""

    __tablename__ = "match_key"

    # The key as a signed 64-bit hash (``matching.block.key_hash``): it is only
    # ever compared for equality, and a number indexes in half the time and
    # space of its text (migration 0011).
    key_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_record_id: Mapped[int] = mapped_column(
        ForeignKey("source_record.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SearchToken(Base):
    """A search key of an active golden record (name bigrams, pinyin prefixes, contacts)."""

    __tablename__ = "search_token"

    # Compared for equality only: byte order builds its index fastest (migration 0009).
    token: Mapped[str] = mapped_column(Text(collation="C"), primary_key=True)
    golden_id: Mapped[int] = mapped_column(
        ForeignKey("golden_record.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SearchName(Base):
    """An active golden record's names in the forms a search ranks them by.

    The normalized name, its toneless pinyin and the normalized English name
    ("" when missing) are made when the record is indexed: romanizing a few
    hundred candidates' names was most of a search's own CPU time. Its party
    type (which never changes) is kept here too: a row exists exactly while
    its record is active, so a search reads no golden record to rank.
    """

    __tablename__ = "search_name"

    golden_id: Mapped[int] = mapped_column(
        ForeignKey("golden_record.id", ondelete="CASCADE"), primary_key=True
    )
    party_type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    pinyin: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)


class MatchReview(Base):
    """An uncertain pair waiting for a data steward."""

    __tablename__ = "match_review"
    __table_args__ = (
        CheckConstraint("status in ('open', 'matched', 'not_matched', 'obsolete')", name="status"),
        Index("ix_match_review_open", "status", "score"),
        # An open review is looked up by its pair, in either order; a pair
        # has at most one (migration 0010).
        Index(
            "ix_match_review_open_pair",
            func.least(text("left_record_id"), text("right_record_id")),
            func.greatest(text("left_record_id"), text("right_record_id")),
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_match_review_left_record_id", "left_record_id"),
        Index("ix_match_review_right_record_id", "right_record_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    left_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id", ondelete="CASCADE"))
    right_record_id: Mapped[int] = mapped_column(ForeignKey("source_record.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[Json]
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(Text)


class PairDecision(Base):
    """A steward's remembered verdict on two source records (ids ordered low, high).

    Later matching never links a ``not_match`` pair again.
    """

    __tablename__ = "pair_decision"
    __table_args__ = (
        CheckConstraint("low_record_id < high_record_id", name="ordered"),
        CheckConstraint("decision in ('match', 'not_match')", name="decision"),
    )

    low_record_id: Mapped[int] = mapped_column(
        ForeignKey("source_record.id", ondelete="CASCADE"), primary_key=True
    )
    high_record_id: Mapped[int] = mapped_column(
        ForeignKey("source_record.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    decision: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = _now()
    note: Mapped[str | None] = mapped_column(Text)


class AttributeOverride(Base):
    """A value a steward pinned on a golden record; it beats every survivorship rule."""

    __tablename__ = "attribute_override"

    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_record.id"), primary_key=True)
    attribute: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
    set_by: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = _now()
    note: Mapped[str | None] = mapped_column(Text)


class Interaction(Base):
    """One event in a customer's history, attached through the department's record."""

    __tablename__ = "interaction"
    __table_args__ = (
        UniqueConstraint("source_id", "interaction_key"),
        Index("ix_interaction_record_time", "source_record_id", text("occurred_at DESC")),
        Index("ix_interaction_customer_key", "source_id", "customer_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source_system.id"))
    interaction_key: Mapped[str] = mapped_column(String(200))
    customer_key: Mapped[str] = mapped_column(String(200))
    source_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_record.id", ondelete="SET NULL")
    )
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    channel: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    due_date: Mapped[date | None] = mapped_column(Date)
    paid_date: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[Json] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    received_at: Mapped[datetime] = _now()


class CustomerMetrics(Base):
    """Figures derived from a golden record's interactions, kept current."""

    __tablename__ = "customer_metrics"

    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_record.id"), primary_key=True)
    transaction_count: Mapped[int] = mapped_column(Integer, server_default="0")
    transaction_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    revenue_12m: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    first_transaction_at: Mapped[datetime | None]
    last_transaction_at: Mapped[datetime | None]
    average_days_late: Mapped[float | None] = mapped_column(Float)
    open_complaints: Mapped[int] = mapped_column(Integer, server_default="0")
    open_receivables: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    last_contact_at: Mapped[datetime | None]
    close_requested_at: Mapped[datetime | None]
    computed_at: Mapped[datetime] = _now()


class Classification(Base):
    """A customer's classification: one value per dimension, each with its rule and inputs.

    One row per customer, so that a batch recomputation writes a million
    customers as a million rows, not seven million. The values sit in columns
    (filters, composition); ``explanations`` holds, per dimension, the rule in
    words and exactly the inputs it read: ``{"tier": {"rule": …, "inputs": {…}}, …}``.
    """

    __tablename__ = "classification"

    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_record.id"), primary_key=True)
    rule_set_version: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(32), index=True)
    lifecycle: Mapped[str] = mapped_column(String(32), index=True)
    nature: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    contact: Mapped[str] = mapped_column(String(32))
    retention: Mapped[str] = mapped_column(Text)
    explanations: Mapped[Json]
    computed_at: Mapped[datetime] = _now()


class RetentionAlert(Base):
    """A retention alert: raised when a customer starts meeting an alert rule, kept when cleared.

    ``reason`` is one part of the retention classification (``KEY_DORMANT``,
    ``CLOSE_REQUESTED`` …); ``rule`` and ``inputs`` are the retention rule's
    words and inputs when it was raised, ``cleared_rule`` when it stopped
    holding. At most one alert per customer and reason is open at a time.
    """

    __tablename__ = "retention_alert"
    __table_args__ = (
        Index(
            "uq_retention_alert_open",
            "golden_id",
            "reason",
            unique=True,
            postgresql_where=text("cleared_at IS NULL"),
        ),
        Index(
            "ix_retention_alert_open_raised",
            "raised_at",
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_record.id"), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(Text)
    inputs: Mapped[Json]
    rule_set_version: Mapped[str] = mapped_column(String(32))
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    cleared_rule: Mapped[str | None] = mapped_column(Text)


class TierCutoff(Base):
    """The revenue cutoffs of the value tiers, from the last batch recomputation.

    Tiers are a Pareto split over all customers; between recomputations each
    customer is placed against the latest cutoffs as its revenue changes.
    """

    __tablename__ = "tier_cutoff"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    rule_set_version: Mapped[str] = mapped_column(String(32))
    # None while no customer has revenue: then every customer is OCCASIONAL.
    key_min_revenue: Mapped[Decimal | None]
    regular_min_revenue: Mapped[Decimal | None]
    customers: Mapped[int] = mapped_column(Integer)
    total_revenue: Mapped[Decimal]
    computed_at: Mapped[datetime] = _now()


class TermFrequencySnapshot(Base):
    """Term frequencies of the stored population (current source records), counted at once.

    Submissions score with the latest snapshot, as ``hub match`` scores with
    the counts of its own input. ``changes_mark`` is the
    :data:`POPULATION_CHANGES` counter when the counting started: how far the
    population has moved since is that counter less the mark.
    """

    __tablename__ = "term_frequency_snapshot"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    records: Mapped[int] = mapped_column(BigInteger)
    changes_mark: Mapped[int] = mapped_column(BigInteger)
    frequencies: Mapped[Json]
    computed_at: Mapped[datetime] = _now()


# Advanced by one per source record stored, changed or retired; a sequence
# takes no row lock, so concurrent submitters never wait on each other for it.
POPULATION_CHANGES = Sequence("population_change_seq", metadata=Base.metadata)


class CreditProfile(Base):
    """A customer's credit standing: rating, recommended and current limit, terms."""

    __tablename__ = "credit_profile"

    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_record.id"), primary_key=True)
    rating: Mapped[str | None] = mapped_column(String(8), index=True)
    recommended_limit: Mapped[Decimal | None]
    current_limit: Mapped[Decimal | None]
    settlement_terms: Mapped[str | None] = mapped_column(String(32))
    override_limit: Mapped[Decimal | None]
    override_expires_at: Mapped[datetime | None]
    policy_version: Mapped[str | None] = mapped_column(String(32))
    inputs: Mapped[Json] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    updated_at: Mapped[datetime] = _now()


class CreditDecision(Base):
    """A credit-limit change request and its decision, or a manual override."""

    __tablename__ = "credit_decision"
    __table_args__ = (
        CheckConstraint(
            "status in ('pending', 'approved', 'rejected', 'applied', 'expired')", name="status"
        ),
        Index("ix_credit_decision_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    golden_id: Mapped[int] = mapped_column(ForeignKey("golden_record.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    previous_limit: Mapped[Decimal | None]
    requested_limit: Mapped[Decimal | None]
    decided_limit: Mapped[Decimal | None]
    assessment: Mapped[Json] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    decided_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class ChangeEvent(Base):
    """The outbox: golden-record changes in one ordered sequence for consumers."""

    __tablename__ = "change_event"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    golden_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    payload: Mapped[Json]
    occurred_at: Mapped[datetime] = _now()


class AuditEntry(Base):
    """Who did what, with the state before and after."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(Text)
    before: Mapped[Json | None]
    after: Mapped[Json | None]
    at: Mapped[datetime] = _now()


class ApiClient(Base):
    """An API key holder; only the key's SHA-256 is stored."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _now()
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
