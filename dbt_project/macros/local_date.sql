{#- The shop-local calendar date of a UTC timestamp. DuckDB-specific; the portable spot for other engines. -#}
{% macro local_date(utc_ts, timezone_column) -%}
    cast(timezone({{ timezone_column }}, {{ utc_ts }}) as date)
{%- endmacro %}
