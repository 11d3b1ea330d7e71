"""Quality gates: writeback never acts on a build whose checks failed upstream of what it reads.

The publish step copies every dbt test's latest outcome into the snapshot's `meta.check_results` (publish.py).
Before stock is pushed or purchase orders are made and sent, the gate reads them from the snapshot the sender is
about to act on and refuses when a check of severity ERROR failed on a mart the sender reads or on anything
upstream of it (dbt's lineage, from the manifest: a broken staging model breaks every mart built on it). The
refusal names each check, its model and how many rows failed. A warning (severity WARN) does not block, nor does
a failed check elsewhere in the project; a snapshot published without check results (not through Dagster) has
nothing to judge by and is let through.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from connectors.common.warehouse import open_published

STOCK_SYNC_READS = (
    "marts/inventory_health_by_warehouse", "marts/channel_listings", "marts/open_order_units",
    "marts/kit_components",
)  # fmt: skip
"""The marts writeback/stock/sync.py plans from."""
PURCHASING_READS = ("marts/purchase_order_drafts",)
"""The mart purchase orders are made from (orchestration/purchasing.py)."""


class GateClosed(RuntimeError):
    """The published build failed a check upstream of what a sender reads: it does not act on it."""


@cache
def _lineage(manifest_path: str, mtime: float) -> dict[str, set[str]]:
    """Asset key (schema/name, as orchestration/transform.py keys dbt nodes) -> the keys of it and every node
    upstream of it."""
    manifest = json.loads(Path(manifest_path).read_text())
    nodes = {**manifest["nodes"], **manifest["sources"]}

    def key(unique_id: str) -> str | None:
        node = nodes.get(unique_id)
        if node is None or node["resource_type"] not in ("model", "seed", "snapshot", "source"):
            return None
        if node["resource_type"] == "source":
            return f"{node['source_name']}/{node['name']}"
        return f"{node['config'].get('schema') or 'seeds'}/{node['name']}"

    parents = manifest["parent_map"]
    upstream: dict[str, set[str]] = {}
    for unique_id in nodes:
        own = key(unique_id)
        if own is None:
            continue
        seen, todo = set(), [unique_id]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo += parents.get(current, [])
        upstream[own] = {k for k in map(key, seen) if k is not None}
    return upstream


def upstream_of(reads: Iterable[str], manifest_path: Path | None = None) -> set[str] | None:
    """The asset keys `reads` are built from, themselves included; None without a dbt manifest to tell."""
    from orchestration.transform import dbt_project

    path = Path(manifest_path or dbt_project.manifest_path)
    if not path.is_file():
        return None
    lineage = _lineage(str(path), path.stat().st_mtime)
    keys: set[str] = set()
    for read in reads:
        keys |= lineage.get(read, {read})
    return keys


def blocking_failures(
    serve_path: Path | str, reads: Iterable[str], manifest_path: Path | None = None
) -> list[str]:
    """The failed ERROR checks of the snapshot upstream of `reads`, as 'check (asset, n rows)'."""
    with open_published(serve_path) as con:
        has = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'check_results'"
        ).fetchone()[0]
        if not has:
            return []
        failed = con.execute(
            "select asset_key, check_name, failed_rows from meta.check_results "
            "where passed = false and coalesce(upper(severity), 'ERROR') = 'ERROR' order by asset_key, check_name"
        ).fetchall()
    if not failed:
        return []
    upstream = upstream_of(reads, manifest_path)  # no manifest: every failed check blocks (the safe side)
    return [
        f"{check} ({asset}{f', {rows} rows' if rows is not None else ''})"
        for asset, check, rows in failed
        if upstream is None or asset in upstream
    ]


def require_passing(
    serve_path: Path | str, reads: Iterable[str], what: str, manifest_path: Path | None = None
) -> None:
    """Raise GateClosed naming the failed checks when `what` (e.g. "stock push") must not act on the snapshot."""
    failures = blocking_failures(serve_path, reads, manifest_path)
    if failures:
        raise GateClosed(
            f"{what} refused: the published build failed {len(failures)} check(s) upstream of what it reads: "
            f"{'; '.join(failures[:5])}{' …' if len(failures) > 5 else ''}. Fix the data (the 数据状态 Data status "
            "page lists the failed rows' checks) and rebuild; nothing was sent"
        )
