{#- When dlt loaded a row: its `_dlt_load_id` is the load's start as a unix timestamp (seconds, as text).
    For raw tables whose API gives no fetch time of its own. DuckDB-specific; the portable spot for other engines. -#}
{% macro dlt_load_time(load_id_column='_dlt_load_id') -%}
    to_timestamp(cast({{ load_id_column }} as double))
{%- endmacro %}
