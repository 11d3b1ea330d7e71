{#- One row per day from `start_date` to `end_date` (both inclusive, SQL date expressions that may name columns of
    the query's FROM), as a set-returning expression: `select {{ date_series('a', 'b') }} as day from bounds`.
    DuckDB-specific; the portable spot for other engines. -#}
{% macro date_series(start_date, end_date) -%}
    cast(unnest(generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day)) as date)
{%- endmacro %}
