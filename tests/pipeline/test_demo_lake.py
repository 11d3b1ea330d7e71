"""`shopkeep demo --lake`: the demo's settings on a lake of its own — a PostgreSQL catalog the demo starts and
removes, the Parquet files and the demo's other state (dlt cursors, ops store, Dagster home) under
.shopkeep/lake-demo — so the single-file demo's warehouse and cursors are left alone. (The whole lake build is
tests/pipeline/test_lake_build.py's; the demo itself was run by hand.)"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from connectors.common.warehouse import connect_warehouse
from orchestration.cli import _demo_lake
from orchestration.local_postgres import postgres_bin
from orchestration.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    postgres_bin() is None, reason="Debian's postgresql is not installed (`make test` installs it)"
)
def test_the_lake_demo_has_a_catalog_and_state_of_its_own(tmp_path: Path) -> None:
    config = tmp_path / "shopkeep.toml"
    config.write_text((REPO / "shopkeep.toml").read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(config)
    folder = settings.build_path.parent / "lake-demo"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "stale.parquet").write_bytes(b"from an earlier lake demo")

    with _demo_lake(settings) as lake_settings:
        lake = lake_settings.lake
        assert lake is not None and lake.data_path == f"{folder / 'data'}/"
        assert not (folder / "data" / "stale.parquet").exists()  # a new catalog: no files of an old one
        for path in (lake_settings.dlt_dir, lake_settings.ops_path, lake_settings.build_path):
            assert path.parent == folder
        assert (lake_settings.dlt_dir, lake_settings.ops_path) != (settings.dlt_dir, settings.ops_path)
        with connect_warehouse(None, lake) as con:  # the catalog is up and takes writes
            con.execute("create table demo_check as select 42 as answer")
            assert con.execute("select answer from demo_check").fetchone() == (42,)

    with pytest.raises(duckdb.Error):  # the demo's PostgreSQL is gone with it
        connect_warehouse(None, lake, read_only=True).close()


def test_without_postgresql_the_lake_demo_says_which_package_in_one_line(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    import orchestration.local_postgres
    from orchestration.cli import app

    config = tmp_path / "shopkeep.toml"
    config.write_text((REPO / "shopkeep.toml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(config))
    monkeypatch.setattr(orchestration.local_postgres, "postgres_bin", lambda: None)
    result = CliRunner().invoke(app, ["demo", "--lake", "--no-serve"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "apt-get install postgresql" in lines[0], result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / ".shopkeep" / "lake-demo").exists()  # nothing started, nothing made
