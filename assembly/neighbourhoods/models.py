from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.config import LOCALES
from assembly.db import Base, intpk, one_of, str200, utcnow

_LOCALE_LIST = ", ".join(f"'{code}'" for code in LOCALES)


class Majority(str, enum.Enum):
    SIMPLE = "simple"
    TWO_THIRDS = "two_thirds"


class MembershipRole(str, enum.Enum):
    RESIDENT = "resident"
    MUHTAR = "muhtar"


class MembershipStatus(str, enum.Enum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    REVOKED = "revoked"


class BodyKind(str, enum.Enum):
    COUNCIL = "council"
    DISTRICT = "district"
    POLICE = "police"
    UTILITY = "utility"
    HEALTH = "health"
    OTHER = "other"



class Municipality(Base):
    __tablename__ = "municipalities"
    __table_args__ = (CheckConstraint(f"default_locale IN ({_LOCALE_LIST})", name="default_locale"),)

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str200]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    default_locale: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(
        back_populates="municipality", order_by="Neighbourhood.slug"
    )
    bodies: Mapped[list[Body]] = relationship(back_populates="municipality", order_by="Body.name")
    categories: Mapped[list[Category]] = relationship(
        back_populates="municipality", order_by="Category.slug"
    )


class Neighbourhood(Base):
    __tablename__ = "neighbourhoods"
    __table_args__ = (
        CheckConstraint(f"default_locale IN ({_LOCALE_LIST})", name="default_locale"),
        CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_percent"),
        CheckConstraint(one_of("majority", Majority), name="majority"),
        CheckConstraint("support_threshold >= 1", name="support_threshold"),
        CheckConstraint("verified_resident_count >= 0", name="verified_resident_count"),
        CheckConstraint("support_threshold_percent IS NULL OR support_threshold_percent BETWEEN 1 AND 100",
                        name="support_threshold_percent"),
        CheckConstraint(
            "(min_latitude IS NULL AND min_longitude IS NULL AND max_latitude IS NULL AND max_longitude IS NULL)"
            " OR (min_latitude < max_latitude AND min_longitude < max_longitude)", name="bounding_box"),
        UniqueConstraint("municipality_id", "code"),
    )

    id: Mapped[intpk]
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="RESTRICT"))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    code: Mapped[str] = mapped_column(String(20))
    names: Mapped[dict]
    default_locale: Mapped[str] = mapped_column(String(5))
    quorum_percent: Mapped[int] = mapped_column(Integer, default=10)
    majority: Mapped[str] = mapped_column(String(12), default=Majority.SIMPLE.value)
    support_threshold: Mapped[int] = mapped_column(Integer, default=10)
    # When set, the threshold is this share of the verified residents (at least support_threshold).
    support_threshold_percent: Mapped[int | None] = mapped_column(Integer)
    # Optional bounding box; proposals' map points must fall inside it.
    min_latitude: Mapped[float | None] = mapped_column(Float)
    min_longitude: Mapped[float | None] = mapped_column(Float)
    max_latitude: Mapped[float | None] = mapped_column(Float)
    max_longitude: Mapped[float | None] = mapped_column(Float)
    verified_resident_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship(back_populates="neighbourhoods")

    @property
    def has_bounds(self) -> bool:
        return self.min_latitude is not None

    def contains(self, latitude: float, longitude: float) -> bool:
        if not self.has_bounds:
            return True
        return (self.min_latitude <= latitude <= self.max_latitude
                and self.min_longitude <= longitude <= self.max_longitude)

    def effective_support_threshold(self) -> int:
        """Supports a proposal needs to be ready for the agenda."""
        if self.support_threshold_percent:
            share = -(-self.support_threshold_percent * self.verified_resident_count // 100)  # ceiling
            return max(self.support_threshold, share)
        return self.support_threshold

    def name_in(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get(self.default_locale) or self.slug


class Membership(Base):
    """A user's residence in, or appointment as muhtar of, a neighbourhood."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(one_of("role", MembershipRole), name="role"),
        CheckConstraint(one_of("status", MembershipStatus), name="status"),
        # A person is a resident (or asks to be one) of at most one neighbourhood at a time.
        Index(
            "uq_memberships_one_residence", "user_id", unique=True,
            sqlite_where=text("role = 'resident' AND status IN ('pending', 'verified')"),
            postgresql_where=text("role = 'resident' AND status IN ('pending', 'verified')"),
        ),
        Index(
            "uq_memberships_one_appointment", "user_id", "neighbourhood_id", unique=True,
            sqlite_where=text("role = 'muhtar' AND status = 'verified'"),
            postgresql_where=text("role = 'muhtar' AND status = 'verified'"),
        ),
        Index("ix_memberships_queue", "neighbourhood_id", "role", "status"),
        Index("ix_memberships_user_id", "user_id"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    address: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[dt.datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invite_code_id: Mapped[int | None] = mapped_column(ForeignKey("invite_codes.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    neighbourhood: Mapped[Neighbourhood] = relationship()
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])


class InviteCode(Base):
    """A one-time code the muhtar hands out on paper; entering it verifies residence."""

    __tablename__ = "invite_codes"
    __table_args__ = (Index("ix_invite_codes_batch", "neighbourhood_id", "batch"),)

    id: Mapped[intpk]
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    batch: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[dt.datetime | None]

    neighbourhood: Mapped[Neighbourhood] = relationship()


class Body(Base):
    """A recipient of forwarded items: council, district municipality, police, utility …"""

    __tablename__ = "bodies"
    __table_args__ = (
        CheckConstraint(one_of("kind", BodyKind), name="kind"),
        CheckConstraint("answer_days BETWEEN 1 AND 365", name="answer_days"),
        UniqueConstraint("municipality_id", "slug"),
    )

    id: Mapped[intpk]
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="RESTRICT"))
    slug: Mapped[str] = mapped_column(String(60))
    name: Mapped[str200]
    kind: Mapped[str] = mapped_column(String(12))
    answer_days: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship(back_populates="bodies")


class BodyStaff(Base):
    __tablename__ = "body_staff"
    __table_args__ = (UniqueConstraint("body_id", "user_id"), Index("ix_body_staff_user_id", "user_id"))

    id: Mapped[intpk]
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    appointed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    appointed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    body: Mapped[Body] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("municipality_id", "slug"),)

    id: Mapped[intpk]
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="RESTRICT"))
    slug: Mapped[str] = mapped_column(String(60))
    names: Mapped[dict]
    default_body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id", ondelete="SET NULL"))

    municipality: Mapped[Municipality] = relationship(back_populates="categories")
    default_body: Mapped[Body | None] = relationship()
