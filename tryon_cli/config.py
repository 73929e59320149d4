"""Where settings come from: a command-line value, then an environment variable, then the user config file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

CONFIG_ENV = "TRYON_CONFIG"


def config_path() -> Path:
    """The user config file: $TRYON_CONFIG, else $XDG_CONFIG_HOME/tryon-cli/config.toml."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "tryon-cli" / "config.toml"


def load_config() -> dict:
    """The user config as a dict ({} when there is no file)."""
    path = config_path()
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as error:
        raise InputError(f"{path}: cannot read the config file ({error})") from error


@dataclass(frozen=True)
class Setting:
    """A resolved setting and where it came from ('option', 'env TRYON_X', the config path, or 'unset')."""

    value: str | None
    origin: str


def resolve(key: str, option_value: str | None, env_name: str) -> Setting:
    """Pick the value of a setting: command-line option, then environment, then config file."""
    if option_value:
        return Setting(option_value, "option")
    if os.environ.get(env_name):
        return Setting(os.environ[env_name], f"env {env_name}")
    config = load_config()
    value = config.get(key) or config.get("models", {}).get(key)
    if value:
        return Setting(str(value), str(config_path()))
    return Setting(None, "unset")
