{#- Paid sales per shop × sold item × local order date: the item is the SKU the buyer bought (the kit, for a kit
    line), units are master-SKU units (a kit line counts its components' units). Money in CNY.
    contribution_margin_cny is provisional until the SKU-margin models land: net revenue − product-master unit
    cost × units kept (sold − refunded) − estimated platform fees (net revenue × the shop's commission + service +
    affiliate rates from seeds/shop_fee_rates.csv; `promo_estimated_fee_rate` for a shop without a row). -#}
with components as (
    select * from {{ ref('int_order_line_components') }}
    where paid_at is not null
),

lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

fee_rates as (
    select * from {{ ref('shop_fee_rates') }}
),

component_money as (
    select
        components.order_line_id,
        components.shop_id,
        coalesce(components.kit_sku, components.sku) as item,
        components.order_date,
        components.units,
        components.paid_amount_cny - components.refund_amount_cny as net_revenue_cny,
        products.unit_cost * (components.units - components.refunded_units) as cogs_cny,
        -- the merchant-funded discount of the line, split like its list value
        coalesce(
            lines.merchant_discount * lines.fx_rate * components.list_amount_cny / nullif(lines.list_amount_cny, 0),
            0
        ) as merchant_discount_cny,
        coalesce(
            fee_rates.commission_rate + fee_rates.service_fee_rate + fee_rates.affiliate_commission_rate,
            {{ var('promo_estimated_fee_rate') }}
        ) as fee_rate
    from components
    inner join lines on lines.order_line_id = components.order_line_id
    inner join products on products.sku = components.sku
    left join fee_rates on fee_rates.shop_id = components.shop_id
),

-- one row per order line of the sold item (a kit line's components together)
line_money as (
    select
        order_line_id,
        shop_id,
        item,
        order_date,
        sum(units) as units,
        sum(net_revenue_cny) as net_revenue_cny,
        sum(cogs_cny) as cogs_cny,
        sum(merchant_discount_cny) as merchant_discount_cny,
        sum(fee_rate * net_revenue_cny) as fees_cny
    from component_money
    group by 1, 2, 3, 4
),

final as (
    select
        {{ dbt.concat(["shop_id", "'|'", "item", "'|'", "cast(order_date as varchar)"]) }} as shop_item_day_id,
        shop_id,
        item,
        order_date,
        cast(count(*) as integer) as order_lines,
        cast(sum(units) as integer) as units,
        -- Σ (units per line)²: units come in clumps (a line of 3, a kit of 4), which widens their noise
        cast(sum(units * units) as integer) as units_squared,
        cast(sum(net_revenue_cny) as decimal(18, 2)) as net_revenue_cny,
        cast(sum(merchant_discount_cny) as decimal(18, 2)) as merchant_discount_cny,
        cast(
            sum(net_revenue_cny) - sum(cogs_cny) - sum(fees_cny)
            as decimal(18, 2)
        ) as contribution_margin_cny
    from line_money
    group by 2, 3, 4
)

select * from final
