{#- Order lines in master-SKU units: a kit (组合装) line becomes one row per component, with units = kit units ×
    component quantity and the line's money split by the components' share of the kit's list value; any other
    mapped line is one row for its own SKU. Demand, stock, COGS and returns all count these units.
    Lines whose SKU is not mapped are left out (they are listed in marts/data_quality/unmapped_skus).
    Incremental by order (`incremental_by_order`; a change to the product master rebuilds every order). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ keep_current_orders('int_order_line_components') }}",
) }}

with changed_orders as (
    {{ changed_orders('int_order_line_components') }}
),

lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    where is_mapped and {{ only_changed() }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

kit_components as (
    select * from {{ ref('stg_product_master__kit_components') }}
),

kit_shares as (
    select
        kit_components.kit_sku,
        kit_components.component_sku,
        kit_components.quantity as component_quantity,
        products.list_price * kit_components.quantity
            / sum(products.list_price * kit_components.quantity) over (partition by kit_components.kit_sku)
            as value_share
    from kit_components
    inner join products on kit_components.component_sku = products.sku
),

components as (
    select
        lines.*,
        lines.sku as kit_sku,
        kit_shares.component_sku as component_sku,
        kit_shares.component_quantity,
        kit_shares.value_share
    from lines
    inner join kit_shares on lines.sku = kit_shares.kit_sku
    union all
    select
        lines.*,
        cast(null as varchar) as kit_sku,
        lines.sku as component_sku,
        1 as component_quantity,
        1.0 as value_share
    from lines
    where lines.sku not in (select kit_sku from kit_shares)
),

final as (
    select
        {{ dbt.concat(["order_line_id", "'|'", "component_sku"]) }} as order_line_component_id,
        order_line_id,
        order_id,
        shop_id,
        channel,
        order_date,
        created_at,
        paid_at,
        cancelled_at,
        order_status,
        buyer_key,
        component_sku as sku,
        kit_sku,
        kit_sku is not null as is_from_kit,
        cast(quantity * component_quantity as integer) as units,
        cast(refunded_quantity * component_quantity as integer) as refunded_units,
        cast(list_amount_cny * value_share as decimal(18, 2)) as list_amount_cny,
        cast(paid_amount_cny * value_share as decimal(18, 2)) as paid_amount_cny,
        cast(refund_amount_cny * value_share as decimal(18, 2)) as refund_amount_cny,
        {{ order_version('int_order_line_components', 'order_version') }} as order_version
    from components
)

select * from final
