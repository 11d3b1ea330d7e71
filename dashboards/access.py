"""Who may see and do what on the dashboards: the optional `[access]` section of shopkeep.toml.

Without `[access]` the dashboards are open, as for a single seller on their own machine: every page and every
action, no login (`OPEN`). With it, a person logs in with the shop's OpenID Connect provider (Streamlit's
`st.login`; the launcher `dashboards/serve.py` hands Streamlit the provider's secrets from the environment) and
gets one role:

- viewer: every page, read only (no decision, edit or push form);
- manager: a viewer who also decides purchase-order draft lines, sets P&L targets, edits stock rules and locks and
  asks for a stock push;
- admin: a manager who also sees the configuration (数据状态's "Access and configuration": the config file, the
  warehouse and ops store paths, the allowlist, which secret variables are set — never their values);
- screen: the wall page only, reached with `?kiosk=<token>` (the token in the variable `kiosk_token_env` names),
  no login.

A logged-in user's role is their entry in `[access.users]` (e-mail -> role), else the strongest role their
`roles_claim` claim lists; neither: no access. Pages ask `current()` what the session may do; the router refuses a
page the role lacks, and every write goes through `require(action)` (dashboards/writes.py), so a form that is
not shown cannot be submitted either. Dashboards read their configuration themselves (no orchestration import).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dashboards.settings import SettingsError, _read, config_path

ROLES = ("viewer", "manager", "admin", "screen")
STRENGTH = ("admin", "manager", "viewer", "screen")  # a claim listing several roles gets the first of these

DECIDE_PO = "decide_po"  # 补货: approve / edit / reject a purchase-order draft line
SET_TARGETS = "set_targets"  # 经营月报: a shop's targets for a month
EDIT_STOCK = "edit_stock"  # 库存同步: stock rules and locks
PUSH_STOCK = "push_stock"  # 库存同步: ask Dagster to push the plan
SEE_CONFIG = "see_config"  # 数据状态: the configuration and who has which role
MANAGER_ACTIONS = frozenset({DECIDE_PO, SET_TARGETS, EDIT_STOCK, PUSH_STOCK})
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "manager": MANAGER_ACTIONS,
    "admin": MANAGER_ACTIONS | {SEE_CONFIG},
    "screen": frozenset(),
}
WALL_PAGE = "wall"
KIOSK_PARAM = "kiosk"

_STRING_KEYS = (
    "server_metadata_url",
    "client_id",
    "client_secret_env",
    "cookie_secret_env",
    "redirect_uri",
    "roles_claim",
    "kiosk_token_env",
)
_REQUIRED = ("server_metadata_url", "client_id", "client_secret_env", "cookie_secret_env", "redirect_uri")
_KEYS = (*_STRING_KEYS, "users")
MIN_COOKIE_SECRET = 32  # characters: Streamlit signs its login cookie with it


@dataclass(frozen=True)
class AccessConfig:
    """The `[access]` section, checked. Secrets are named by their environment variables, never held here."""

    server_metadata_url: str
    client_id: str
    client_secret_env: str
    cookie_secret_env: str
    redirect_uri: str
    roles_claim: str | None = None
    users: Mapping[str, str] = field(default_factory=dict)  # lower-case e-mail -> role
    kiosk_token_env: str | None = None
    config_file: Path | None = None


def parse(section: object, where: str = "[access]") -> AccessConfig:
    """Check an `[access]` table: one line naming the key for an unknown key, a missing or mistyped value, a role
    that is not one of ROLES, or a section that can give nobody a role."""
    if not isinstance(section, dict):
        raise SettingsError(f"{where}: expected a table")
    for key in section:
        if key not in _KEYS:
            raise SettingsError(f"{where}.{key}: unknown key; expected one of {', '.join(_KEYS)}")
    for key in _STRING_KEYS:
        value = section.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise SettingsError(f"{where}.{key}: expected a non-empty string (in double quotes)")
    for key in _REQUIRED:
        if key not in section:
            raise SettingsError(f"{where}.{key}: missing; the dashboards' login needs it (README, Access)")
    for key in ("server_metadata_url", "redirect_uri"):
        if not section[key].startswith(("http://", "https://")):
            raise SettingsError(f"{where}.{key}: expected an absolute http(s):// URL, got {section[key]!r}")
    if not section["redirect_uri"].rstrip("/").endswith("/oauth2callback"):
        raise SettingsError(
            f"{where}.redirect_uri: must be the dashboards' address + /oauth2callback "
            f"(e.g. http://localhost:8501/oauth2callback), got {section['redirect_uri']!r}"
        )
    users = section.get("users", {})
    if not isinstance(users, dict):
        raise SettingsError(f'{where}.users: expected a table of e-mail = "role"')
    allow: dict[str, str] = {}
    for email, role in users.items():
        if role not in ROLES:
            raise SettingsError(f"{where}.users.{email!r}: role {role!r} is not one of {', '.join(ROLES)}")
        if "@" not in email:
            raise SettingsError(f"{where}.users.{email!r}: expected an e-mail address")
        allow[email.strip().lower()] = role
    if not allow and not section.get("roles_claim"):
        raise SettingsError(
            f"{where}: nobody would get a role; set roles_claim (a claim listing roles) or [access.users]"
        )
    return AccessConfig(
        server_metadata_url=section["server_metadata_url"],
        client_id=section["client_id"],
        client_secret_env=section["client_secret_env"],
        cookie_secret_env=section["cookie_secret_env"],
        redirect_uri=section["redirect_uri"],
        roles_claim=section.get("roles_claim"),
        users=allow,
        kiosk_token_env=section.get("kiosk_token_env"),
    )


def access_config() -> AccessConfig | None:
    """The config file's `[access]` section, checked; None without a config file or without the section (open)."""
    cfg = config_path()
    if not cfg.is_file():
        return None
    section = _read(cfg).get("access")
    if section is None:
        return None
    parsed = parse(section, where=f"{cfg}: [access]")
    return AccessConfig(**{**parsed.__dict__, "config_file": cfg})


