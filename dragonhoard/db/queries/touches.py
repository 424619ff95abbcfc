"""Last-used and last-seen times: one conditional UPDATE each, at most once a
minute per credential (DESIGN section 11). PostgreSQL skips a row another
transaction holds rather than waiting for it; SQLite has no row locks."""
from __future__ import annotations

from ..statements import SQLStatement

_TOKEN = """
    UPDATE api_tokens SET last_used_at = :at, last_used_ip = :ip
    WHERE id = (SELECT id FROM api_tokens WHERE id = :id
                AND (last_used_at IS NULL OR last_used_at < :cutoff) {lock})
"""
_SESSION = """
    UPDATE login_sessions SET last_seen_at = :at
    WHERE id = (SELECT id FROM login_sessions WHERE id = :id AND last_seen_at < :cutoff {lock})
"""
_LOCKS = {"postgresql": "FOR UPDATE SKIP LOCKED", "sqlite": ""}

#: {dialect name: statement}
TOUCH_TOKEN = {name: SQLStatement(_TOKEN.format(lock=lock)) for name, lock in _LOCKS.items()}
TOUCH_SESSION = {name: SQLStatement(_SESSION.format(lock=lock)) for name, lock in _LOCKS.items()}
