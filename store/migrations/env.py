"""Alembic environment: runs against the engine pollflow passes in (store.db.alembic_config)."""

import importlib
import pkgutil

from alembic import context
from sqlmodel import SQLModel

import store

# Every module of tables (store/models.py and store/*_models.py) registers its tables on
# SQLModel.metadata; each part of pollflow keeps its tables in its own module.
for module in pkgutil.iter_modules(store.__path__):
    if module.name == "models" or module.name.endswith("_models"):
        importlib.import_module(f"store.{module.name}")

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from store.db import get_engine

        engine = get_engine(migrate=False)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
