{#- Order lines mapped to master SKUs (by merchant code) and converted to the reporting currency (the `_cny`
    columns; CNY unless [currency] reporting says otherwise) with the rate of the order date (int_fx_rates).
    Incremental by order (`incremental_by_order`; a change to the product master, the rates or the reporting
    currency rebuilds every order). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ keep_current_orders('int_order_lines_enriched') }}",
) }}

with changed_orders as (
    {{ changed_orders('int_order_lines_enriched') }}
),

lines as (
    select * from {{ ref('int_order_lines_unified') }}
    where {{ only_changed() }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

joined as (
    select
        lines.*,
        products.sku,
        products.product_name,
        products.category,
        {{ fx_rate('lines.currency') }} as fx_rate
    from lines
    left join products on lines.outer_id = products.sku
    {{ join_fx_rates('lines.currency', 'lines.order_date') }}
),

final as (
    select
        order_line_id,
        order_id,
        shop_id,
        channel,
        platform_order_id,
        platform_line_id,
        created_at,
        paid_at,
        cancelled_at,
        order_date,
        order_status,
        buyer_key,
        currency,
        platform_sku_id,
        outer_id,
        sku,
        sku is not null as is_mapped,
        coalesce(sku, 'unmapped:' || coalesce(outer_id, platform_sku_id, 'unknown')) as report_sku,
        coalesce(product_name, title) as product_name,
        coalesce(category, 'unmapped') as category,
        quantity,
        unit_list_price,
        list_amount,
        merchant_discount,
        platform_discount,
        paid_amount,
        refunded_quantity,
        refund_amount,
        fx_rate,
        cast(list_amount * fx_rate as decimal(18, 2)) as list_amount_cny,
        cast(paid_amount * fx_rate as decimal(18, 2)) as paid_amount_cny,
        cast(refund_amount * fx_rate as decimal(18, 2)) as refund_amount_cny,
        {{ order_version('int_order_lines_enriched', 'order_version') }} as order_version
    from joined
)

select * from final
