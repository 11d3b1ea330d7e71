"""Plotly figure builders: pure functions DataFrame -> go.Figure (no Streamlit), unit-testable.

Labels come in as arguments (already translated by the page); each shop keeps the same colour in every figure
(`common.shop_colors`). One module per area of the dashboards: `sales` (sales, margin, promotions), `stock`
(inventory health, demand forecasts), `aftersales` (returns, reconciliation), `customers` (customers, order
exceptions), plus `common` (palette, font, base layout). Pages import the builders they draw
(`from dashboards.figures.sales import shop_split`); this package re-exports nothing.
"""
