"""`python -m sandbox serve --config shopkeep.toml`: generate (or reuse) the demo shop and serve every channel.

Reads the config with tomllib on its own (sandbox/ imports no product code): the `[demo]` section sizes the shop,
each enabled shop's `base_url` gives its port, and tokens come from the same environment variables the
connectors read. Prints `READY` once every server accepts connections; Ctrl-C / SIGTERM stops them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from sandbox import runner
from sandbox.world import World


def load_or_generate(data_dir: Path, seed: int, days: int, orders_per_day: int, end_date: date) -> World:
    from sandbox.shop.generate import generate
    from sandbox.shop.product_master import write_product_master_xlsx

    wanted = {"seed": seed, "days": days, "orders_per_day": orders_per_day, "end_date": end_date.isoformat()}
    world_dir = data_dir / "world"
    marker = world_dir / "generated_with.json"
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        print(f"reusing the demo shop in {world_dir}", flush=True)
        return World.load(world_dir)
    started = time.monotonic()
    world = generate(seed=seed, days=days, orders_per_day=orders_per_day, end_date=end_date)
    world.save(world_dir)
    write_product_master_xlsx(world, data_dir / "product_master.xlsx")
    marker.write_text(json.dumps(wanted))
    print(
        f"generated the demo shop in {time.monotonic() - started:.1f}s: {len(world.orders)} orders, "
        f"{len(world.order_lines)} lines, {len(world.products)} SKUs, {len(world.shops)} shops",
        flush=True,
    )
    return world


def serve(config_path: Path) -> None:
    import importlib

    from sandbox import shopify, wms
    from sandbox.shop.exports import write_history_exports

    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    base = config_path.parent
    demo = config.get("demo", {})
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    end = demo.get("end_date") or today.isoformat()
    data_dir = (base / demo.get("data_dir", ".shopkeep/demo")).resolve()
    world = load_or_generate(
        data_dir, int(demo.get("seed", 42)), int(demo.get("days", 540)), int(demo.get("orders_per_day", 150)),
        date.fromisoformat(end),
    )  # fmt: skip
    servers = []
    history = []
    for shop in config.get("shops", []):
        if not shop.get("enabled", True):
            continue
        url = urlparse(shop["base_url"])
        if shop["channel"] == "shopify":
            app = shopify.create_app(world, shop_id=shop["id"], token=os.environ[shop["token_env"]])
        else:
            module = importlib.import_module(f"sandbox.{shop['channel']}")
            history.append(int(shop.get("history_days", 90)))
            app = module.create_app(
                world, shop_id=shop["id"], app_key=os.environ[shop["app_key_env"]],
                app_secret=os.environ[shop["app_secret_env"]], access_token=os.environ[shop["token_env"]],
                history_days=int(shop.get("history_days", 90)),
            )  # fmt: skip
        servers.append(runner.start(app, f"{shop['channel']}:{shop['id']}", port=url.port, host=url.hostname))
    if "wms" in config:
        url = urlparse(config["wms"]["base_url"])
        app = wms.create_app(world, token=os.environ[config["wms"].get("token_env", "WMS_TOKEN")])
        servers.append(runner.start(app, "wms", port=url.port, host=url.hostname))
    suppliers = [s for s in config.get("suppliers", []) if s.get("channel", "webhook") == "webhook"]
    if suppliers:  # one server for every supplier (each at its own path), signing with the first one's secret
        from sandbox import supplier

        url = urlparse(suppliers[0]["webhook_url"])
        app = supplier.create_app(os.environ[suppliers[0]["secret_env"]])
        servers.append(runner.start(app, "suppliers", port=url.port, host=url.hostname))
    for entry in config.get("suppliers", []):
        if entry.get("channel") == "1688":  # its 1688 gateway, and the seller's map of its offers
            from sandbox import ali1688

            offers = ali1688.offers_for(world, entry["id"])
            ali1688.write_offer_map(offers, (base / entry["offers_file"]).resolve())
            url = urlparse(entry["gateway_url"])
            app = ali1688.create_app(entry["app_key"], os.environ[entry["secret_env"]],
                                     os.environ[entry["token_env"]], offers)  # fmt: skip
            servers.append(runner.start(app, f"1688:{entry['id']}", port=url.port, host=url.hostname))
    if history and config.get("files", {}).get("directory"):
        # what a seller exported before the platforms' online history ran out (a day of overlap: the API wins)
        before = today - timedelta(days=min(history) - 2)
        folder = (base / config["files"]["directory"]).resolve()
        # the marker lives beside the world, not in the folder the importer reads
        marker = data_dir / "exports_written_with.json"
        wanted = json.dumps({"world": (data_dir / "world" / "generated_with.json").read_text(), "before": str(before),
                             "folder": str(folder)})  # fmt: skip
        if marker.is_file() and marker.read_text() == wanted and any(folder.glob("*__orders.*")):
            print(f"reusing the platform export files with the history before {before}", flush=True)
        else:
            exports = write_history_exports(world, folder, before=before)
            marker.write_text(wanted)
            print(f"wrote {len(exports)} platform export files with the history before {before}", flush=True)
    for s in servers:
        print(f"{s.name} on {s.url}", flush=True)
    print("READY", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for s in servers:
            s.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="generate the demo shop and serve its channels on loopback")
    p.add_argument("--config", type=Path, default=Path(os.environ.get("SHOPKEEP_CONFIG", "shopkeep.toml")))
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.config.resolve())


if __name__ == "__main__":
    main()
