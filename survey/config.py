"""Settings from CHORUS_* environment variables, with safe defaults.

There is no fallback secret key: a server that would sign sessions and derive
code lookups from a key everybody knows must not start. The demo (CHORUS_DEMO=1)
and the tests make their own.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import current_app

from survey.crypto import PasswordCost, ScryptCost, derive_secret

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
# An installed wheel carries templates/ and migrations/ inside the package
# (pyproject.toml maps them there); a checkout has them at its top.
INSTALLED = (PACKAGE_DIR / "templates").is_dir()
FILES_ROOT = PACKAGE_DIR if INSTALLED else PROJECT_ROOT
TEMPLATES_DIR = FILES_ROOT / "templates"
MIGRATIONS_DIR = FILES_ROOT / "migrations"
STATIC_DIR = PACKAGE_DIR / "static"
# The gettext catalogues: <language>/LC_MESSAGES/messages.po and its compiled .mo.
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
# Local state (the default SQLite database, the demo's secret key and logins):
# the checkout's instance/, or for an installed package the instance/ of the
# directory the command runs in, never site-packages.
INSTANCE_DIR = (Path.cwd() if INSTALLED else PROJECT_ROOT) / "instance"
DEMO_SECRET_FILE = INSTANCE_DIR / "demo-secret-key"


class ConfigError(RuntimeError):
    """The settings can't make a safe app; the message says which one to fix."""


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return number


def _secret_key(env: dict[str, str], demo: bool) -> str:
    key = env.get("CHORUS_SECRET_KEY", "")
    key_file = env.get("CHORUS_SECRET_KEY_FILE", "")
    if not key and key_file:
        try:
            key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"CHORUS_SECRET_KEY_FILE can't be read: {exc}") from None
    if not key and demo:
        # The demo keeps its generated key in instance/ so that resume and
        # receipt codes keep working across restarts.
        if DEMO_SECRET_FILE.exists():
            key = DEMO_SECRET_FILE.read_text().strip()
        else:
            DEMO_SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            DEMO_SECRET_FILE.write_text(key + "\n")
            DEMO_SECRET_FILE.chmod(0o600)
    if not key:
        raise ConfigError(
            "CHORUS_SECRET_KEY (or CHORUS_SECRET_KEY_FILE) is not set. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and give every "
            "app process the same value."
        )
    if len(key) < 32:
        raise ConfigError("CHORUS_SECRET_KEY must be at least 32 characters long")
    return key


def _list(env: dict[str, str], name: str) -> list[str] | None:
    """A comma-separated setting as a list, or None when it is unset or empty."""
    items = [item.strip() for item in env.get(name, "").split(",") if item.strip()]
    return items or None


def settings_from_env(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Flask config values read from the environment (os.environ by default)."""
    env = dict(os.environ if env is None else env)
    demo = _flag(env, "CHORUS_DEMO", False)
    database_url = env.get("CHORUS_DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'chorus.db'}"
    return {
        "SECRET_KEY": _secret_key(env, demo),
        "CHORUS_DEMO": demo,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CHORUS_REDIS_URL": env.get("CHORUS_REDIS_URL") or None,
        # Cookies are Secure unless the app is served over plain http on this
        # machine (the demo), where a browser would refuse to send them back.
        "SESSION_COOKIE_SECURE": _flag(env, "CHORUS_SECURE_COOKIES", not demo),
        "CHORUS_PROXY_HOPS": _int(env, "CHORUS_PROXY_HOPS", 0),
        # The site's public names: any other Host header gets the calm 400 page, so a
        # forged one never reaches the links the app writes (printed invite cards).
        "TRUSTED_HOSTS": _list(env, "CHORUS_TRUSTED_HOSTS"),
        "CHORUS_QUICK_EXIT_URL": env.get("CHORUS_QUICK_EXIT_URL")
        or "https://www.bbc.co.uk/weather",
        "CHORUS_RESPONDENT_IDLE_MINUTES": _int(env, "CHORUS_RESPONDENT_IDLE_MINUTES", 60, 5),
        "CHORUS_DRAFT_WEEKS": _int(env, "CHORUS_DRAFT_WEEKS", 8, 1),
        "CHORUS_SCRYPT_LOG2_N": _int(env, "CHORUS_SCRYPT_LOG2_N", 15, 14),
        "CHORUS_RATE_LIMITS": _flag(env, "CHORUS_RATE_LIMITS", True),
        "CHORUS_ARGON2_TIME_COST": _int(env, "CHORUS_ARGON2_TIME_COST", 3, 1),
        "CHORUS_ARGON2_MEMORY_KIB": _int(env, "CHORUS_ARGON2_MEMORY_KIB", 65536, 8),
        "CHORUS_UNLOCK_IDLE_MINUTES": _int(env, "CHORUS_UNLOCK_IDLE_MINUTES", 15, 1),
        "CHORUS_STAFF_IDLE_MINUTES": _int(env, "CHORUS_STAFF_IDLE_MINUTES", 30, 1),
        "CHORUS_STAFF_SESSION_HOURS": _int(env, "CHORUS_STAFF_SESSION_HOURS", 12, 1),
        "CHORUS_LOG_LEVEL": env.get("CHORUS_LOG_LEVEL", "INFO").upper(),
    }


# OWASP's Password Storage Cheat Sheet: argon2id with at least 19 MiB and 2 passes,
# or one of its equivalent pairs trading memory for passes (parallelism 1).
# Minimum memory in KiB, by time cost; 5 passes or more need 7 MiB.
ARGON2_MIN_MEMORY_KIB = {1: 47104, 2: 19456, 3: 12288, 4: 9216, 5: 7168}


def argon2_floor_problem(config: dict[str, Any]) -> str | None:
    """Why the argon2id settings are below OWASP's floor, or None when they aren't."""
    time_cost = int(config["CHORUS_ARGON2_TIME_COST"])
    memory_kib = int(config["CHORUS_ARGON2_MEMORY_KIB"])
    needed = ARGON2_MIN_MEMORY_KIB[min(max(time_cost, 1), 5)]
    if memory_kib >= needed:
        return None
    return (
        f"CHORUS_ARGON2_MEMORY_KIB={memory_kib} is below the safe floor: with "
        f"CHORUS_ARGON2_TIME_COST={time_cost} use at least {needed} KiB "
        "(OWASP's minimum for argon2id is 19456 KiB with a time cost of 2)."
    )


def scrypt_cost(config: dict[str, Any]) -> ScryptCost:
    """The scrypt cost for resume codes, from the app config."""
    return ScryptCost(log2_n=int(config["CHORUS_SCRYPT_LOG2_N"]))


def password_cost(config: dict[str, Any]) -> PasswordCost:
    """The argon2id cost for keys derived from staff passwords, from the app config."""
    return PasswordCost(
        time_cost=int(config["CHORUS_ARGON2_TIME_COST"]),
        memory_kib=int(config["CHORUS_ARGON2_MEMORY_KIB"]),
    )


def app_subkey(purpose: str) -> bytes:
    """A sub-key of the app's secret key for one purpose, derived once per app.

    Each use (code lookups, TOTP secrets, ...) gets its own key, so no two
    purposes ever share key material.
    """
    cache: dict[str, bytes] = current_app.extensions.setdefault("chorus_subkeys", {})
    if purpose not in cache:
        cache[purpose] = derive_secret(current_app.config["SECRET_KEY"].encode(), purpose)
    return cache[purpose]
