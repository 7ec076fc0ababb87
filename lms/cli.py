"""``flask lms …`` commands of the core."""

import click
from flask import current_app
from flask.cli import AppGroup

lms_group = AppGroup("lms", help="Pathways administration commands.")


@lms_group.command("plugins")
def plugins_command():
    """List the enabled plugins."""
    pm = current_app.extensions["lms_plugins"]
    for name, plugin in pm.list_name_plugin():
        click.echo(f"{name}\t{plugin.__name__}")


@lms_group.group("audit")
def audit_group():
    """The audit chain."""


@audit_group.command("verify")
def audit_verify():
    """Rebuild every event's bytes, check links, signed heads and evidence rows; name the first break."""
    from .audit import verify

    result = verify()
    click.echo(f"events: {result.events}  seals: {result.seals}  evidence rows: {result.evidence_rows}")
    if result.ok:
        click.echo("OK: the audit chain is intact.")
        return
    click.echo(f"BROKEN. First break: {result.first_break}", err=True)
    for problem in result.problems[1:20]:
        click.echo(f"  also: {problem}", err=True)
    raise SystemExit(1)


@audit_group.command("seal")
def audit_seal():
    """Sign the current chain head now (the scheduler does this daily)."""
    from .audit import seal_head

    seal = seal_head()
    click.echo(f"sealed event {seal.seq}" if seal else "nothing to seal: the chain is empty")


@lms_group.command("demo")
def demo_command():
    """Load the demo programmes and accounts (idempotent; refused in production); print the logins."""
    from .demo import build_demo

    try:
        ctx = build_demo()
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Demo accounts (also in instance/demo-accounts.json):")
    click.echo(f"{'role':<22} {'username':<20} {'password':<16} organisation")
    for entry in ctx.accounts:
        click.echo(f"{entry['role']:<22} {entry['username']:<20} {entry['password']:<16} {entry['organisation']}")
