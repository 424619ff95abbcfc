"""Database-backed failure counts in sliding windows (DESIGN sections 4 and 11).

A password attempt is counted before the password is checked, atomically,
under three keys: the account from this address, the account from anywhere,
and this address. When a key already holds its limit of hits within the
last window, the attempt is refused with 429 (``Retry-After``: until its
oldest hit leaves the window) and counts toward nothing. When the password
was right the attempt's hits are taken back, and the account's hits from
this address cleared, so the counts hold failures only; an attempt whose
verdict was never reached (the database failed in between) is taken back
too, as no failed guess. Accounts are named by casefolded email whether or
not they exist, so a 429 never tells which accounts exist, and the name is
its HMAC under the application secret, so that the table holds no email (nor
a password typed into the email field). Addresses are counted as
``networks.counted_address`` names them: an IPv6 client by its /64.

Each count is its own short transaction on a connection of the main pool,
committed before the request goes on, and done once per request: a replay
by pyramid_retry finds the first attempt's outcome in the WSGI environ. On
PostgreSQL the keys are locked first (transaction-scoped advisory locks), so
that concurrent attempts cannot both see room for one more.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from .. import clock
from ..models import ThrottleHit, canonical_email
from .networks import counted_address

log = logging.getLogger(__name__)

_DONE = "dragonhoard.throttle"


def account_name(secret: str, email: str) -> str:
    """What the throttle calls the account ``email``: HMAC-SHA256 of the
    casefolded email under ``secret``, in hex. One name per account, 64
    characters whatever the email, and no way back to it without the secret."""
    # surrogatepass: any str has bytes, and distinct strs distinct ones.
    message = canonical_email(email).encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def login_keys(secret: str, email: str, address: str | None) -> tuple[str, str, str]:
    """The keys a password attempt counts under: the account from this
    address, the account from anywhere, and this address."""
    account = account_name(secret, email)
    where = counted_address(address)
    return f"acct-addr:{account}|{where}", f"acct:{account}", f"addr:{where}"


def leak_key(address: str | None) -> str:
    """The key leak reports from ``address`` count under."""
    return f"leak:{counted_address(address)}"


def challenge_key(address: str | None) -> str:
    """The key anonymous passkey challenges from ``address`` count under."""
    return f"challenge:{counted_address(address)}"


#: Passkey challenges an address may ask for in an hour: each is a row
#: written for someone nobody knows yet, so their number is bounded.
CHALLENGES_PER_HOUR = 300
#: Device user codes a user may send to /device in an hour (an address, three
#: times as many): a code is 8 of 20 letters, and guessing must stay hopeless.
DEVICE_CODES_PER_HOUR = 30


#: Device authorizations an address may start in an hour: each writes a row
#: for an app anyone may name (a public app's client_id is no secret).
DEVICE_AUTHORIZATIONS_PER_HOUR = 100


def device_keys(user_id: int, address: str | None) -> tuple[str, str]:
    """The keys /device's code entries count under: the user, the address."""
    return f"device-user:{user_id}", f"device:{counted_address(address)}"


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
        self.secret = settings.secret
        self.window = timedelta(seconds=settings.throttle_window_seconds)
        #: In the order of :func:`login_keys`.
        self.login_limits = (
            settings.throttle_account_address_limit,
            settings.throttle_account_limit,
            settings.throttle_address_limit,
        )
        self.leak_limit = settings.leak_reports_per_hour

    # -- password attempts --------------------------------------------------

    def _login_keys(self, request, email: str) -> tuple[str, str, str]:
        return login_keys(self.secret, email, request.client_addr)

    def password_attempt(self, request, email: str) -> Decision:
        """Count an attempt on ``email`` from the request's address, or refuse it."""
        keys = self._login_keys(request, email)
        counters = list(zip(keys, self.login_limits, strict=True))
        return _once(request, f"attempt:{keys[1]}", lambda: self._hit(counters, self.window))

    def password_right(self, request, email: str) -> None:
        """Take the attempt back, and clear the account's hits from this address."""
        decision = self.password_attempt(request, email)
        account_address, account, _address = self._login_keys(request, email)

        def take_back() -> bool:
            with self.engine.begin() as conn:
                conn.execute(delete(ThrottleHit).where(ThrottleHit.id.in_(decision.hit_ids)))
                conn.execute(delete(ThrottleHit).where(ThrottleHit.key == account_address))
            return True

        _once(request, f"right:{account}", take_back)

    def password_unjudged(self, request, email: str) -> None:
        """Take back an attempt whose verdict was never reached: no failed guess.

        Best effort, for a request that is failing anyway: when the database
        refuses this too, the hits stay, and so does the attempt's outcome, so
        that a replay does not count it twice. Taken back, the attempt counts
        afresh if pyramid_retry replays the request.
        """
        attempt = f"attempt:{self._login_keys(request, email)[1]}"
        decision = request.environ.get(_DONE, {}).get(attempt)
        if decision is None:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(ThrottleHit).where(ThrottleHit.id.in_(decision.hit_ids)))
        except Exception as exc:
            log.warning("throttle hits not taken back: %s", exc.__class__.__name__)
            return
        del request.environ[_DONE][attempt]

    # -- second factors: counted like passwords (DESIGN section 14) ---------

    def _factor_counters(self, request, email: str | None) -> list[tuple[str, int]]:
        if email is None:
            return [(login_keys(self.secret, "", request.client_addr)[2], self.login_limits[2])]
        return list(zip(self._login_keys(request, email), self.login_limits, strict=True))

    def factor_attempt(self, request, email: str | None) -> Decision:
        """Count an attempt at a second factor of ``email``'s account under the
        password's keys, or refuse it; ``email`` None (a credential nobody
        has): under the address alone."""
        counters = self._factor_counters(request, email)
        return _once(request, f"factor:{counters[0][0]}", lambda: self._hit(counters, self.window))

    def factor_right(self, request, email: str | None) -> None:
        """Take the attempt back, and clear the account's hits from this address."""
        decision = self.factor_attempt(request, email)
        keys = [key for key, _limit in self._factor_counters(request, email)]

        def take_back() -> bool:
            with self.engine.begin() as conn:
                conn.execute(delete(ThrottleHit).where(ThrottleHit.id.in_(decision.hit_ids)))
                if email is not None:
                    conn.execute(delete(ThrottleHit).where(ThrottleHit.key == keys[0]))
            return True

        _once(request, f"factor-right:{keys[0]}", take_back)

    def factor_unjudged(self, request, email: str | None) -> None:
        """Like :meth:`password_unjudged`, for a second factor."""
        attempt = f"factor:{self._factor_counters(request, email)[0][0]}"
        decision = request.environ.get(_DONE, {}).get(attempt)
        if decision is None or not decision.allowed:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(ThrottleHit).where(ThrottleHit.id.in_(decision.hit_ids)))
        except Exception as exc:
            log.warning("throttle hits not taken back: %s", exc.__class__.__name__)
            return
        del request.environ[_DONE][attempt]

    # -- leak reports -------------------------------------------------------

    def leak_report(self, request) -> Decision:
        """Count a leak report from the request's address (any outcome), or refuse it."""
        counters = [(leak_key(request.client_addr), self.leak_limit)]
        return _once(request, "leak", lambda: self._hit(counters, timedelta(hours=1)))

    def device_code_entry(self, request, user_id: int) -> Decision:
        """Count a user code sent to /device (any outcome), or refuse it."""
        user_key, address_key = device_keys(user_id, request.client_addr)
        counters = [(user_key, DEVICE_CODES_PER_HOUR), (address_key, 3 * DEVICE_CODES_PER_HOUR)]
        return _once(request, "device", lambda: self._hit(counters, timedelta(hours=1)))

    def device_authorization(self, request) -> Decision:
        """Count a device authorization request from the address, or refuse it."""
        counters = [(f"device-auth:{counted_address(request.client_addr)}",
                     DEVICE_AUTHORIZATIONS_PER_HOUR)]
        return _once(request, "device-auth", lambda: self._hit(counters, timedelta(hours=1)))

    def passkey_challenge(self, request) -> Decision:
        """Count an anonymous request for a passkey challenge, or refuse it."""
        counters = [(challenge_key(request.client_addr), CHALLENGES_PER_HOUR)]
        return _once(request, "challenge", lambda: self._hit(counters, timedelta(hours=1)))

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
