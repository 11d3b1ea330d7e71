{#- An order with a parcel the courier charges for: shipped, or paid and waiting to ship
    (int_order_fulfilment_costs; a macro so that its incremental pre_hook filters the same orders). -#}
{% macro has_parcel() -%}
    (shipped_at is not null or (paid_at is not null and order_status = 'paid'))
{%- endmacro %}
