"""Alembic, configured from the ini file's ``[app:main]`` settings.

``alembic -c development.ini upgrade head``; ``DRAGONHOARD_DATABASE_URL``
overrides the ini file's ``sqlalchemy.url``, as it does for the app.
"""
from __future__ import annotations

from alembic import context
from pyramid.paster import get_appsettings, setup_logging

from dragonhoard.models import get_engine
from dragonhoard.models.meta import metadata
from dragonhoard.settings import apply_environment

config = context.config

connection = config.attributes.get("connection")
if connection is None:
    setup_logging(config.config_file_name)
    settings = apply_environment(get_appsettings(config.config_file_name))


def run_migrations(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=conn.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("dragonhoard migrations run online only: alembic -c development.ini upgrade head")
elif connection is not None:
    # Tests and dragonhoard-initdb hand over a connection of their own.
    run_migrations(connection)
else:
    engine = get_engine(settings)
    with engine.connect() as conn:
        run_migrations(conn)
    engine.dispose()
