{#- Whether an incremental model's existing table has `column` (false in a full build): a table an older shopkeep
    built lacks the bookkeeping columns of the incremental models (`order_version`, `lines_signature`), and is
    then rebuilt whole once. -#}
{% macro has_column(column) -%}
    {{- return(is_incremental() and column in adapter.get_columns_in_relation(this) | map(attribute='name') | list) -}}
{%- endmacro %}
