"""Photos sent through the JSON API: a photo is uploaded by a user or by a body's API token.

Revision ID: 0026_api_photos
Revises: 0025_narrowed_list_orders
Create Date: 2026-12-04 18:00:00+00:00

A progress step recorded through the API (`POST /api/v1/promises/…/progress`, multipart) may
carry photos. Its uploader is no user but the body's token: `uploader_id` becomes nullable and
`api_token_id` names the token; exactly one of the two is set. A downgrade is refused while
photos uploaded by a token exist (the older schema cannot say who uploaded them).
"""
import sqlalchemy as sa
from alembic import op


revision = '0026_api_photos'
down_revision = "0025_narrowed_list_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_id', sa.Integer(), nullable=True))
        batch_op.alter_column('uploader_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(op.f('fk_photos_api_token_id_api_tokens'), 'api_tokens', ['api_token_id'],
                                    ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint(op.f('ck_photos_one_uploader'),
                                         '(uploader_id IS NULL) <> (api_token_id IS NULL)')
        batch_op.create_index('ix_photos_api_token_id', ['api_token_id'], unique=False)


def downgrade() -> None:
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM photos WHERE api_token_id IS NOT NULL")).scalar()
    if count:
        raise RuntimeError(f"{count} photos were uploaded through the API; the older schema cannot hold them")
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index('ix_photos_api_token_id')
        batch_op.drop_constraint(op.f('ck_photos_one_uploader'), type_='check')
        batch_op.drop_constraint(op.f('fk_photos_api_token_id_api_tokens'), type_='foreignkey')
        batch_op.alter_column('uploader_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('api_token_id')
