from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, UTCDateTime


class ThrottleHit(Base):
    """One counted attempt: a failed password, or a leak report.

    ``key`` names what is counted: ``acct-addr:<account>|<address>``,
    ``acct:<account>``, ``addr:<address>`` or ``leak:<address>``, where the
    account is a keyed hash of the casefolded email (never the email) and an
    IPv6 address is its /64 (``security/throttle.py`` builds every key, so a
    key stays under 100 characters). The hits of the last window are counted
    (a sliding window); rows live in the database so that every app process
    sees the same counts, and older ones are deleted as keys are counted.
    """

    __tablename__ = "throttle_hits"
    __table_args__ = (Index("ix_throttle_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
