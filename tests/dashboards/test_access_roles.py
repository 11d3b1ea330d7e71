"""The role logic of dashboards/access.py, the [access] checks, the launcher's secrets file, and the writes of
dashboards/writes.py refused for a role that lacks them (nothing written) and naming the user when allowed."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from dashboards import access, writes
from dashboards.serve import secrets_toml, write_secrets
from dashboards.settings import SettingsError
from writeback import ops_store as ops

SECTION = {
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    "client_id": "shopkeep",
    "client_secret_env": "T_CLIENT_SECRET",
    "cookie_secret_env": "T_COOKIE_SECRET",
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "roles_claim": "groups",
    "kiosk_token_env": "T_KIOSK",
    "users": {"Boss@Shop.test": "admin", "vera@shop.test": "viewer"},
}
CONFIG = access.parse(SECTION)
ENV = {"T_CLIENT_SECRET": "client-secret", "T_COOKIE_SECRET": "c" * 40, "T_KIOSK": "k" * 24}


def test_roles_come_from_the_allowlist_else_the_strongest_role_of_the_claim():
    assert access.role_of({"email": "boss@shop.test"}, CONFIG) == "admin"  # e-mails compare case-blind
    assert access.role_of({"email": "vera@shop.test", "groups": ["admin"]}, CONFIG) == "viewer"  # list wins
    assert access.role_of({"email": "m@shop.test", "groups": ["viewer", "manager"]}, CONFIG) == "manager"
    assert access.role_of({"email": "m@shop.test", "groups": "staff, manager"}, CONFIG) == "manager"
    assert access.role_of({"email": "x@shop.test", "groups": ["staff"]}, CONFIG) is None
    assert access.role_of({"email": "vera@shop.test", "email_verified": False}, CONFIG) is None


def test_what_each_role_may_see_and_do():
    viewer, manager, admin = (access.Who(role=r, user="u@x") for r in ("viewer", "manager", "admin"))
    screen = access.Who(role="screen")
    assert all(viewer.may_see(p) for p in ("overview", "replenishment", "wall", "data_status"))
    assert not any(viewer.can(a) for a in access.MANAGER_ACTIONS | {access.SEE_CONFIG})
    assert all(manager.can(a) for a in access.MANAGER_ACTIONS) and not manager.can(access.SEE_CONFIG)
    assert all(admin.can(a) for a in access.MANAGER_ACTIONS | {access.SEE_CONFIG})
    assert screen.may_see("wall") and not screen.may_see("overview") and not screen.may_see("")
    assert not any(screen.can(a) for a in access.MANAGER_ACTIONS)
    assert not access.NOBODY.may_see("overview")
    assert access.OPEN.may_see("overview") and access.OPEN.can(access.DECIDE_PO)  # no [access]: as before


def test_resolve_a_session_user_first_then_the_kiosk_token_then_nobody():
    assert access.resolve(None, {}, None) is access.OPEN
    user = access.resolve(CONFIG, {"is_logged_in": True, "email": "Vera@shop.test"}, "k" * 24, ENV)
    assert (user.role, user.user) == ("viewer", "vera@shop.test")
    assert access.resolve(CONFIG, {"is_logged_in": False}, "k" * 24, ENV).role == "screen"
    assert access.resolve(CONFIG, {"is_logged_in": False}, "wrong", ENV) is access.NOBODY
    assert access.resolve(CONFIG, {}, "k" * 24, {}) is access.NOBODY  # no token set: no kiosk


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_idd": "x"}, "[access].client_idd: unknown key"),
        ({"client_id": 3}, "[access].client_id: expected a non-empty string"),
        ({"redirect_uri": "http://localhost:8501/"}, "[access].redirect_uri: must be"),
        ({"users": {"vera@shop.test": "boss"}}, "[access].users.'vera@shop.test': role 'boss'"),
        ({"users": {}, "roles_claim": None}, "[access]: nobody would get a role"),
    ],
)
def test_a_mistake_in_access_is_one_line_naming_the_key(change, message):
    section = {k: v for k, v in {**SECTION, **change}.items() if v is not None}
    with pytest.raises(SettingsError) as exc:
        access.parse(section)
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_a_missing_secret_names_its_variable_never_a_value(monkeypatch):
    with pytest.raises(SettingsError, match="T_CLIENT_SECRET is not set"):
        access.auth_secrets(CONFIG, {k: v for k, v in ENV.items() if k != "T_CLIENT_SECRET"})
    with pytest.raises(SettingsError, match="T_COOKIE_SECRET holds fewer than 32") as exc:
        access.auth_secrets(CONFIG, {**ENV, "T_COOKIE_SECRET": "short-secret"})
    assert "short-secret" not in str(exc.value)


def test_the_launcher_writes_auth_to_a_private_file(tmp_path):
    auth = access.auth_secrets(CONFIG, {**ENV, "T_CLIENT_SECRET": 'a"b\\c'})
    path = write_secrets(auth)
    try:
        import tomllib

        assert (
            oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
        )
        assert tomllib.loads(path.read_text())["auth"] == auth == tomllib.loads(secrets_toml(auth))["auth"]
    finally:
        path.unlink()
        path.parent.rmdir()


DECISION = ops.decide(
    draft_id="DRAFT-20260701-S1", sku="SKU-1", supplier_id="S1", suggested_qty=10, quantity=10
)


def _as(monkeypatch, who: access.Who) -> None:
    monkeypatch.setattr(access, "current", lambda: who)


def test_a_viewer_s_writes_are_refused_where_they_happen_and_nothing_is_written(monkeypatch, tmp_path):
    store = tmp_path / "ops.sqlite"
    _as(monkeypatch, access.Who(role="viewer", user="vera@shop.test"))
    for write in (
        lambda: writes.decide_po(store, DECISION, seen=None),
        lambda: writes.set_target(store, shop_id="s", month=date(2026, 7, 1), net_revenue_target="100"),
        lambda: writes.request_push(store, "", "2026-07-01T00:00:00+00:00", None),
        lambda: writes.save_rule(store, {"name": "r"}, "", 0, None),
    ):
        with pytest.raises(access.AccessDenied, match="vera@shop.test"):
            write()
    assert not store.exists()


def test_a_manager_s_writes_name_them(monkeypatch, tmp_path):
    store = tmp_path / "ops.sqlite"
    _as(monkeypatch, access.Who(role="manager", user="max@shop.test"))
    writes.decide_po(store, DECISION, seen=None)
    writes.set_target(store, shop_id="s", month=date(2026, 7, 1), net_revenue_target="100")
    writes.request_push(store, "typed name is ignored", "2026-07-01T00:00:00+00:00", None)
    with sqlite3.connect(store) as con:
        assert con.execute("select decided_by from po_decisions").fetchall() == [("max@shop.test",)]
        assert con.execute("select set_by from shop_targets").fetchall() == [("max@shop.test",)]
        assert con.execute("select requested_by from stock_push_requests").fetchall() == [("max@shop.test",)]
    assert ops.current_decisions(store)["decided_by"].tolist() == ["max@shop.test"]


def test_open_dashboards_write_as_before(monkeypatch, tmp_path):
    store = tmp_path / "ops.sqlite"
    _as(monkeypatch, access.OPEN)
    writes.set_target(store, shop_id="s", month=date(2026, 7, 1), net_revenue_target="100")
    writes.request_push(store, "王经理", None, None)
    with sqlite3.connect(store) as con:
        assert con.execute("select set_by from shop_targets").fetchall() == [("manager",)]
        assert con.execute("select requested_by from stock_push_requests").fetchall() == [("王经理",)]
