"""WMS (warehouse stock): a bearer-token REST client and the dlt source loading `raw_wms`."""

from connectors.wms.client import WmsAuthError, WmsClient, WmsError
from connectors.wms.source import load_wms, wms_pipeline, wms_source

__all__ = ["WmsAuthError", "WmsClient", "WmsError", "load_wms", "wms_pipeline", "wms_source"]
