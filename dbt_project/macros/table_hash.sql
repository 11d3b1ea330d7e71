{#- One hash of a whole table's rows (in any order): how an incremental model tells that a small table it reads
    (the shops, the product master, rates, seeds) changed since the rows it keeps were built. -#}
{% macro table_hash(relation) -%}
    (select sum(hash(table_rows)) from {{ relation }} as table_rows)
{%- endmacro %}
