"""initial schema

Revision ID: ac0524995cd8
Revises: 
Create Date: 2026-11-22 03:32:13.558353

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL (compact, indexable), plain JSON on SQLite; the models use the same variant.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# revision identifiers, used by Alembic.
revision = 'ac0524995cd8'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('agenda', JSON, nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('admission', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('mask_names', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('rotating_qr', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('screen_mode', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('code', name=op.f('uq_meetings_code'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('aliases', JSON, nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('allow_landline', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=96), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=96), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('data', JSON, nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_audit_log_meeting_id_meetings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_log_meeting_at', ['meeting_id', 'at'], unique=False)

    op.create_table('contact_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('deactivated', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('report', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_contact_imports_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_imports'))
    )
    with op.batch_alter_table('contact_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_imports_unit_id'), ['unit_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('tags', JSON, nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_contacts_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('unit_id', 'phone', name=op.f('uq_contacts_unit_id_phone'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_phone', ['phone'], unique=False)

    op.create_table('meeting_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signin_opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signin_closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seq', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_sessions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_sessions')),
    sa.UniqueConstraint('meeting_id', 'position', name=op.f('uq_meeting_sessions_meeting_id_position'))
    )
    op.create_table('meeting_units',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_units_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_meeting_units_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('meeting_id', 'unit_id', name=op.f('pk_meeting_units'))
    )
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('anonymous', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_surveys_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('unit_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_accounts_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_accounts')),
    sa.UniqueConstraint('username', name=op.f('uq_unit_accounts_username'))
    )
    with op.batch_alter_table('unit_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_accounts_unit_id'), ['unit_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('access', sa.String(length=16), nullable=False),
    sa.Column('allowed_roles', JSON, nullable=False),
    sa.Column('allowed_groups', JSON, nullable=False),
    sa.Column('allow_download', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('recalled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recalled_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_documents_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recalled_by_contact_id'], ['contacts.id'], name=op.f('fk_documents_recalled_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('meeting_id', 'number', name=op.f('uq_documents_meeting_id_number'))
    )
    op.create_table('invitees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('group_name', sa.String(length=64), nullable=True),
    sa.Column('seat', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_invitees_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_invitees_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitees')),
    sa.UniqueConstraint('meeting_id', 'contact_id', name=op.f('uq_invitees_meeting_id_contact_id'))
    )
    with op.batch_alter_table('invitees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitees_contact_id'), ['contact_id'], unique=False)

    op.create_table('meeting_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scene', sa.String(length=64), nullable=False),
    sa.Column('ticket', sa.String(length=255), nullable=True),
    sa.Column('url', sa.String(length=1024), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('extra', JSON, nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_codes_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'], name=op.f('fk_meeting_codes_session_id_meeting_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_codes')),
    sa.UniqueConstraint('meeting_id', 'session_id', 'kind', name=op.f('uq_meeting_codes_meeting_id_session_id_kind'))
    )
    op.create_table('organizers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('right', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_organizers_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_organizers_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizers')),
    sa.UniqueConstraint('meeting_id', 'contact_id', name=op.f('uq_organizers_meeting_id_contact_id'))
    )
    with op.batch_alter_table('organizers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organizers_contact_id'), ['contact_id'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('created_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_contact_id'], ['contacts.id'], name=op.f('fk_reminders_created_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_reminders_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'], name=op.f('fk_reminders_session_id_meeting_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders'))
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('signins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('actor_contact_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['actor_contact_id'], ['contacts.id'], name=op.f('fk_signins_actor_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_signins_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_signins_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_contact_id'], ['contacts.id'], name=op.f('fk_signins_revoked_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'], name=op.f('fk_signins_session_id_meeting_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signins')),
    sa.UniqueConstraint('session_id', 'seq', name=op.f('uq_signins_session_id_seq'))
    )
    with op.batch_alter_table('signins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signins_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_signins_meeting_signed', ['meeting_id', 'signed_at'], unique=False)
        batch_op.create_index('uq_signins_live_session_contact', ['session_id', 'contact_id'], unique=True, postgresql_where=sa.text('revoked_at IS NULL'), sqlite_where=sa.text('revoked_at IS NULL'))

    op.create_table('survey_participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_survey_participations_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_participations_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_participations')),
    sa.UniqueConstraint('survey_id', 'contact_id', name=op.f('uq_survey_participations_survey_id_contact_id'))
    )
    with op.batch_alter_table('survey_participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_participations_contact_id'), ['contact_id'], unique=False)

    op.create_table('survey_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('options', JSON, nullable=False),
    sa.Column('required', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_questions_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_questions'))
    )
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_questions_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answers', JSON, nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_survey_responses_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_responses_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_survey_id'), ['survey_id'], unique=False)

    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('min_choices', sa.Integer(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('eligibility', sa.String(length=16), nullable=False),
    sa.Column('eligible_roles', JSON, nullable=False),
    sa.Column('eligible_groups', JSON, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('results_visibility', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_votes_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'], name=op.f('fk_votes_session_id_meeting_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes'))
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_votes_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('wechat_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('oa_openid', sa.String(length=64), nullable=True),
    sa.Column('mp_openid', sa.String(length=64), nullable=True),
    sa.Column('unionid', sa.String(length=64), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_wechat_identities_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_identities')),
    sa.UniqueConstraint('contact_id', name=op.f('uq_wechat_identities_contact_id')),
    sa.UniqueConstraint('mp_openid', name=op.f('uq_wechat_identities_mp_openid')),
    sa.UniqueConstraint('oa_openid', name=op.f('uq_wechat_identities_oa_openid')),
    sa.UniqueConstraint('unionid', name=op.f('uq_wechat_identities_unionid'))
    )
    op.create_table('ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('cast_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_ballots_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_ballots_vote_id_votes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_vote_id'), ['vote_id'], unique=False)

    op.create_table('document_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('mime_type', sa.String(length=128), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('error_message', sa.String(length=500), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('pages_ready', sa.Integer(), server_default='0', nullable=False),
    sa.Column('uploaded_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_versions_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_contact_id'], ['contacts.id'], name=op.f('fk_document_versions_uploaded_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_versions')),
    sa.UniqueConstraint('document_id', 'version', name=op.f('uq_document_versions_document_id_version'))
    )
    op.create_table('reminder_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reminder_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('errcode', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_reminder_deliveries_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reminder_id'], ['reminders.id'], name=op.f('fk_reminder_deliveries_reminder_id_reminders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_deliveries')),
    sa.UniqueConstraint('reminder_id', 'contact_id', name=op.f('uq_reminder_deliveries_reminder_id_contact_id'))
    )
    op.create_table('signin_denials',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('identity_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_signin_denials_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['identity_id'], ['wechat_identities.id'], name=op.f('fk_signin_denials_identity_id_wechat_identities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_signin_denials_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'], name=op.f('fk_signin_denials_session_id_meeting_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_denials'))
    )
    with op.batch_alter_table('signin_denials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_denials_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('vote_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_vote_options_vote_id_votes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote_options'))
    )
    with op.batch_alter_table('vote_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_options_vote_id'), ['vote_id'], unique=False)

    op.create_table('vote_participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_vote_participations_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_vote_participations_vote_id_votes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote_participations')),
    sa.UniqueConstraint('vote_id', 'contact_id', name=op.f('uq_vote_participations_vote_id_contact_id'))
    )
    with op.batch_alter_table('vote_participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_participations_contact_id'), ['contact_id'], unique=False)

    op.create_table('ballot_choices',
    sa.Column('ballot_id', sa.String(length=32), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_choices_ballot_id_ballots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['option_id'], ['vote_options.id'], name=op.f('fk_ballot_choices_option_id_vote_options'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ballot_id', 'option_id', name=op.f('pk_ballot_choices'))
    )
    op.create_table('document_accesses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('extra', JSON, nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_document_accesses_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_accesses_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['document_versions.id'], name=op.f('fk_document_accesses_version_id_document_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_accesses'))
    )
    with op.batch_alter_table('document_accesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_accesses_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_accesses_document_id'), ['document_id'], unique=False)


def downgrade():
    with op.batch_alter_table('document_accesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_accesses_document_id'))
        batch_op.drop_index(batch_op.f('ix_document_accesses_contact_id'))

    op.drop_table('document_accesses')
    op.drop_table('ballot_choices')
    with op.batch_alter_table('vote_participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_participations_contact_id'))

    op.drop_table('vote_participations')
    with op.batch_alter_table('vote_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_options_vote_id'))

    op.drop_table('vote_options')
    with op.batch_alter_table('signin_denials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_denials_meeting_id'))

    op.drop_table('signin_denials')
    op.drop_table('reminder_deliveries')
    op.drop_table('document_versions')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballots_vote_id'))

    op.drop_table('ballots')
    op.drop_table('wechat_identities')
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_votes_meeting_id'))

    op.drop_table('votes')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_responses_survey_id'))

    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_questions_survey_id'))

    op.drop_table('survey_questions')
    with op.batch_alter_table('survey_participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_participations_contact_id'))

    op.drop_table('survey_participations')
    with op.batch_alter_table('signins', schema=None) as batch_op:
        batch_op.drop_index('uq_signins_live_session_contact', postgresql_where=sa.text('revoked_at IS NULL'), sqlite_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index('ix_signins_meeting_signed')
        batch_op.drop_index(batch_op.f('ix_signins_contact_id'))

    op.drop_table('signins')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_meeting_id'))

    op.drop_table('reminders')
    with op.batch_alter_table('organizers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizers_contact_id'))

    op.drop_table('organizers')
    op.drop_table('meeting_codes')
    with op.batch_alter_table('invitees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitees_contact_id'))

    op.drop_table('invitees')
    op.drop_table('documents')
    with op.batch_alter_table('unit_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_accounts_unit_id'))

    op.drop_table('unit_accounts')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_meeting_id'))

    op.drop_table('surveys')
    op.drop_table('meeting_units')
    op.drop_table('meeting_sessions')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_phone')

    op.drop_table('contacts')
    with op.batch_alter_table('contact_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_imports_unit_id'))

    op.drop_table('contact_imports')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_meeting_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    op.drop_table('units')
    op.drop_table('meetings')
