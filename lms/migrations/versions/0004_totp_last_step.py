"""The time step of the last authenticator code accepted, so that no code is accepted twice.

Revision ID: 0004_totp_last_step
Revises: 0003_data_generation
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_totp_last_step"
down_revision = "0003_data_generation"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lms_user") as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table("lms_user") as batch_op:
        batch_op.drop_column("totp_last_step")
