"""The migrations build the schema the models describe, on this run's database."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def _diff(engine, metadata):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, metadata)


def test_models_and_migrations_agree(app, db):
    assert _diff(db.engine, db.metadata) == []


def test_drift_is_detected(app, db):
    """The check above is only worth something if a model change without a migration fails it."""
    metadata = sa.MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    sa.Table("meetings", metadata, sa.Column("dress_code", sa.String(20)), extend_existing=True)
    diffs = _diff(db.engine, metadata)
    assert any(d[0] == "add_column" and d[3].name == "dress_code" for d in diffs)


def test_upgrade_builds_empty_sqlite_file(tmp_path):
    """``flask db upgrade`` works on an empty SQLite file too (the demo's default)."""
    from flask_migrate import downgrade, upgrade

    from app.factory import create_app

    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "REDIS_URL": ""})
    with app.app_context():
        upgrade()
        from app.extensions import db

        assert _diff(db.engine, db.metadata) == []
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
