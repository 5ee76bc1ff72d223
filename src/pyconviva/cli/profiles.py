"""Credentials for the command line: profiles in a TOML config file, or the environment.

The file (default ``~/.config/pyconviva/config.toml``, or ``$PYCONVIVA_CONFIG``) holds one table
per profile::

    [profiles.default]
    client_id = "..."
    client_key = "..."
    base_url = "https://api.conviva.com"   # optional

Which credentials a command uses: an explicit ``--profile NAME`` wins; otherwise the
``CONVIVA_CLIENT_*`` environment variables (read by the library itself); otherwise the
``default`` profile when the file has one. Secrets are never taken from the command line,
where other users of the machine could read them, and a config file that other users can
read is refused.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyconviva._config import ENV_CLIENT_ID, ENV_CLIENT_KEY, ENV_CLIENT_SECRET
from pyconviva._exceptions import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    # tomli is only installed on 3.10 (the cli extra); mypy checks this branch either way.
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["DEFAULT_PROFILE", "Profile", "config_path", "load_profile", "resolve_profile"]

DEFAULT_PROFILE = "default"
CONFIG_ENV = "PYCONVIVA_CONFIG"
_CREDENTIAL_ENV = (ENV_CLIENT_ID, ENV_CLIENT_KEY, ENV_CLIENT_SECRET)
_PROFILE_KEYS = ("client_id", "client_key", "client_secret", "base_url")


@dataclass(frozen=True)
class Profile:
    """One profile's settings; the key is kept out of ``repr`` so that it cannot leak."""

    client_id: str
    client_key: str = field(repr=False)
    base_url: str | None
    source: str


def config_path(env: Mapping[str, str]) -> Path:
    """Where the config file is: ``$PYCONVIVA_CONFIG``, else the XDG config directory."""
    explicit = env.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    config_home = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "pyconviva" / "config.toml"


def resolve_profile(profile: str | None, env: Mapping[str, str], path: Path) -> Profile | None:
    """The profile a command should use, or ``None`` when the environment holds the credentials
    (the library reads them itself). ConfigurationError when neither has any.
    """
    if profile is not None:
        return load_profile(path, profile)
    if any(env.get(name) for name in _CREDENTIAL_ENV):
        return None
    profiles = _read_profiles(path) if path.exists() else {}
    if DEFAULT_PROFILE not in profiles:
        raise ConfigurationError(
            f"no Conviva credentials: set {ENV_CLIENT_ID} and {ENV_CLIENT_KEY}, or add a "
            f"[profiles.{DEFAULT_PROFILE}] table with client_id and client_key to {path} "
            f"(chmod 600); or try the command offline with --emulator"
        )
    return _profile_credentials(path, DEFAULT_PROFILE, profiles[DEFAULT_PROFILE])


def load_profile(path: Path, name: str) -> Profile:
    """The named profile of the config file at ``path``; ConfigurationError when unusable."""
    if not path.exists():
        raise ConfigurationError(
            f"profile {name!r} was asked for but the config file {path} does not exist; "
            f"create it with a [profiles.{name}] table holding client_id and client_key "
            f"(or set {CONFIG_ENV} to the file's path)"
        )
    profiles = _read_profiles(path)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigurationError(
            f"profile {name!r} is not in {path} (profiles there: {known}); "
            f"add a [profiles.{name}] table or pick one of those"
        )
    return _profile_credentials(path, name, profiles[name])


def _read_profiles(path: Path) -> dict[str, Any]:
    _refuse_shared_file(path)
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"config file {path} is not valid TOML: {error}") from error
    except OSError as error:
        raise ConfigurationError(f"cannot read config file {path}: {error.strerror}") from error
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ConfigurationError(
            f"config file {path}: 'profiles' must hold tables such as [profiles.default]"
        )
    return profiles


def _refuse_shared_file(path: Path) -> None:
    """A file of secrets that other users can read is refused, with the command that fixes it."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"config file {path} holds secrets but other users can access it "
            f"(mode {mode:04o}); restrict it with: chmod 600 {path}"
        )


def _profile_credentials(path: Path, name: str, table: Mapping[str, Any]) -> Profile:
    where = f"[profiles.{name}] in {path}"
    unknown = sorted(set(table) - set(_PROFILE_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; "
            f"allowed: client_id, client_key (or client_secret), base_url"
        )
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigurationError(f"{where}: {key} must be a string")
    if "client_key" in table and "client_secret" in table:
        raise ConfigurationError(f"{where}: give client_key or client_secret, not both")
    client_id = table.get("client_id")
    client_key = table.get("client_key", table.get("client_secret"))
    if not client_id or not client_key:
        missing = [k for k, v in (("client_id", client_id), ("client_key", client_key)) if not v]
        raise ConfigurationError(f"{where}: missing {' and '.join(missing)}")
    return Profile(
        client_id=client_id,
        client_key=client_key,
        base_url=table.get("base_url"),
        source=f"profile {name!r} of {path}",
    )
