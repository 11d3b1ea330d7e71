"""Every SQL query the dashboards run, against the published `serve.duckdb` only, cached on its snapshot.

`serving` holds the read-only connection, the snapshot (version, publish time) and the shared SQL filter helpers;
then one module per mart domain, mirroring dbt_project/models/marts/<domain>: `core`, `customers`,
`data_quality`, `finance`, `inventory`, `operations`, `promotions`, `replenishment`, `returns`, `sales`; and one
module per page that reads several domains: `wall`, `sku_detail`. Pages import the module they need
(`from dashboards.queries import sales`); this package re-exports nothing.
"""
