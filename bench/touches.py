"""What a last-used touch costs, and what the ways of skipping its WAL flush
would cost (bench/README.md, "The read pool's touches behind PgBouncer").

Each variant writes ``--touches`` touches, one after the other on one
connection, to tokens not touched in the last minute, as the read pool
writes them (security/bookkeeping.py): the conditional UPDATE that skips a
locked row.

- ``autocommit`` (dragonhoard): the statement commits itself and waits for
  the WAL flush.
- ``autocommit, session synchronous_commit=off``: the read pool's former
  startup option; PgBouncer in transaction mode refuses it.
- ``transaction, SET LOCAL``: BEGIN, SET LOCAL synchronous_commit = off, the
  UPDATE, COMMIT: three more round trips.
- ``one statement, set_config(..., true)``: the setting made local to the
  statement's own implicit transaction, from inside the statement.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

TOUCH = """
    UPDATE api_tokens SET last_used_at = %s, last_used_ip = %s
    WHERE id = (SELECT id FROM api_tokens WHERE id = %s
                AND (last_used_at IS NULL OR last_used_at < %s) {extra} FOR UPDATE SKIP LOCKED)
"""
PLAIN = " ".join(TOUCH.format(extra="").split())
LOCAL_SETTING = " ".join(TOUCH.format(
    extra="AND set_config('synchronous_commit', 'off', true) IS NOT NULL").split())


def _params(token_id: int) -> tuple:
    now = datetime.now(UTC)
    return now, "127.0.0.1", token_id, now - timedelta(seconds=60)


def _autocommit(conn: psycopg.Connection, token_id: int) -> int:
    return conn.execute(PLAIN, _params(token_id)).rowcount


def _set_local(conn: psycopg.Connection, token_id: int) -> int:
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        return conn.execute(PLAIN, _params(token_id)).rowcount


def _in_statement(conn: psycopg.Connection, token_id: int) -> int:
    return conn.execute(LOCAL_SETTING, _params(token_id)).rowcount


VARIANTS: list[tuple[str, str, Callable[[psycopg.Connection, int], int]]] = [
    ("autocommit (dragonhoard)", "", _autocommit),
    ("autocommit, session synchronous_commit=off", "-c synchronous_commit=off", _autocommit),
    ("transaction, SET LOCAL", "", _set_local),
    ("one statement, set_config(..., true)", "", _in_statement),
]


def wal_syncs(conn: psycopg.Connection) -> int:
    """WAL flushes so far (pg_stat_wal, PostgreSQL 14+; a backend reports its
    own when it ends, the WAL writer its background flushes)."""
    return conn.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()[0]


def measure(dsn: str, token_ids: list[int], touches: int = 300) -> list[dict]:
    """Each variant on its own ``touches`` tokens; timings in milliseconds."""
    results = []
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("UPDATE api_tokens SET last_used_at = NULL WHERE id = ANY(%s)", [token_ids])
        for number, (name, options, touch) in enumerate(VARIANTS):
            ids = token_ids[number * touches:(number + 1) * touches]
            before = wal_syncs(admin)
            with psycopg.connect(dsn, autocommit=True, options=options) as conn:
                timings, written = [], 0
                for token_id in ids:
                    started = time.perf_counter()
                    written += touch(conn, token_id)
                    timings.append((time.perf_counter() - started) * 1000)
            time.sleep(0.5)  # the closed connection's statistics reach pg_stat_wal
            syncs = wal_syncs(admin) - before
            results.append({
                "variant": name, "touches": len(ids), "written": written,
                "mean_ms": round(statistics.fmean(timings), 3),
                "p50_ms": round(statistics.median(timings), 3),
                "p99_ms": round(sorted(timings)[int(len(timings) * 0.99) - 1], 3),
                "wal_syncs": syncs,
            })
    return results


def print_results(results: list[dict]) -> None:
    print(f"{'touch':44} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'WAL syncs':>10}")
    for r in results:
        print(f"{r['variant']:44} {r['mean_ms']:8.3f} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f}"
              f" {r['wal_syncs']:>5}/{r['written']}")
