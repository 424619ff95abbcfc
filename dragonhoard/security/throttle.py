"""Database-backed failure counters (DESIGN sections 4 and 11).

A password attempt is counted before the password is checked, atomically,
in three counters: the account from this address, the account from anywhere,
and this address. When one of them is already at its limit the attempt is
refused with 429 and counts toward nothing. When the password was right the
increment is taken back (and the account's counter for this address cleared),
so the counters hold failures only. Accounts are named by casefolded email
whether or not they exist, so a 429 never tells which accounts exist.

Each write is its own short transaction on a separate connection, committed
before the request goes on, and done once per request: a replay by
pyramid_retry finds the first attempt's outcome in the WSGI environ.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, delete, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..models import ThrottleCounter
from ..models.meta import UTCDateTime

_DONE = "dragonhoard.throttle"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0


class LimitExceeded(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


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
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    # -- password attempts --------------------------------------------------

    def password_attempt(self, request, email: str) -> Decision:
        """Count an attempt on ``email`` from the request's address, or refuse it."""
        counters = [
            (pattern.format(email=email, ip=request.client_addr), limit)
            for pattern, limit in self.login_limits
        ]
        return _once(request, f"attempt:{email}", lambda: self._hit(counters, self.window))

    def password_right(self, request, email: str) -> None:
        """Take the attempt back: the counters hold failures only."""
        account_address, account, address = (
            pattern.format(email=email, ip=request.client_addr) for pattern, _ in self.login_limits
        )

        def take_back() -> bool:
            with self.engine.begin() as conn:
                conn.execute(delete(ThrottleCounter).where(ThrottleCounter.key == account_address))
                conn.execute(
                    update(ThrottleCounter)
                    .where(ThrottleCounter.key.in_((account, address)), ThrottleCounter.count > 0)
                    .values(count=ThrottleCounter.count - 1)
                )
            return True

        _once(request, f"right:{email}", take_back)

    # -- leak reports -------------------------------------------------------

    def leak_report(self, request) -> Decision:
        """Count a leak report from the request's address (any outcome), or refuse it."""
        counters = [(f"leak:{request.client_addr}", self.leak_limit)]
        return _once(request, "leak", lambda: self._hit(counters, timedelta(hours=1)))

    # -- the counters -------------------------------------------------------

    def _hit(self, counters: list[tuple[str, int]], window: timedelta) -> Decision:
        now = clock.now()
        try:
            with self.engine.begin() as conn:
                for key, limit in counters:
                    count, started = self._increment(conn, key, now, window)
                    if count > limit:
                        # Leaving the block by exception rolls every increment back.
                        raise LimitExceeded(self._retry_after(started, window, now))
        except LimitExceeded as exc:
            return Decision(False, exc.retry_after)
        return Decision(True)

    def _increment(self, conn, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        stale = ThrottleCounter.window_start <= now - window
        statement = self._insert(ThrottleCounter).values(key=key, count=1, window_start=now)
        statement = statement.on_conflict_do_update(
            index_elements=[ThrottleCounter.key],
            set_={
                "count": case((stale, 1), else_=ThrottleCounter.count + 1),
                "window_start": case(
                    (stale, literal(now, UTCDateTime())), else_=ThrottleCounter.window_start
                ),
            },
        ).returning(ThrottleCounter.count, ThrottleCounter.window_start)
        count, started = conn.execute(statement).one()
        return count, started

    @staticmethod
    def _retry_after(started: datetime, window: timedelta, now: datetime) -> int:
        return max(1, math.ceil((started + window - now).total_seconds()))
