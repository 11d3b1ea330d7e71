{#- Paid sales per shop × sold item × local order date: the item is the SKU the buyer bought (the kit, for a kit
    line), units are master-SKU units (a kit line counts its components' units). Money in CNY from
    order_line_margins (net revenue, merchant discount, contribution margin — the spec's SKU-margin formula). -#}
{#- Incremental by order date (macros/incremental_by_signature.sql): a date's signature is the versions of its paid
    order line components in the order chain (the order, its lines and refunds, products, kits, rates) and the
    three margin columns read from order_line_margins; an hourly run rebuilds the dates whose lines changed.
    A line's components and its margin row carry the same order_date (both are the order's, from
    int_order_lines_enriched), so a date's rebuild reads both by date. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_date',
    on_schema_change='sync_all_columns',
    pre_hook="""
        create or replace temp table {{ this.identifier }}__signatures as
        with components as (
            select
                order_date,
                count(*) as rows,
                sum(hash(order_line_component_id, order_version)) as versions
            from {{ ref('int_order_line_components') }}
            where paid_at is not null
            group by 1
        ),

        margins as (
            select
                order_date,
                count(*) as rows,
                sum(hash(order_line_id, net_revenue_cny, merchant_discount_cny, contribution_margin_cny)) as versions
            from {{ ref('order_line_margins') }}
            group by 1
        )

        select
            components.order_date,
            hash(components.rows, components.versions, margins.rows, margins.versions) as signature
        from components
        left join margins on components.order_date = margins.order_date
    """,
    post_hook="{{ save_signatures('order_date') }}",
) }}

with components as (
    select * from {{ ref('int_order_line_components') }}
    where paid_at is not null
        and {{ only_rebuilt('order_date') }}
),

line_margins as (
    select * from {{ ref('order_line_margins') }}
    where {{ only_rebuilt('order_date') }}
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
