{#- Channel performance per shop × local day, plus a shop_id = 'all' row per day, in CNY, with the same day last
    week (7 days before) and last year (364 days before: the same weekday, like marts/core dates). Days without
    orders are 0, so every comparison finds its day. Built on daily_shop_sales (orders, buyers, GMV, sales,
    refunds) and order_line_margins (master-SKU units, merchant discounts, contribution margin).

        aov (客单价)     = net_sales / orders
        asp (件单价)     = net_sales / units (master-SKU units)
        discount_rate   = merchant discount / GMV
        refund_rate     = refunds / net_sales (by order date)
        margin_pct      = contribution_margin / net_revenue
-#}
with shop_sales as (
    select * from {{ ref('daily_shop_sales') }}
),

line_margins as (
    select * from {{ ref('order_line_margins') }}
),

shops as (
    select * from {{ ref('shops') }}
),

daily_margins as (
    select
        order_date,
        shop_id,
        sum(units) as units,
        sum(merchant_discount_cny) as merchant_discount_cny,
        sum(contribution_margin_cny) as contribution_margin_cny
    from line_margins
    group by 1, 2
),

bounds as (
    select
        min(order_date) as first_date,
        least(max(order_date), {{ as_of_date() }}) as last_date
    from shop_sales
),

days as (
    select cast(range as date) as order_date
    from bounds, range(bounds.first_date, bounds.last_date + interval 1 day, interval 1 day)
),

shop_days as (
    select
        days.order_date,
        shops.shop_id,
        coalesce(shop_sales.orders, 0) as orders,
        coalesce(daily_margins.units, 0) as units,
        coalesce(shop_sales.buyers, 0) as buyers,
        coalesce(shop_sales.gmv_cny, 0) as gmv_cny,
        coalesce(shop_sales.net_sales_cny, 0) as net_sales_cny,
        coalesce(shop_sales.refunds_cny, 0) as refunds_cny,
        coalesce(daily_margins.merchant_discount_cny, 0) as merchant_discount_cny,
        coalesce(daily_margins.contribution_margin_cny, 0) as contribution_margin_cny
    from days
    cross join shops
    left join shop_sales on days.order_date = shop_sales.order_date and shops.shop_id = shop_sales.shop_id
    left join daily_margins
        on days.order_date = daily_margins.order_date and shops.shop_id = daily_margins.shop_id
),

-- the seller's total: buyers are per-platform identities, so the total adds the shops' buyers up
with_total as (
    select * from shop_days
    union all
    select
        order_date,
        'all' as shop_id,
        sum(orders),
        sum(units),
        sum(buyers),
        sum(gmv_cny),
        sum(net_sales_cny),
        sum(refunds_cny),
        sum(merchant_discount_cny),
        sum(contribution_margin_cny)
    from shop_days
    group by 1
),

measures as (
    select
        order_date,
        shop_id,
        cast(gmv_cny as decimal(18, 2)) as gmv_cny,
        cast(net_sales_cny as decimal(18, 2)) as net_sales_cny,
        cast(refunds_cny as decimal(18, 2)) as refunds_cny,
        cast(net_sales_cny - refunds_cny as decimal(18, 2)) as net_revenue_cny,
        cast(orders as bigint) as orders,
        cast(units as bigint) as units,
        cast(buyers as bigint) as buyers,
        cast(net_sales_cny / nullif(orders, 0) as decimal(18, 2)) as aov_cny,
        cast(net_sales_cny / nullif(units, 0) as decimal(18, 2)) as asp_cny,
        cast(merchant_discount_cny / nullif(gmv_cny, 0) as double) as discount_rate,
        cast(refunds_cny / nullif(net_sales_cny, 0) as double) as refund_rate,
        cast(contribution_margin_cny as decimal(18, 2)) as contribution_margin_cny,
        cast(contribution_margin_cny / nullif(net_sales_cny - refunds_cny, 0) as double) as margin_pct
    from with_total
),

final as (
    select
        measures.order_date,
        measures.shop_id,
        measures.shop_id = 'all' as is_total,
        measures.gmv_cny,
        measures.net_sales_cny,
        measures.refunds_cny,
        measures.net_revenue_cny,
        measures.orders,
        measures.units,
        measures.buyers,
        measures.aov_cny,
        measures.asp_cny,
        measures.discount_rate,
        measures.refund_rate,
        measures.contribution_margin_cny,
        measures.margin_pct,
        {%- for period, alias in [('last_week', 'last_week'), ('last_year', 'last_year')] %}
        {%- for measure in ['gmv_cny', 'net_revenue_cny', 'orders', 'units', 'buyers', 'aov_cny', 'asp_cny',
                            'contribution_margin_cny'] %}
        {{ alias }}.{{ measure }} as {{ measure }}_{{ period }}{{ ',' if not (loop.last and period == 'last_year') }}
        {%- endfor %}
        {%- endfor %}
    from measures
    left join measures as last_week
        on last_week.shop_id = measures.shop_id
        and last_week.order_date = cast({{ dbt.dateadd('day', -7, 'measures.order_date') }} as date)
    left join measures as last_year
        on last_year.shop_id = measures.shop_id
        and last_year.order_date = cast({{ dbt.dateadd('day', -364, 'measures.order_date') }} as date)
)

select * from final
