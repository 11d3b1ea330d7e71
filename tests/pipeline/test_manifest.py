"""The dbt manifest Dagster loads is parsed again only after an analyst's edit, never because dbt wrote its own
files into the project (`.user.yml`): a stale check that fired on those made every process re-parse into the one
shared manifest, and a run read it half-written."""

from __future__ import annotations

import os
import shutil
import types

import pytest

from orchestration import transform


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "dbt_project"
    shutil.copytree(
        transform.DBT_PROJECT_DIR, root, ignore=shutil.ignore_patterns("target", "logs", ".user.yml")
    )
    manifest = root / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    (manifest.parent / transform.PARTIAL_PARSE_FILE).write_bytes(b"dbt's partial-parse state")
    monkeypatch.setattr(transform, "DBT_PROJECT_DIR", root)
    monkeypatch.setattr(transform, "dbt_project", types.SimpleNamespace(manifest_path=manifest))
    return root


def _newer(path, than):
    stamp = than.stat().st_mtime + 5
    os.utime(path, (stamp, stamp))


def test_a_fresh_manifest_is_not_stale(project):
    assert not transform._manifest_is_stale()


def test_files_dbt_writes_itself_do_not_make_it_stale(project):
    manifest = project / "target" / "manifest.json"
    for name in (".user.yml", "logs/dbt.log"):
        path = project / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("id: x\n")
        _newer(path, manifest)
    assert not transform._manifest_is_stale()


def test_a_manifest_without_dbts_partial_parse_state_beside_it_is_parsed_again(project):
    (project / "target" / transform.PARTIAL_PARSE_FILE).unlink()
    assert transform._manifest_is_stale()


@pytest.mark.parametrize(
    "edited",
    [
        "dbt_project.yml",
        "models/marts/sales/daily_shop_sales.sql",
        "seeds/fx_rates.csv",
        "models/staging/FIELDS.md",
    ],
)
def test_an_analysts_edit_makes_it_stale(project, edited):
    _newer(project / edited, project / "target" / "manifest.json")
    assert transform._manifest_is_stale()
