"""File importers: CSV (UTF-8 with or without BOM, GBK/GB18030, UTF-16) and XLSX exports read through a YAML
column mapping per export format (`mappings/<format>.yaml`), with every row that can't be accepted kept in a
quarantine table. The product master lands in `raw_product_master`; platform order/refund exports in
`raw_files` (file names `<shop_id>__<kind>.csv|xlsx` say the shop; empty rows are skipped silently)."""

from connectors.files.exports import detect_mapping, read_export
from connectors.files.mapping import Mapping, MappingError, load_mapping, load_mappings
from connectors.files.product_master import (
    load_product_master,
    product_master_pipeline,
    product_master_source,
)
from connectors.files.source import files_pipeline, files_source, import_files
from connectors.files.workbook import FileImportError, ImportResult, read_workbook

__all__ = [
    "FileImportError",
    "ImportResult",
    "Mapping",
    "MappingError",
    "detect_mapping",
    "files_pipeline",
    "files_source",
    "import_files",
    "load_mappings",
    "load_mapping",
    "load_product_master",
    "product_master_pipeline",
    "product_master_source",
    "read_export",
    "read_workbook",
]
