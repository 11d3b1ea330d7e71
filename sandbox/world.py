"""The simulated shop's tables: the contract between the simulator and every sandbox server.

The simulator (`sandbox.shop.generate`) produces a `World`; each sandbox server (Shopify, WMS, and later the
marketplaces) serves its channel's slice of it in that channel's own protocol, and tests compare what lands in
the warehouse with these tables (the ground truth). Nothing in product code imports this module.

Conventions inside the world (the servers translate to each platform's conventions):
- timestamps are timezone-aware UTC `pandas.Timestamp`s; dates are `datetime.date`s (shop-local);
- money is `decimal.Decimal` with 2 places, in the shop's currency (`shops.currency`);
- ids are strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# table -> {column: description}. The simulator must produce exactly these columns (it may add more at the end).
SCHEMA: dict[str, dict[str, str]] = {
    "shops": {
        "shop_id": "configured id, e.g. shopify_global, tmall_flagship",
        "channel": "shopify | taobao | jd | pinduoduo | douyin",
        "name": "display name",
        "currency": "CNY, or USD for the cross-border Shopify store",
        "timezone": "IANA timezone for local dates (Asia/Shanghai)",
        "commission_rate": "platform commission as a fraction of paid amount (Decimal)",
        "service_fee_rate": "payment/service fee as a fraction of paid amount (Decimal)",
        "settlement_lag_days": "days between completion and settlement bill",
    },
    "suppliers": {
        "supplier_id": "SUP-01..",
        "name": "supplier name (Chinese)",
        "lead_time_days": "days from PO to receipt",
        "moq": "minimum order quantity per SKU line",
        "currency": "CNY",
        "webhook_url": "where POs are posted (sandbox)",
    },
    "warehouses": {
        "warehouse_id": "WH-SH, WH-GZ",
        "name": "warehouse name",
        "city": "city",
    },
    "products": {
        "sku": "master SKU = merchant code (商家编码), e.g. AP-0007-M",
        "name": "product name (Chinese)",
        "category": "apparel | home | snacks",
        "spu": "product family code (sizes of one garment share it)",
        "size": "S/M/L/XL for apparel, else null",
        "unit_cost": "standard unit cost CNY (Decimal)",
        "list_price": "list price CNY (Decimal)",
        "supplier_id": "FK suppliers",
        "pack_size": "units per carton (order in multiples)",
        "moq": "minimum order quantity",
        "lead_time_days": "null = supplier default; else SKU override",
        "shelf_life_days": "null unless perishable (snacks)",
        "weight_g": "shipping weight",
        "is_kit": "bool: a 组合装 made of other SKUs (no own stock)",
        "barcode": "EAN-13",
        "launched_on": "date first sold",
    },
    "kit_components": {
        "kit_sku": "FK products (is_kit)",
        "component_sku": "FK products (not a kit)",
        "quantity": "units of the component per kit",
    },
    "listings": {
        "shop_id": "FK shops",
        "sku": "FK products (master SKU)",
        "platform_product_id": "platform product/item id (Shopify product id, Taobao num_iid, ...)",
        "platform_sku_id": "platform SKU/variant id",
        "inventory_item_id": "Shopify inventory_item_id (null elsewhere)",
        "outer_id": "merchant code as entered on the platform (usually = sku; a few are wrong/unmapped)",
        "price": "listed price in shop currency (Decimal)",
        "title": "listing title",
    },
    "orders": {
        "shop_id": "FK shops",
        "order_id": "platform order id (string)",
        "order_number": "human order number (Shopify name '#1001', else = order_id)",
        "created_at": "UTC",
        "paid_at": "UTC or NaT (never paid = cancelled before payment)",
        "shipped_at": "UTC or NaT",
        "completed_at": "UTC or NaT (buyer confirmed / delivered)",
        "cancelled_at": "UTC or NaT",
        "updated_at": "UTC: last change (incl. refunds)",
        "status": "canonical: pending_payment|paid|shipped|completed|cancelled|refunded",
        "currency": "shop currency",
        "buyer_id": "platform buyer id (clear; connectors mask it)",
        "buyer_name": "clear PII (connectors must mask)",
        "buyer_phone": "clear PII",
        "buyer_email": "clear PII (Shopify)",
        "province": "province/state",
        "city": "city",
        "district": "district",
        "address_detail": "street address (clear PII)",
        "buyer_remark": "buyer message or ''",
        "seller_remark": "seller memo or ''",
        "list_amount": "sum of line list value (Decimal)",
        "merchant_discount": "merchant-funded discount (Decimal)",
        "platform_discount": "platform-funded discount (Decimal)",
        "shipping_fee": "shipping charged to buyer (Decimal)",
        "paid_amount": "list_amount - merchant_discount - platform_discount + shipping_fee (Decimal)",
        "promo_id": "promotion that applied, or null",
    },
    "order_lines": {
        "shop_id": "FK shops",
        "order_id": "FK orders",
        "line_id": "platform line id (Shopify line_item id, Taobao oid, ...)",
        "sku": "master SKU (truth; may be a kit)",
        "platform_product_id": "from listings",
        "platform_sku_id": "from listings",
        "outer_id": "merchant code as sent by the platform (from listings)",
        "title": "line title",
        "quantity": "units (int > 0)",
        "unit_list_price": "list price per unit (Decimal)",
        "merchant_discount": "merchant discount on the line (Decimal)",
        "platform_discount": "platform discount on the line (Decimal)",
        "paid_amount": "paid for the line excl. shipping (Decimal)",
    },
    "refunds": {
        "shop_id": "FK shops",
        "refund_id": "platform refund / after-sales id",
        "order_id": "FK orders",
        "line_id": "FK order_lines",
        "created_at": "UTC",
        "quantity": "units refunded",
        "amount": "refunded amount, shop currency (Decimal)",
        "reason": "canonical reason: size|quality|not_as_described|damaged|changed_mind|late|other",
        "reason_text": "platform-language reason text (Chinese or English)",
        "goods_returned": "bool",
        "restocked": "bool",
        "status": "success | closed | processing",
    },
    "bill_lines": {
        "shop_id": "FK shops",
        "bill_line_id": "platform bill line id (a duplicated line repeats an id)",
        "order_id": "order the line belongs to (an orphan names an order not in orders)",
        "type": "income|commission|service_fee|affiliate_commission|refund|subsidy",
        "amount": "signed amount in shop currency (income +, fees -, refund -, subsidy +) (Decimal)",
        "settled_date": "local date",
    },
    "stock_snapshots": {
        "snapshot_date": "local date (closing stock of the day)",
        "warehouse_id": "FK warehouses",
        "sku": "master SKU (never a kit)",
        "on_hand": "units on hand at day end (int >= 0)",
    },
    "stock_movements": {
        "movement_id": "WMS movement id",
        "moved_at": "UTC",
        "warehouse_id": "FK warehouses",
        "sku": "master SKU",
        "type": "receipt|shipment|adjustment|return",
        "quantity": "signed units (+ in, - out)",
        "reference": "PO number, order id, or ''",
    },
    "purchase_orders": {
        "po_number": "PO-YYYYMMDD-NNN",
        "supplier_id": "FK suppliers",
        "warehouse_id": "FK warehouses",
        "ordered_at": "UTC",
        "expected_date": "local date",
        "status": "open|received|cancelled",
    },
    "purchase_order_lines": {
        "po_number": "FK purchase_orders",
        "sku": "FK products",
        "quantity": "ordered units",
        "unit_cost": "CNY (Decimal)",
    },
    "receipts": {
        "receipt_id": "WMS receipt id",
        "po_number": "FK purchase_orders",
        "sku": "FK products",
        "received_at": "UTC",
        "quantity": "received units",
        "unit_cost": "CNY (Decimal)",
    },
    "promotions": {
        "promo_id": "PROMO-NNN",
        "shop_id": "FK shops",
        "name": "e.g. 618大促",
        "start_date": "local date",
        "end_date": "local date (inclusive)",
        "discount_pct": "merchant discount fraction (Decimal)",
        "spend": "ad/fee spend CNY (Decimal)",
        "skus": "comma-separated master SKUs",
    },
    "ad_spend": {
        "shop_id": "FK shops (marketplace shops only: ads come as the ad platforms' report exports)",
        "spend_date": "local date",
        "campaign_id": "the ad plan's id (计划ID)",
        "campaign_name": "the plan's name",
        "ad_product": "the ad product / scene (关键词推广, 京东快车, 全站推广, 直播带货, ...)",
        "currency": "shop currency",
        "spend": "the day's spend of the plan (Decimal)",
        "impressions": "int",
        "clicks": "int",
        "attributed_orders": "orders the ad platform attributes to the plan that day",
        "attributed_gmv": "their GMV, as the ad platform reports it (Decimal)",
    },
    "fx_rates": {
        "month": "first day of the month (date)",
        "currency": "USD",
        "rate_to_cny": "CNY per unit (Decimal); read from sandbox/shop/fx_rates.csv (= the warehouse's seed)",
    },
    # Ground truth for analytics tests.
    "truth_promo_uplift": {
        "promo_id": "FK promotions",
        "true_lift_pct": "the multiplicative uplift the simulator applied minus 1 (float)",
        "post_dip_pct": "demand reduction applied in the 14 days after (float)",
    },
    "truth_bill_errors": {
        "shop_id": "FK shops",
        "order_id": "order affected",
        "error": "missing_settlement|amount_mismatch|duplicate_bill|orphan_bill",
        "detail": "what was injected",
    },
    "truth_stockouts": {
        "sku": "master SKU",
        "warehouse_id": "FK warehouses",
        "start_date": "first local date with on_hand = 0 while demand > 0",
        "end_date": "last such date",
    },
    "truth_flags": {
        "kind": "size_return_hotspot | dead_stock | starved",
        "sku": "master SKU",
        "shop_id": "shop or null",
        "detail": "free text",
    },
}


@dataclass
class World:
    """Every table of one simulated shop, plus the parameters that made it."""

    params: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def save(self, directory: str | Path) -> Path:
        """Write each table as a pickle (keeps Decimals and dates exact) plus params.json."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            frame.to_pickle(directory / f"{name}.pkl")
        (directory / "params.json").write_text(json.dumps(self.params, indent=2, default=str))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> World:
        directory = Path(directory)
        params = json.loads((directory / "params.json").read_text())
        tables = {p.stem: pd.read_pickle(p) for p in sorted(directory.glob("*.pkl"))}
        return cls(params=params, tables=tables)

    def shop(self, shop_id: str, table: str) -> pd.DataFrame:
        """Rows of `table` belonging to one shop."""
        frame = self.tables[table]
        return frame[frame["shop_id"] == shop_id]
