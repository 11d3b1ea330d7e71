"""File importers: XLSX (later CSV) exports read through a YAML column mapping per export format
(`mappings/<format>.yaml`), with every row that can't be accepted kept in a quarantine table."""

from connectors.files.mapping import Mapping, MappingError, load_mapping
from connectors.files.product_master import (
    load_product_master,
    product_master_pipeline,
    product_master_source,
)
from connectors.files.workbook import FileImportError, ImportResult, read_workbook

__all__ = [
    "FileImportError",
    "ImportResult",
    "Mapping",
    "MappingError",
    "load_mapping",
    "load_product_master",
    "product_master_pipeline",
    "product_master_source",
    "read_workbook",
]
