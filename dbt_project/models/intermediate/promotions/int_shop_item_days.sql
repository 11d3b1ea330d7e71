{#- Paid sales per shop × sold item × local order date: the item is the SKU the buyer bought (the kit, for a kit
    line), units are master-SKU units (a kit line counts its components' units). Money in CNY from
    order_line_margins (net revenue, merchant discount, contribution margin — the spec's SKU-margin formula). -#}
with components as (
    select * from {{ ref('int_order_line_components') }}
    where paid_at is not null
),

line_margins as (
    select * from {{ ref('order_line_margins') }}
),

-- one row per order line of the sold item (a kit line's components together)
line_units as (
    select
        order_line_id,
        shop_id,
        coalesce(kit_sku, sku) as item,
        order_date,
        sum(units) as units
    from components
    group by 1, 2, 3, 4
),

lines as (
    select
        line_units.*,
        line_margins.net_revenue_cny,
        line_margins.merchant_discount_cny,
        line_margins.contribution_margin_cny
    from line_units
    left join line_margins on line_margins.order_line_id = line_units.order_line_id
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
        cast(coalesce(sum(net_revenue_cny), 0) as decimal(18, 2)) as net_revenue_cny,
        cast(coalesce(sum(merchant_discount_cny), 0) as decimal(18, 2)) as merchant_discount_cny,
        cast(coalesce(sum(contribution_margin_cny), 0) as decimal(18, 2)) as contribution_margin_cny
    from lines
    group by 2, 3, 4
)

select * from final
