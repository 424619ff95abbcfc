"""A row lock that holds on both databases, so that a check and the write it
allows happen as one step (DESIGN section 13)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .meta import Base


def lock_row(dbsession: Session, model: type[Base], row_id: int) -> None:
    """Hold ``model``'s row ``row_id`` until the transaction ends: whoever
    locks it next waits, then reads what this transaction wrote.

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite ignores FOR UPDATE, and its
    driver begins a transaction only right before a write, so a check made by
    reading would run outside any transaction: take the database's write
    lock now instead, and the check and the write that follow run inside the
    one write transaction. Never call it before a password check: the
    throttle writes on a connection of its own first, and would wait for
    this lock.
    """
    if dbsession.get_bind().dialect.name == "postgresql":
        (key,) = model.__table__.primary_key.columns
        dbsession.execute(select(key).where(key == row_id).with_for_update())
    else:
        _sqlite_write_lock(dbsession)


def _sqlite_write_lock(dbsession: Session) -> None:
    # BEGIN IMMEDIATE waits (the driver's busy timeout) for the write lock.
    # A transaction already open began before a write, so it holds the lock.
    # (A write that changes nothing would take the lock too, but writing a
    # primary key to itself makes SQLite count every row that refers to it.)
    driver = dbsession.connection().connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")
