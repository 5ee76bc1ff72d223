"""Config-file profiles of the command line: precedence, permission check, messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyconviva._exceptions import ConfigurationError
from pyconviva.cli.profiles import config_path, load_profile, resolve_profile

SECRET = "s3cr3t-key-do-not-print"


def write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "config.toml",
        f"""
[profiles.default]
client_id = "default-id"
client_key = "{SECRET}"

[profiles.staging]
client_id = "staging-id"
client_secret = "staging-key"
base_url = "http://127.0.0.1:9999"
""",
    )


def test_config_path_prefers_the_environment_variable(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.toml"
    assert config_path({"PYCONVIVA_CONFIG": str(target)}) == target


def test_config_path_defaults_to_the_xdg_config_directory(tmp_path: Path) -> None:
    path = config_path({"XDG_CONFIG_HOME": str(tmp_path)})
    assert path == tmp_path / "pyconviva" / "config.toml"


def test_explicit_profile_wins_over_environment_credentials(config: Path) -> None:
    env = {"CONVIVA_CLIENT_ID": "env-id", "CONVIVA_CLIENT_KEY": "env-key"}
    profile = resolve_profile("staging", env, config)
    assert profile is not None
    assert (profile.client_id, profile.client_key) == ("staging-id", "staging-key")
    assert profile.base_url == "http://127.0.0.1:9999"


def test_environment_credentials_win_over_the_default_profile(config: Path) -> None:
    env = {"CONVIVA_CLIENT_ID": "env-id", "CONVIVA_CLIENT_KEY": "env-key"}
    assert resolve_profile(None, env, config) is None


def test_default_profile_is_used_without_environment_credentials(config: Path) -> None:
    profile = resolve_profile(None, {}, config)
    assert profile is not None
    assert (profile.client_id, profile.client_key, profile.base_url) == (
        "default-id",
        SECRET,
        None,
    )


def test_nothing_configured_names_every_way_to_configure(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    with pytest.raises(ConfigurationError) as caught:
        resolve_profile(None, {}, missing)
    message = str(caught.value)
    assert "CONVIVA_CLIENT_ID" in message
    assert str(missing) in message
    assert "--emulator" in message


def test_profile_repr_never_shows_the_key(config: Path) -> None:
    profile = load_profile(config, "default")
    assert SECRET not in repr(profile)
    assert SECRET not in str(profile)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_file_other_users_can_access_is_refused_with_the_fix(config: Path, mode: int) -> None:
    config.chmod(mode)
    with pytest.raises(ConfigurationError) as caught:
        load_profile(config, "default")
    assert f"chmod 600 {config}" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_unknown_profile_lists_the_known_ones(config: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"'prod'.*default, staging"):
        load_profile(config, "prod")


def test_asking_for_a_profile_without_a_config_file_says_how_to_create_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError, match=r"does not exist.*\[profiles\.prod\]"):
        resolve_profile("prod", {"CONVIVA_CLIENT_ID": "x"}, tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ('[profiles.default]\nclient_id = "i"\n', "missing client_key"),
        ('[profiles.default]\nclient_key = "k"\n', "missing client_id"),
        ('[profiles.default]\nclient_id = "i"\nclient_key = "k"\nregion = "eu"\n', "region"),
        ('[profiles.default]\nclient_id = 5\nclient_key = "k"\n', "client_id must be a string"),
        (
            '[profiles.default]\nclient_id = "i"\nclient_key = "k"\nclient_secret = "k"\n',
            "not both",
        ),
        ("[profiles.default\n", "not valid TOML"),
        ('profiles = "x"\n', "must hold tables"),
    ],
)
def test_malformed_profiles_are_refused_with_what_is_wrong(
    tmp_path: Path, body: str, complaint: str
) -> None:
    path = write_config(tmp_path / "config.toml", body)
    with pytest.raises(ConfigurationError, match=complaint):
        load_profile(path, "default")
