"""Database-backed failure counts in sliding windows (DESIGN sections 4 and 11).

A password attempt is counted before the password is checked, atomically,
under three keys: the account from this address, the account from anywhere,
and this address. When a key already holds its limit of hits within the
last window, the attempt is refused with 429 (``Retry-After``: until its
oldest hit leaves the window) and counts toward nothing. When the password
was right the attempt's hits are taken back, and the account's hits from
this address cleared, so the counts hold failures only. Accounts are named
by casefolded email whether or not they exist, so a 429 never tells which
accounts exist.

Each count is its own short transaction on a connection of the main pool,
committed before the request goes on, and done once per request: a replay
by pyramid_retry finds the first attempt's outcome in the WSGI environ. On
PostgreSQL the keys are locked first (transaction-scoped advisory locks), so
that concurrent attempts cannot both see room for one more.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from .. import clock
from ..models import ThrottleHit

_DONE = "dragonhoard.throttle"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    #: The hits this attempt added (to take back when the password was right).
    hit_ids: tuple[int, ...] = field(default=())


def _once(request, key: str, compute):
    done = request.environ.setdefault(_DONE, {})
    if key not in done:
        done[key] = compute()
    return done[key]


class Throttle:
    def __init__(self, engine: Engine, settings) -> None:
        self.engine = engine
        self.window = timedelta(seconds=settings.throttle_window_seconds)
        self.login_limits = (
            ("acct-addr:{email}|{ip}", settings.throttle_account_address_limit),
            ("acct:{email}", settings.throttle_account_limit),
            ("addr:{ip}", settings.throttle_address_limit),
        )
        self.leak_limit = settings.leak_reports_per_hour

    # -- password attempts --------------------------------------------------

    def password_attempt(self, request, email: str) -> Decision:
        """Count an attempt on ``email`` from the request's address, or refuse it."""
        counters = [
            (pattern.format(email=email, ip=request.client_addr), limit)
            for pattern, limit in self.login_limits
        ]
        return _once(request, f"attempt:{email}", lambda: self._hit(counters, self.window))

    def password_right(self, request, email: str) -> None:
        """Take the attempt back, and clear the account's hits from this address."""
        decision = self.password_attempt(request, email)
        account_address = self.login_limits[0][0].format(email=email, ip=request.client_addr)

        def take_back() -> bool:
            with self.engine.begin() as conn:
                conn.execute(delete(ThrottleHit).where(ThrottleHit.id.in_(decision.hit_ids)))
                conn.execute(delete(ThrottleHit).where(ThrottleHit.key == account_address))
            return True

        _once(request, f"right:{email}", take_back)

    # -- leak reports -------------------------------------------------------

    def leak_report(self, request) -> Decision:
        """Count a leak report from the request's address (any outcome), or refuse it."""
        counters = [(f"leak:{request.client_addr}", self.leak_limit)]
        return _once(request, "leak", lambda: self._hit(counters, timedelta(hours=1)))

    # -- the counts ---------------------------------------------------------

    def _hit(self, counters: list[tuple[str, int]], window: timedelta) -> Decision:
        now = clock.now()
        since = now - window
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                for key, _limit in sorted(counters):
                    conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
            waits = []
            for key, limit in counters:
                conn.execute(delete(ThrottleHit).where(ThrottleHit.key == key, ThrottleHit.at <= since))
                count, oldest = conn.execute(
                    select(func.count(), func.min(ThrottleHit.at)).where(ThrottleHit.key == key)
                ).one()
                if count >= limit:
                    waits.append(self._retry_after(oldest, window, now))
            if waits:
                return Decision(False, max(waits))
            hit_ids = conn.execute(
                insert(ThrottleHit).returning(ThrottleHit.id),
                [{"key": key, "at": now} for key, _limit in counters],
            ).scalars().all()
        return Decision(True, hit_ids=tuple(hit_ids))

    @staticmethod
    def _retry_after(oldest: datetime, window: timedelta, now: datetime) -> int:
        """Seconds until the oldest hit leaves the window, and a new one fits."""
        return max(1, math.ceil((oldest + window - now).total_seconds()))
