"""Sign-in order numbers are taken by the database at commit time.

The session's counter row (meeting_sessions.last_seq) keeps "第 N 位" gapless, so it is locked from
the moment a number is taken until the commit. Taken by the app, that lock also waited on Python
and the network between the INSERT and the COMMIT, and sign-ins to a session queued behind it. A
deferred constraint trigger takes the number inside COMMIT instead: the lock never leaves the
server. A duplicate (ON CONFLICT DO NOTHING) inserts no row, fires no trigger and takes no number.

SQLite has no deferred triggers; a plain AFTER INSERT trigger does the same (SQLite runs one writer
at a time anyway).

Revision ID: b7c41e2d9a15
Revises: ac0524995cd8
Create Date: 2026-11-22 04:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "b7c41e2d9a15"
down_revision = "ac0524995cd8"
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE FUNCTION signins_take_seq() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken integer;
BEGIN
    UPDATE meeting_sessions SET last_seq = last_seq + 1 WHERE id = NEW.session_id
        RETURNING last_seq INTO taken;
    UPDATE signins SET seq = taken WHERE id = NEW.id;
    RETURN NULL;
END
$$
"""
PG_TRIGGER = """
CREATE CONSTRAINT TRIGGER signins_take_seq AFTER INSERT ON signins
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION signins_take_seq()
"""
SQLITE_TRIGGER = """
CREATE TRIGGER signins_take_seq AFTER INSERT ON signins FOR EACH ROW WHEN NEW.seq IS NULL
BEGIN
    UPDATE meeting_sessions SET last_seq = last_seq + 1 WHERE id = NEW.session_id;
    UPDATE signins SET seq = (SELECT last_seq FROM meeting_sessions WHERE id = NEW.session_id)
        WHERE id = NEW.id;
END
"""


def upgrade():
    with op.batch_alter_table("signins") as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS signins_take_seq" +
               (" ON signins" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS signins_take_seq()")
    # Every committed sign-in has its number, so the column can be required again.
    with op.batch_alter_table("signins") as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
