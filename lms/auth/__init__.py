"""Accounts: signing in with e-mail, username or phone; server-side sessions; one-time codes; 2FA."""

from flask import session

from ..extensions import login_manager


def init_login(app) -> None:
    """Wire Flask-Login to server-side sessions: the cookie names a session row that logout ends."""
    from flask_babel import lazy_gettext as _l

    from .services import user_for_session_token

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session row is the protection

    @login_manager.user_loader
    def load_user(user_id):
        return user_for_session_token(session.get("sid"), user_id)
