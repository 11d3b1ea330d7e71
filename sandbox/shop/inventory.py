"""Stock in two warehouses day by day: sales reserve stock (or are lost), reorder-point purchase orders, receipts
after the supplier's lead time (some partial, some starved), restocked returns, stock-take adjustments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from sandbox.shop.calendar import Days
from sandbox.shop.catalog import Catalog
from sandbox.shop.money import to_decimal
from sandbox.shop.orders import HOUR, Candidates

WAREHOUSE_IDS = np.array(["WH-SH", "WH-GZ"], dtype=object)
WH_SHARE = np.array([0.68, 0.32])
SAFETY_DAYS = 7
COVER_DAYS = 30


@dataclass
class StockResult:
    accepted: np.ndarray  # per candidate line
    line_wh: np.ndarray  # warehouse index that ships the line
    movements: pd.DataFrame
    snapshots: pd.DataFrame
    purchase_orders: pd.DataFrame
    purchase_order_lines: pd.DataFrame
    receipts: pd.DataFrame
    stockouts: pd.DataFrame
    closing: np.ndarray = field(repr=False)  # (days x 2 x skus)


def component_rate(lam: np.ndarray, catalog: Catalog) -> np.ndarray:
    """(days x skus) expected units of each stocked SKU per day (kits exploded into components)."""
    mean_qty = np.where(catalog.category == "snacks", 1.52, 1.17)
    return lam.sum(axis=0) @ (catalog.components * mean_qty[:, None])


def window_mean(rate: np.ndarray, back: int = 28, ahead: int = 14) -> np.ndarray:
    cum = np.vstack([np.zeros((1, rate.shape[1])), np.cumsum(rate, axis=0)])
    n = rate.shape[0]
    lo = np.clip(np.arange(n) - back, 0, n)
    hi = np.clip(np.arange(n) + ahead + 1, 0, n)
    return (cum[hi] - cum[lo]) / (hi - lo)[:, None]


def simulate_stock(
    rng: np.random.Generator,
    days: Days,
    catalog: Catalog,
    cand: Candidates,
    line_pref_wh: np.ndarray,
    line_restock_ns: np.ndarray,
    rate: np.ndarray,
    starved: np.ndarray,
    dead_from: dict[int, int],
) -> StockResult:
    n_skus = len(catalog.products)
    n_lines = len(cand.l_order)
    sku_codes = catalog.products["sku"].to_numpy()
    stocked = ~catalog.is_kit
    midnight = days.utc_midnight_ns()
    end_ns = days.end_ns()
    forecast = window_mean(rate)
    lead = catalog.lead_time
    pack = catalog.products["pack_size"].to_numpy()
    moq = catalog.products["moq"].to_numpy()
    supplier = catalog.products["supplier_id"].to_numpy()
    unit_cost = catalog.cost_cents
    starve_from = days.n - min(100, int(days.n * 0.8))
    is_starved = np.zeros(n_skus, bool)
    is_starved[starved] = True
    launched = np.array([days.index(d) for d in catalog.launched_on])

    comps = [np.flatnonzero(catalog.components[s]) for s in range(n_skus)]
    comp_qty = [catalog.components[s][comps[s]] for s in range(n_skus)]

    # movements as parallel lists
    mv_at: list[np.ndarray] = []
    mv_wh: list[np.ndarray] = []
    mv_sku: list[np.ndarray] = []
    mv_type: list[str | np.ndarray] = []
    mv_qty: list[np.ndarray] = []
    mv_ref: list[np.ndarray] = []

    def record(at, wh, sku, typ, qty, ref) -> None:
        at = np.atleast_1d(np.asarray(at, dtype=np.int64))
        mv_at.append(at)
        mv_wh.append(np.broadcast_to(np.asarray(wh), at.shape).astype(np.int64))
        mv_sku.append(np.broadcast_to(np.asarray(sku), at.shape).astype(np.int64))
        mv_type.append(np.full(at.shape, typ, dtype=object))
        mv_qty.append(np.broadcast_to(np.asarray(qty), at.shape).astype(np.int64))
        mv_ref.append(np.broadcast_to(np.asarray(ref, dtype=object), at.shape))

    avail = np.zeros((2, n_skus), dtype=np.int64)
    on_order = np.zeros((2, n_skus), dtype=np.int64)
    opening = np.where(stocked & (launched <= 0),
                       np.ceil(forecast[0] * (lead + SAFETY_DAYS + 20))[None, :] * WH_SHARE[:, None], 0)
    opening = np.ceil(opening).astype(np.int64)
    forced_day = {}
    for s, d0 in dead_from.items():  # overstock bought just before the demand vanished
        day = d0 - int(lead[s]) - 2
        if day < 1:
            opening[:, s] += np.ceil(60 * forecast[0, s] * WH_SHARE + 40).astype(np.int64)
        else:
            forced_day.setdefault(day, []).append(s)
    avail += opening
    for w in range(2):
        nz = np.flatnonzero(opening[w])
        record(np.full(len(nz), midnight[0]), w, nz, "adjustment", opening[w, nz], "")

    # pending receipts: day -> list of (wh, sku, qty, po_number, unit_cost)
    pending: dict[int, list[tuple[int, int, int, str]]] = {}
    po_rows: list[dict] = []
    pol_rows: list[dict] = []
    rc_rows: list[dict] = []
    po_outstanding: dict[str, int] = {}
    accepted = np.zeros(n_lines, bool)
    line_wh = line_pref_wh.copy()
    line_start = np.searchsorted(cand.o_day[cand.l_order], np.arange(days.n + 1))
    paid_line = cand.o_paid[cand.l_order] >= 0
    restock_day = np.where(line_restock_ns >= 0, np.searchsorted(midnight, line_restock_ns, side="right") - 1, -1)
    restock_by_day: dict[int, list[int]] = {}
    rc_seq = 0

    for d in range(days.n):
        # 1. receipts
        for w, s, q, po in pending.pop(d, []):
            at = midnight[d] + int(rng.integers(9, 17)) * HOUR
            avail[w, s] += q
            on_order[w, s] -= q
            record(at, w, s, "receipt", q, po)
            rc_seq += 1
            rc_rows.append(dict(receipt_id=f"RC{rc_seq:07d}", po_number=po, sku=sku_codes[s], received_at=at,
                                quantity=q, unit_cost=int(unit_cost[s])))
            po_outstanding[po] -= q
        # 2. returns back to stock
        for li in restock_by_day.pop(d, []):
            s = cand.l_sku[li]
            for c, k in zip(comps[s], comp_qty[s], strict=True):
                q = int(k * cand.l_qty[li])
                avail[line_wh[li], c] += q
                record(line_restock_ns[li], line_wh[li], c, "return", q, _order_ref(li))
        # 3. today's orders
        a, b = line_start[d], line_start[d + 1]
        if b > a:
            idx = np.arange(a, b)
            need = np.zeros((2, n_skus), dtype=np.int64)
            pay = idx[paid_line[idx]]
            np.add.at(need, line_pref_wh[pay], catalog.components[cand.l_sku[pay]] * cand.l_qty[pay, None])
            short = need > avail
            if not short.any():
                accepted[pay] = True
                avail -= need
            else:
                dirty = short[line_pref_wh[pay]] & (catalog.components[cand.l_sku[pay]] > 0)
                dirty_line = dirty.any(axis=1)
                clean = pay[~dirty_line]
                if len(clean):
                    np.subtract.at(avail, line_pref_wh[clean],
                                   catalog.components[cand.l_sku[clean]] * cand.l_qty[clean, None])
                    accepted[clean] = True
                for li in pay[dirty_line]:
                    s = cand.l_sku[li]
                    cs, ks = comps[s], comp_qty[s] * cand.l_qty[li]
                    for w in (line_pref_wh[li], 1 - line_pref_wh[li]):
                        if (avail[w, cs] >= ks).all():
                            avail[w, cs] -= ks
                            accepted[li], line_wh[li] = True, w
                            break
            unpaid = idx[~paid_line[idx]]
            lacking = (catalog.components[cand.l_sku[unpaid]] > 0) & (avail.sum(axis=0) <= 0)[None, :]
            accepted[unpaid] = ~lacking.any(axis=1)
            for li in idx[accepted[idx] & (restock_day[idx] >= 0)]:
                restock_by_day.setdefault(int(restock_day[li]), []).append(int(li))
        # 4. monthly stock-take adjustments
        date_d = days.start + timedelta(days=d)
        if date_d.day == 1:
            ws = rng.integers(0, 2, 6)
            ss = rng.choice(np.flatnonzero(stocked), 6, replace=False)
            for w, s in zip(ws, ss, strict=True):
                q = int(rng.choice([-2, -1, 1])) if avail[w, s] >= 2 else 1
                avail[w, s] += q
                record(midnight[d] + 20 * HOUR, w, s, "adjustment", q, "")
        # 5. reorder point
        r = forecast[d][None, :] * WH_SHARE[:, None]
        rop = r * (lead + SAFETY_DAYS)[None, :]
        trigger = stocked[None, :] & (r > 0) & (avail + on_order < rop) & (launched - 30 <= d)[None, :]
        for s in forced_day.get(d, []):
            trigger[:, s] = True
        if trigger.any():
            want = np.maximum(moq[None, :], r * COVER_DAYS + rop - avail - on_order)
            for s in forced_day.get(d, []):
                want[:, s] = np.maximum(want[:, s], 60 * forecast[d, s] * WH_SHARE + 40)
            qty = (np.ceil(want / pack[None, :]) * pack[None, :]).astype(np.int64)
            ws, ss = np.nonzero(trigger)
            groups: dict[tuple[str, int], list[int]] = {}
            for w, s in zip(ws, ss, strict=True):
                groups.setdefault((supplier[s], int(w)), []).append(int(s))
            for n, ((sup, w), skus) in enumerate(sorted(groups.items())):
                po = f"PO-{date_d:%Y%m%d}-{n + 1:03d}"
                expected = d + int(max(lead[skus]))
                po_rows.append(dict(po_number=po, supplier_id=sup, warehouse_id=WAREHOUSE_IDS[w],
                                    ordered_at=midnight[d] + 10 * HOUR, expected=expected, status="open"))
                po_outstanding[po] = 0
                delay = int(rng.integers(-1, 4)) if rng.random() > 0.1 else int(rng.integers(5, 11))
                for s in skus:
                    q = int(qty[w, s])
                    pol_rows.append(dict(po_number=po, sku=sku_codes[s], quantity=q, unit_cost=int(unit_cost[s])))
                    on_order[w, s] += q
                    po_outstanding[po] += q
                    arrive = max(d + 1, expected + delay)
                    if is_starved[s] and arrive >= starve_from:
                        continue  # the supplier never delivers within the history
                    if rng.random() < 0.12:
                        first = int(q * rng.uniform(0.6, 0.9))
                        pending.setdefault(arrive, []).append((w, s, first, po))
                        rest = arrive + int(rng.integers(3, 9))
                        if not (is_starved[s] and rest >= starve_from):
                            pending.setdefault(rest, []).append((w, s, q - first, po))
                    else:
                        pending.setdefault(arrive, []).append((w, s, q, po))

    movements = _movements_frame(mv_at, mv_wh, mv_sku, mv_type, mv_qty, mv_ref, sku_codes, cand, accepted,
                                 line_wh, comps, comp_qty, end_ns)
    closing = _closing(days, movements, sku_codes)
    snapshots = _snapshots(days, closing, sku_codes, stocked)
    purchase_orders = pd.DataFrame(po_rows)
    if len(purchase_orders):
        purchase_orders["status"] = np.where(purchase_orders["po_number"].map(po_outstanding) <= 0, "received",
                                             "open")
        purchase_orders["ordered_at"] = pd.to_datetime(purchase_orders["ordered_at"], utc=True)
        purchase_orders["expected_date"] = [days.start + timedelta(days=int(e)) for e in purchase_orders["expected"]]
        purchase_orders = purchase_orders.drop(columns="expected")
    pol = pd.DataFrame(pol_rows)
    if len(pol):
        pol["unit_cost"] = to_decimal(pol["unit_cost"].to_numpy())
    receipts = pd.DataFrame(rc_rows)
    if len(receipts):
        receipts["received_at"] = pd.to_datetime(receipts["received_at"], utc=True)
        receipts["unit_cost"] = to_decimal(receipts["unit_cost"].to_numpy())
    stockouts = _stockouts(days, closing, rate, sku_codes, stocked)
    return StockResult(accepted=accepted, line_wh=line_wh, movements=movements, snapshots=snapshots,
                       purchase_orders=purchase_orders, purchase_order_lines=pol, receipts=receipts,
                       stockouts=stockouts, closing=closing)


def _order_ref(li: int) -> int:
    """Placeholder reference for a line (replaced by the order id once ids exist)."""
    return -(li + 1)


def _movements_frame(mv_at, mv_wh, mv_sku, mv_type, mv_qty, mv_ref, sku_codes, cand, accepted, line_wh, comps,
                     comp_qty, end_ns) -> pd.DataFrame:
    # shipments: every accepted paid line shipped by the end, exploded into components
    ship = np.flatnonzero(accepted & (cand.o_shipped[cand.l_order] >= 0) & (cand.o_shipped[cand.l_order] <= end_ns))
    lens = np.array([len(comps[cand.l_sku[li]]) for li in ship], dtype=np.int64)
    rep = np.repeat(ship, lens)
    comp = np.concatenate([comps[cand.l_sku[li]] for li in ship]) if len(ship) else np.zeros(0, np.int64)
    k = np.concatenate([comp_qty[cand.l_sku[li]] for li in ship]) if len(ship) else np.zeros(0, np.int64)
    frame = pd.DataFrame(
        {
            "moved_at": np.concatenate(mv_at + [cand.o_shipped[cand.l_order[rep]]]),
            "warehouse_id": WAREHOUSE_IDS[np.concatenate(mv_wh + [line_wh[rep]])],
            "sku": sku_codes[np.concatenate(mv_sku + [comp])],
            "type": np.concatenate(mv_type + [np.full(len(rep), "shipment", dtype=object)]),
            "quantity": np.concatenate(mv_qty + [-(k * cand.l_qty[rep])]).astype(int),
            "reference": np.concatenate(mv_ref + [np.array([-(li + 1) for li in rep], dtype=object)]),
        }
    )
    frame = frame.sort_values("moved_at", kind="stable").reset_index(drop=True)
    frame.insert(0, "movement_id", [f"MV{i + 1:08d}" for i in range(len(frame))])
    return frame


def _closing(days: Days, movements: pd.DataFrame, sku_codes: np.ndarray) -> np.ndarray:
    day = np.searchsorted(days.utc_midnight_ns(), movements["moved_at"].to_numpy(np.int64), side="right") - 1
    wh = (movements["warehouse_id"] == "WH-GZ").to_numpy().astype(int)
    s = pd.Index(sku_codes).get_indexer(movements["sku"])
    delta = np.zeros((days.n, 2, len(sku_codes)), dtype=np.int64)
    np.add.at(delta, (day, wh, s), movements["quantity"].to_numpy())
    return np.cumsum(delta, axis=0)


def _snapshots(days: Days, closing: np.ndarray, sku_codes: np.ndarray, stocked: np.ndarray) -> pd.DataFrame:
    cols = np.flatnonzero(stocked)
    block = closing[:, :, cols]  # days x wh x sku
    return pd.DataFrame(
        {
            "snapshot_date": np.repeat(np.array(days.dates(), dtype=object), 2 * len(cols)),
            "warehouse_id": np.tile(np.repeat(WAREHOUSE_IDS, len(cols)), days.n),
            "sku": np.tile(sku_codes[cols], 2 * days.n),
            "on_hand": block.ravel().astype(int),
        }
    )


def _stockouts(days: Days, closing: np.ndarray, rate: np.ndarray, sku_codes: np.ndarray,
               stocked: np.ndarray) -> pd.DataFrame:
    rows = []
    dates = days.dates()
    for w in range(2):
        out = (closing[:, w, :] == 0) & (rate > 0) & stocked[None, :]
        for s in np.flatnonzero(out.any(axis=0)):
            x = np.r_[False, out[:, s], False].astype(np.int8)
            starts = np.flatnonzero(np.diff(x) == 1)
            ends = np.flatnonzero(np.diff(x) == -1) - 1
            for a, b in zip(starts, ends, strict=True):
                rows.append(dict(sku=sku_codes[s], warehouse_id=WAREHOUSE_IDS[w], start_date=dates[a],
                                 end_date=dates[b]))
    return pd.DataFrame(rows, columns=["sku", "warehouse_id", "start_date", "end_date"])
