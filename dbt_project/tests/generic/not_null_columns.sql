{#- The model's required columns in one test: one scan and one Dagster asset check per model rather than one per
    column. Fails with a row per listed column that holds a null (column_name, null_rows). A column whose nulls
    should only warn keeps its own `not_null` test with `severity: warn`. -#}
{% test not_null_columns(model, column_names) %}
select column_name, null_rows
from (
    unpivot (
        select
        {%- for column in column_names %}
            count(*) filter (where {{ adapter.quote(column) }} is null) as {{ adapter.quote(column) }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
        from {{ model }}
    ) on columns(*) into name column_name value null_rows
)
where null_rows > 0
{% endtest %}
