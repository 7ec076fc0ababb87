"""``flask lms token …``: personal access tokens for administrators' scripts."""

import click
from flask.cli import AppGroup

from ..auth.services import find_account
from . import services
from .auth import scopes

token_group = AppGroup("token", help="Personal access tokens for the /api/v1 API.")


@token_group.command("create")
@click.argument("account")
@click.option("--scope", "scope_names", multiple=True, required=True, help="A scope the token carries (repeatable).")
@click.option("--days", default=90, show_default=True, type=int, help="Days until the token expires (1-365).")
@click.option("--name", default="script", show_default=True, help="A name to recognise the token by.")
def create_command(account, scope_names, days, name):
    """Create a token for ACCOUNT (e-mail address, username or phone number) and print it once."""
    user = find_account(account)
    if user is None or not user.is_active:
        raise click.ClickException(f"No active account is named {account!r}.")
    try:
        token, secret = services.create_token(user, name=name, scopes=scope_names, days=days, known_scopes=scopes())
    except services.TokenError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(secret)
    click.echo(
        f"Token {token.name!r} for {user.username}: scopes {token.scopes}; expires {token.expires_at:%Y-%m-%d %H:%M} UTC. "
        "It is shown only this once.",
        err=True,
    )
