{#- P(X ≥ x) for X ~ Binomial(n, p), 0 < p < 1, summed exactly term by term in log space (lgamma), so it holds
    for the small counts where a normal approximation overstates significance. A correlated subquery over
    DuckDB's range(): call it only on the few rows that need it (n is a count of events, not of units). The logs
    take p and 1 - p no lower than 1e-300: DuckDB 1.5 raises on ln(0) (2.0 returns -inf) and may evaluate the
    subquery for rows a surrounding `case` leaves out (p = 0 or 1 there); for 0 < p < 1 nothing changes. -#}
{% macro binomial_upper_tail(x, n, p) -%}
    (select coalesce(sum(exp(
        lgamma(({{ n }}) + 1) - lgamma(j + 1) - lgamma(({{ n }}) - j + 1)
        + j * ln(greatest({{ p }}, 1e-300)) + (({{ n }}) - j) * ln(greatest(1 - ({{ p }}), 1e-300))
    )), 0) from range(cast({{ x }} as bigint), cast({{ n }} as bigint) + 1) as binomial_terms(j))
{%- endmacro %}
