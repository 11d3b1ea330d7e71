"""The money hint every connector spreads into its columns (`connectors.common.loading.MONEY`) cannot be changed by
dlt: dlt writes into the hint dicts a resource is declared with, and a resource once declared with the shared dict
itself renamed every later money hint of the process (the nested tables' money then landed as DECIMAL(38,9))."""

from __future__ import annotations

from decimal import Decimal

import dlt
import duckdb
import pytest

from connectors.common.loading import MONEY, warehouse_pipeline


def test_declaring_a_resource_with_the_money_hint_leaves_it_as_it_was(tmp_path):
    with pytest.raises(TypeError):  # handed over as is, dlt's write into it fails at once, loudly

        @dlt.resource(name="orders", columns={"total": MONEY})
        def given_as_is():
            yield {"total": Decimal("1.00")}

    @dlt.resource(name="orders", columns={"total": {"name": "total", **MONEY}})
    def spread():
        yield {"id": 1, "total": Decimal("9.99"), "lines": [{"price": Decimal("1.50")}]}

    spread.apply_hints(nested_hints={("lines",): {"columns": {"price": {"name": "price", **MONEY}}}})
    warehouse_pipeline("money", "raw_money", tmp_path / "build.duckdb", tmp_path / "dlt").run(spread())
    assert dict(MONEY) == {"data_type": "decimal", "precision": 18, "scale": 2}
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        types = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_money' and data_type like 'DECIMAL%' order by 1"
        ).fetchall()
    assert types == [("orders", "total", "DECIMAL(18,2)"), ("orders__lines", "price", "DECIMAL(18,2)")]
