"""Run the project's dbt against a copy of a built warehouse, in a test's own target and log folders; and change
the raw tables of such a copy as a pull would."""

from __future__ import annotations

import subprocess
from pathlib import Path

from analytics.dbt_cli import run_dbt as _run_dbt


def run_dbt(
    build: Path, work: Path, *args: str, check: bool = True, **options
) -> subprocess.CompletedProcess:
    """`dbt <args>` on the DuckDB file `build`, writing target/ and logs/ under `work`; with `check`, a failing
    command fails the test with dbt's output. `options`: analytics.dbt_cli.run_dbt's (`project`)."""
    done = _run_dbt(build, work, *args, **options)
    if check:
        assert done.returncode == 0, done.stdout[-3000:]
    return done


def drop_taobao_order(con, order_id: str) -> None:
    """Delete a Taobao order (`shop_id:tid`) and its lines from the raw tables, as if the platform no longer served it."""
    con.execute(
        "delete from raw_taobao.orders__orders where _dlt_parent_id in "
        "(select _dlt_id from raw_taobao.orders where shop_id || ':' || cast(tid as varchar) = ?)",
        [order_id],
    )
    con.execute("delete from raw_taobao.orders where shop_id || ':' || cast(tid as varchar) = ?", [order_id])
