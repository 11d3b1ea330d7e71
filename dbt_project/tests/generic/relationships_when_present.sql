{#
    dbt's `relationships`, for a parent from an optional source (the product master): every non-null value of the
    column is a `field` of `to` — when `to` has any row. A seller without a product master (an empty table) has
    nothing to check against, and a WMS's SKUs are not "unknown" for want of one; with a product master, a SKU it
    does not list fails as with `relationships`.
#}
{% test relationships_when_present(model, column_name, to, field) %}

with parent as (
    select {{ field }} as value from {{ to }} where {{ field }} is not null
)

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and exists (select 1 from parent)
    and {{ column_name }} not in (select value from parent)

{% endtest %}
