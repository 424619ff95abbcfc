"""The models and the migrations describe the same schema, both ways."""
from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from dragonhoard.models import get_engine
from dragonhoard.models.meta import metadata

from .conftest import POSTGRES_URL, create_database, drop_database, ini_path


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request, tmp_path):
    """An empty database of its own (migrations are run on it from scratch)."""
    if request.param == "sqlite":
        engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'fresh.sqlite'}"})
        yield engine
        engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("DRAGONHOARD_TEST_POSTGRES_URL is not set")
    name = f"dh_mig_{uuid.uuid4().hex[:10]}"
    create_database(POSTGRES_URL, name)
    engine = get_engine({"sqlalchemy.url": make_url(POSTGRES_URL).set(database=name).render_as_string(False)})
    yield engine
    engine.dispose()
    drop_database(POSTGRES_URL, name)


def run(engine, *args) -> None:
    config = Config(ini_path())
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, args[0])(config, *args[1:])


def differences(engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)


def test_migrations_match_the_models(fresh_engine):
    run(fresh_engine, "upgrade", "head")
    assert differences(fresh_engine) == []


def test_downgrade_to_base_then_upgrade_again(fresh_engine):
    run(fresh_engine, "upgrade", "head")
    run(fresh_engine, "downgrade", "base")
    assert set(inspect(fresh_engine).get_table_names()) <= {"alembic_version"}
    run(fresh_engine, "upgrade", "head")
    assert set(metadata.tables) <= set(inspect(fresh_engine).get_table_names())
    assert differences(fresh_engine) == []
