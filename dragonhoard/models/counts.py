from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class TreasureCounts(Base):
    """How many treasures exist and how many are published: one row (id 1),
    kept exact by database triggers (migration 0002), so that a list's total
    costs nothing where it would cost a scan of every published row."""

    __tablename__ = "treasure_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    published: Mapped[int] = mapped_column(BigInteger, default=0)
