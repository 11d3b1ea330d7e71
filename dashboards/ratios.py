"""Pooled ratios. A page's ratio over a period or a selection (a date range, some shops, some months) is the sum of
its numerator over the sum of its denominator across the mart's rows, as `marts.period_ratios` declares it (in
dbt, beside the marts). Pages never write a ratio's formula: they read the declarations (`period_ratios`) and
pool with `pooled` (one value over a frame's rows), `with_pooled` (a column per ratio, row by row, for frames
whose rows are already totals) or, in a query's SQL, `ratio_sql`."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import streamlit as st

from dashboards.queries.serving import TTL_SECONDS, ServeFileInvalid, Version, _df

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Ratio:
    name: str
    mart: str
    numerator: str
    denominator: str
    kind: str  # "money" (cents, half up) or "rate" (a share, float)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def period_ratios(path: str, version: Version) -> dict[str, Ratio]:
    """marts.period_ratios of the snapshot, by ratio name."""
    frame = _df(path, "select ratio, mart, numerator, denominator, kind from marts.period_ratios")
    return {
        row.ratio: Ratio(row.ratio, row.mart, row.numerator, row.denominator, row.kind)
        for row in frame.itertuples()
    }


def _linear(expression: str, totals: Mapping[str, Decimal]) -> Decimal:
    """The value of `expression` (column names joined by + and -, as the declarations write them) over
    `totals`: a sum of columns' totals is the total of the sum."""

    def value(node: ast.AST) -> Decimal:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            left, right = value(node.left), value(node.right)
            return left + right if isinstance(node.op, ast.Add) else left - right
        if isinstance(node, ast.Name):
            return totals[node.id]
        raise ServeFileInvalid(f"period_ratios: {expression!r} is not a sum of columns")

    return value(ast.parse(expression, mode="eval").body)


def _columns(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}


def _total(series: pd.Series) -> Decimal:
    return sum((Decimal(str(v)) for v in series if v is not None and not pd.isna(v)), Decimal(0))


def _value(ratio: Ratio, numerator: Decimal, denominator: Decimal) -> Decimal | float | None:
    if not denominator:
        return None
    if ratio.kind == "money":
        return (numerator / denominator).quantize(CENT, rounding=ROUND_HALF_UP)
    return float(numerator / denominator)


def pooled(frame: pd.DataFrame, ratio: Ratio) -> Decimal | float | None:
    """`ratio` over all of `frame`'s rows: Σ numerator / Σ denominator (None when the denominator sums to 0)."""
    totals = {
        column: _total(frame[column]) for column in _columns(ratio.numerator) | _columns(ratio.denominator)
    }
    return _value(ratio, _linear(ratio.numerator, totals), _linear(ratio.denominator, totals))


def ratio_sql(ratio: Ratio, alias: str, summed: bool = False) -> str:
    """`ratio` as SQL over the rows of `alias`: Σ numerator / Σ denominator, each column summed (`summed`: the
    columns of `alias` are sums already, as in a grouped CTE); null when the denominator is 0."""

    def render(node: ast.AST) -> str:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            return f"{render(node.left)} {'+' if isinstance(node.op, ast.Add) else '-'} {render(node.right)}"
        if isinstance(node, ast.Name):
            return f"{alias}.{node.id}" if summed else f"sum({alias}.{node.id})"
        raise ServeFileInvalid(f"period_ratios: {ratio.name} is not a sum of columns")

    numerator = render(ast.parse(ratio.numerator, mode="eval").body)
    denominator = render(ast.parse(ratio.denominator, mode="eval").body)
    return f"({numerator}) / nullif({denominator}, 0)"


def with_pooled(frame: pd.DataFrame, ratios: list[Ratio]) -> pd.DataFrame:
    """`frame` with a column per ratio, each row's own numerator over its own denominator (its rows are sums
    already: one per window, per shop, …)."""
    out = frame.copy()
    for ratio in ratios:
        out[ratio.name] = [pooled(out.iloc[[i]], ratio) for i in range(len(out))]
    return out
