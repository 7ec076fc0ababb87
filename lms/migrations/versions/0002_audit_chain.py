"""Audit chain head row and the triggers that make the chain append-only.

Revision ID: 0002_audit_chain
Revises: 0001_initial
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from lms.audit import GENESIS, install_triggers

revision = "0002_audit_chain"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text(f"INSERT INTO lms_audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')"))
    install_triggers(op.get_bind())


def downgrade():
    op.execute(sa.text("DELETE FROM lms_audit_head"))
