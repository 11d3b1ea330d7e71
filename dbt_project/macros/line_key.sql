{#- The platform line id of a line on a platform that sends none (JD, Pinduoduo: a line names its order and SKU):
    `<order>-<sku>` for the SKU's first line in the order, `<order>-<sku>#<n>` for its n-th. One order may list a
    SKU twice (a gift line beside a paid one), and those are two lines; the API (by list position) and the
    back-office export (by row) number them alike, and a refund, which names only order and SKU, finds the
    SKU's first line. -#}
{% macro line_key(order_id, sku_id, occurrence) -%}
    {{ order_id }} || '-' || {{ sku_id }} || case when {{ occurrence }} > 1 then '#' || cast({{ occurrence }} as varchar) else '' end
{%- endmacro %}
