"""Plugin manager: built-in plugins, third-party ``lms.plugins`` entry points named in ``LMS_PLUGINS``."""

import importlib
from importlib.metadata import entry_points

import pluggy
from flask import current_app

from . import hookspecs

hookimpl = pluggy.HookimplMarker("lms")

# name -> (module, essential). Essential plugins are always loaded: the rest of the suite hangs on them.
BUILTIN_PLUGINS = {
    "core": ("lms.core_plugin", True),
    "catalogue": ("courses.catalogue.plugin", True),
    "certificates": ("certificates.plugin", False),
}
ENTRY_POINT_GROUP = "lms.plugins"


def enabled_names(config) -> list[str]:
    """The plugin names to load: every essential built-in, plus those ``LMS_PLUGINS`` names (all built-ins if unset)."""
    requested = config.get("PLUGINS")
    if isinstance(requested, str):
        requested = [name.strip() for name in requested.split(",") if name.strip()]
    if requested is None:
        requested = list(BUILTIN_PLUGINS)
    essential = [name for name, (_, is_essential) in BUILTIN_PLUGINS.items() if is_essential]
    return list(dict.fromkeys([*essential, *requested]))


def make_manager(config) -> pluggy.PluginManager:
    """Build the manager: register enabled plugins, then check every hook implementation against its spec."""
    pm = pluggy.PluginManager("lms")
    pm.add_hookspecs(hookspecs)
    names = enabled_names(config)
    third_party = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for name in names:
        if name in BUILTIN_PLUGINS:
            module = importlib.import_module(BUILTIN_PLUGINS[name][0])
        elif name in third_party:
            # Only entry points named in LMS_PLUGINS are ever imported.
            module = third_party[name].load()
        else:
            raise RuntimeError(f"LMS_PLUGINS names an unknown plugin: {name!r}")
        pm.register(module, name=name)
    pm.check_pending()
    return pm


def hook():
    """The running app's hook caller: ``hook().lms_nav_items(user=...)``."""
    return current_app.extensions["lms_plugins"].hook


def permissions() -> dict[str, frozenset[str]]:
    """Every action any enabled plugin declares, with the roles allowed to perform it (cached per app)."""
    cached = current_app.extensions.get("lms_permissions")
    if cached is None:
        merged: dict[str, set[str]] = {}
        for table in hook().lms_permissions():
            for action, roles in table.items():
                merged.setdefault(action, set()).update(roles)
        cached = {action: frozenset(roles) for action, roles in merged.items()}
        current_app.extensions["lms_permissions"] = cached
    return cached


def evidence_models() -> list:
    """Every model class an enabled plugin registers as evidence."""
    return [model for models in hook().lms_evidence_models() for model in models]


def flat(results) -> list:
    """Flatten the per-plugin lists a hook returns."""
    return [item for result in results if result for item in result]


def import_all_models() -> None:
    """Import every built-in plugin's models, enabled or not, so migrations see the whole schema."""
    for module_name, _essential in BUILTIN_PLUGINS.values():
        package = module_name.rsplit(".", 1)[0]
        try:
            importlib.import_module(f"{package}.models")
        except ModuleNotFoundError as error:
            if error.name != f"{package}.models":
                raise
