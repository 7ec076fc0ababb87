"""The navigation shown to a person: entries from every plugin's ``lms_nav_items``, allowed ones only."""

from flask import url_for

from .access import can
from .plugins import flat, hook


def nav_items(user) -> list[dict]:
    """Navigation entries for ``user`` with their URLs, in order; entries the person may not open are left out."""
    items = []
    for item in sorted(flat(hook().lms_nav_items(user=user)), key=lambda i: i.get("order", 100)):
        action = item.get("action")
        if action and not can(user, action, item.get("obj")):
            continue
        items.append({**item, "url": url_for(item["endpoint"], **item.get("values", {}))})
    return items
