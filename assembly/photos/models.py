from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.db import Base, intpk, utcnow
from assembly.photos.owners import OWNERS


class Photo(Base):
    """A re-encoded photo (and its thumbnail) attached to one owner, named by (owner_kind, owner_id):
    a proposal, a meeting's question, a progress step, whatever registers itself with
    `photos.owners.register_owner`.
    The files live in the configured store under `storage_key` (`photos.storage`)."""

    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("owner_kind", "owner_id", "position"),
        UniqueConstraint("storage_key"),
        CheckConstraint("position >= 0", name="position"),
        CheckConstraint("width > 0 AND height > 0 AND byte_size > 0 AND thumb_byte_size > 0", name="sizes"),
        # Hidden by the muhtar always with a public reason, and only then.
        CheckConstraint("(hidden_at IS NULL) = (hidden_reason IS NULL)", name="hidden_reason"),
        # Uploaded by a person on a page, or by a body's API token (`api.v1_promises`), never both.
        CheckConstraint("(uploader_id IS NULL) <> (api_token_id IS NULL)", name="one_uploader"),
        Index("ix_photos_neighbourhood", "neighbourhood_id", "created_at"),
        Index("ix_photos_uploader_id", "uploader_id"),
        Index("ix_photos_api_token_id", "api_token_id"),
        Index("ix_photos_hidden_by_id", "hidden_by_id"),
    )

    id: Mapped[intpk]
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(Integer)
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    thumb_byte_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    hidden_at: Mapped[dt.datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    uploader: Mapped[User | None] = relationship(foreign_keys=[uploader_id])

    @property
    def owner(self):
        """The thing the photo is attached to, loaded by its kind (from the session's identity map
        when the page already holds it); None when the kind is unknown or the owner is gone."""
        kind = OWNERS.get(self.owner_kind)
        return kind.load(self.owner_id) if kind is not None else None
