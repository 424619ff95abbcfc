from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, UTCDateTime


class ThrottleCounter(Base):
    """Failures counted in a fixed window that starts at the first one.

    ``key`` names what is counted: ``acct-addr:<email>|<ip>``, ``acct:<email>``,
    ``addr:<ip>`` or ``leak:<ip>``. Rows live in the database so that every
    app process sees the same counts.
    """

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
