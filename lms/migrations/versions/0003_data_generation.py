"""The data generation counter that cached pages are keyed by.

Revision ID: 0003_data_generation
Revises: 0002_audit_chain
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_data_generation"
down_revision = "0002_audit_chain"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lms_data_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_data_generation")),
    )
    op.execute(sa.text("INSERT INTO lms_data_generation (id, value) VALUES (1, 0)"))


def downgrade():
    op.drop_table("lms_data_generation")
