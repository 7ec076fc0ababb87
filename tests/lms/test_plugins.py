"""Plugins: what is enabled, what is never imported, and booting with optional plugins disabled."""

from importlib.metadata import EntryPoint

import pytest

from lms import create_app
from lms.plugins import BUILTIN_PLUGINS


def _names(app):
    return {name for name, _plugin in app.extensions["lms_plugins"].list_name_plugin()}


def test_every_builtin_plugin_is_enabled_by_default(app):
    assert _names(app) == set(BUILTIN_PLUGINS)


@pytest.mark.parametrize("disabled", [name for name, (_, essential) in BUILTIN_PLUGINS.items() if not essential])
def test_app_boots_and_serves_with_each_optional_plugin_disabled(app_config, disabled, make_user):
    enabled = [name for name in BUILTIN_PLUGINS if name != disabled]
    app = create_app({**app_config, "PLUGINS": enabled})
    assert disabled not in _names(app)
    assert not any(rule.endpoint.startswith(f"{disabled}.") for rule in app.url_map.iter_rules())
    client = app.test_client()
    assert client.get("/auth/login").status_code == 200
    assert client.get("/healthz").get_json()["database"] == "ok"


def test_essential_plugins_cannot_be_switched_off(app_config):
    app = create_app({**app_config, "PLUGINS": []})
    essential = {name for name, (_, is_essential) in BUILTIN_PLUGINS.items() if is_essential}
    assert _names(app) == essential


def test_plugins_setting_accepts_a_comma_separated_environment_value(app_config, monkeypatch):
    monkeypatch.setenv("LMS_PLUGINS", '"catalogue"')
    app = create_app({key: value for key, value in app_config.items() if key != "PLUGINS"})
    assert "certificates" not in _names(app)


def test_entry_points_not_named_in_lms_plugins_are_never_imported(app_config, monkeypatch, tmp_path):
    # An entry point whose module would fail loudly if anything imported it.
    trap = EntryPoint(name="thirdparty", value="no_such_module_imported_by_accident", group="lms.plugins")
    monkeypatch.setattr("lms.plugins.entry_points", lambda group: [trap] if group == "lms.plugins" else [])
    app = create_app(app_config)
    assert "thirdparty" not in _names(app)
    with pytest.raises(ModuleNotFoundError):
        create_app({**app_config, "PLUGINS": ["thirdparty"]})


def test_named_third_party_plugin_is_loaded_and_its_hooks_run(app_config, monkeypatch, tmp_path):
    package = tmp_path / "pathways_demo_plugin.py"
    package.write_text(
        "from lms.plugins import hookimpl\n"
        "@hookimpl\n"
        "def lms_permissions():\n"
        "    return {'demo_plugin.view': {'authenticated'}}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = EntryPoint(name="demo_plugin", value="pathways_demo_plugin", group="lms.plugins")
    monkeypatch.setattr("lms.plugins.entry_points", lambda group: [entry] if group == "lms.plugins" else [])
    app = create_app({**app_config, "PLUGINS": [*BUILTIN_PLUGINS, "demo_plugin"]})
    assert "demo_plugin" in _names(app)
    with app.app_context():
        from lms.plugins import permissions

        assert permissions()["demo_plugin.view"] == {"authenticated"}


def test_a_hook_implementation_not_in_the_spec_is_refused(app_config, monkeypatch, tmp_path):
    (tmp_path / "pathways_bad_plugin.py").write_text(
        "from lms.plugins import hookimpl\n@hookimpl\ndef lms_no_such_hook():\n    return 1\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = EntryPoint(name="bad_plugin", value="pathways_bad_plugin", group="lms.plugins")
    monkeypatch.setattr("lms.plugins.entry_points", lambda group: [entry] if group == "lms.plugins" else [])
    with pytest.raises(Exception, match="lms_no_such_hook"):
        create_app({**app_config, "PLUGINS": ["bad_plugin"]})


def test_flask_lms_plugins_lists_what_is_enabled(app):
    result = app.test_cli_runner().invoke(args=["lms", "plugins"])
    assert result.exit_code == 0
    for name in BUILTIN_PLUGINS:
        assert name in result.output


def test_every_hook_has_a_docstring():
    import inspect

    from lms import hookspecs

    hooks = [fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("lms_")]
    assert len(hooks) >= 20
    assert all(fn.__doc__ and fn.__doc__.strip() for fn in hooks)