def _secret(name: str, what: str, environ: Mapping[str, str]) -> str:
    value = environ.get(name, "")
    if not value:
        raise SettingsError(f"[access] {what}: the environment variable {name} is not set")
    return value


def auth_secrets(config: AccessConfig, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Streamlit's `[auth]` table for `st.login`, its secrets read from the environment (a SettingsError names
    a variable that is not set, or a cookie secret too short to sign with)."""
    cookie_secret = _secret(config.cookie_secret_env, "cookie_secret_env", environ)
    if len(cookie_secret) < MIN_COOKIE_SECRET:
        raise SettingsError(
            f"[access] cookie_secret_env: {config.cookie_secret_env} holds fewer than {MIN_COOKIE_SECRET} "
            "characters; use a long random string (e.g. `openssl rand -hex 32`)"
        )
    if config.kiosk_token_env:
        token = _secret(config.kiosk_token_env, "kiosk_token_env", environ)
        if len(token) < 16:
            raise SettingsError(
                f"[access] kiosk_token_env: {config.kiosk_token_env} holds fewer than 16 characters; use a long "
                "random string"
            )
    return {
        "redirect_uri": config.redirect_uri,
        "cookie_secret": cookie_secret,
        "client_id": config.client_id,
        "client_secret": _secret(config.client_secret_env, "client_secret_env", environ),
        "server_metadata_url": config.server_metadata_url,
    }


@dataclass(frozen=True)
class Who:
    """What one session may do: its role (None: logged in without one), its user's e-mail (None: open, or the
    wall screen), and whether the dashboards are open (no [access] section)."""

    role: str | None
    user: str | None = None
    open: bool = False

    def can(self, action: str) -> bool:
        return self.open or (self.role is not None and action in ROLE_ACTIONS[self.role])

    def may_see(self, url_path: str) -> bool:
        if self.open:
            return True
        if self.role == "screen":
            return url_path == WALL_PAGE
        return self.role is not None

    @property
    def default_page(self) -> str:
        return WALL_PAGE if self.role == "screen" else "overview"


OPEN = Who(role="admin", open=True)
NOBODY = Who(role=None)


class AccessDenied(PermissionError):
    """The session's role lacks the action (a write refused at the point of writing)."""


def role_of(claims: Mapping[str, object], config: AccessConfig) -> str | None:
    """A logged-in user's role: their allowlist entry, else the strongest role listed by `roles_claim` (a list,
    or a string of roles separated by spaces or commas); None when neither gives one. An e-mail the provider
    says is not verified gets no allowlist role."""
    email = str(claims.get("email") or "").strip().lower()
    verified = claims.get("email_verified", True) not in (False, "false")
    if email and verified and email in config.users:
        return config.users[email]
    if config.roles_claim:
        raw = claims.get(config.roles_claim)
        listed = (
            raw.replace(",", " ").split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
        )
        for role in STRENGTH:
            if role in listed:
                return role
    return None


def kiosk_ok(given: str | None, config: AccessConfig, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether `?kiosk=` carries the wall screen's token (compared in constant time; no token set: never)."""
    token = environ.get(config.kiosk_token_env or "", "") if config.kiosk_token_env else ""
    return bool(token and given) and hmac.compare_digest(str(given).encode(), token.encode())


def resolve(
    config: AccessConfig | None,
    claims: Mapping[str, object],
    kiosk: str | None,
    environ: Mapping[str, str] = os.environ,
) -> Who:
    """The session's Who from the config, Streamlit's user claims (`st.user`) and the `?kiosk=` parameter: a
    logged-in user by their role; else the wall screen with the right kiosk token; else nobody."""
    if config is None:
        return OPEN
    if claims.get("is_logged_in"):
        email = str(claims.get("email") or claims.get("sub") or "").strip().lower() or None
        return Who(role=role_of(claims, config), user=email)
    if kiosk_ok(kiosk, config, environ):
        return Who(role="screen", user=None)
    return NOBODY


def current() -> Who:
    """The running Streamlit session's Who (read each time: the config, `st.user` and `?kiosk=`)."""
    import streamlit as st

    config = access_config()
    if config is None:
        return OPEN
    try:
        claims = st.user.to_dict()
    except Exception:  # no [auth] secrets: nobody is logged in
        claims = {}
    return resolve(config, claims, st.query_params.get(KIOSK_PARAM))


def require(action: str) -> Who:
    """The session's Who if its role may do `action`; else AccessDenied (checked where a write happens)."""
    who = current()
    if not who.can(action):
        raise AccessDenied(
            f"{who.user or 'this session'} ({who.role or 'no role'}) may not {action.replace('_', ' ')}"
        )
    return who
