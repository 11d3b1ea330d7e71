{#- P(X ≥ x) for X ~ Binomial(n, p), 0 < p < 1, summed exactly term by term in log space (lgamma), so it holds
    for the small counts where a normal approximation overstates significance. A correlated subquery over
    DuckDB's range(): call it only on the few rows that need it (n is a count of events, not of units). -#}
{% macro binomial_upper_tail(x, n, p) -%}
    (select coalesce(sum(exp(
        lgamma(({{ n }}) + 1) - lgamma(j + 1) - lgamma(({{ n }}) - j + 1)
        + j * ln({{ p }}) + (({{ n }}) - j) * ln(1 - ({{ p }}))
    )), 0) from range(cast({{ x }} as bigint), cast({{ n }} as bigint) + 1) as binomial_terms(j))
{%- endmacro %}
