{#- Contribution margin per master SKU × shop × order month, in CNY: order_line_margins split into master-SKU
    units. A kit line's money (sales, refunds, fees, courier) goes to its components in proportion to their
    list value; each component keeps its own COGS and return cost. Unmapped channel SKUs keep a row of their
    own as `unmapped:<merchant code>` so the shop's totals stay whole. -#}
{#- Incremental by month (macros/incremental_by_signature.sql): an hourly run rebuilds the months whose lines,
    components or products changed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='month',
    on_schema_change='append_new_columns',
    pre_hook="""
        create or replace temp table {{ this.identifier }}__signatures as
        select
            line_margins.order_month as month,
            hash(
                count(*), sum(hash(line_margins, component_costs)),
                {{ table_hash(ref('stg_product_master__products')) }}
            ) as signature
        from {{ ref('int_order_line_component_costs') }} as component_costs
        inner join {{ ref('order_line_margins') }} as line_margins
            on component_costs.order_line_id = line_margins.order_line_id
        group by 1
    """,
    post_hook="{{ save_signatures('month') }}",
) }}

{%- set changed_months = changed_keys('month') %}

with line_margins as (
    select * from {{ ref('order_line_margins') }}
    {% if changed_months %}
    where order_month in ({{ changed_months }})
    {% endif %}
),

component_costs as (
    select * from {{ ref('int_order_line_component_costs') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

parts as (
    select
        component_costs.order_line_component_id,
        component_costs.sku as component_sku,
        component_costs.report_sku,
        component_costs.units,
        component_costs.units_refunded,
        component_costs.units_returned,
        component_costs.cogs_cny,
        component_costs.return_cost_cny,
        line_margins.order_line_id,
        line_margins.order_id,
        line_margins.shop_id,
        line_margins.order_month,
        line_margins.product_name as line_product_name,
        line_margins.list_amount_cny,
        line_margins.merchant_discount_cny,
        line_margins.net_sales_cny,
        line_margins.refunds_cny,
        line_margins.platform_fees_cny,
        line_margins.fees_estimated,
        line_margins.costs_estimated,
        line_margins.fulfilment_cost_cny,
        case
            when sum(component_costs.value_weight) over (partition by line_margins.order_line_id) > 0
                then component_costs.value_weight
            else component_costs.units
        end as weight
    from component_costs
    inner join line_margins on component_costs.order_line_id = line_margins.order_line_id
),

shares as (
    select
        *,
        sum(weight) over (
            partition by order_line_id order by order_line_component_id
            rows between unbounded preceding and current row
        ) as cumulative_weight,
        sum(weight) over (partition by order_line_id) as total_weight
    from parts
),

split as (
    select
        order_month,
        shop_id,
        order_id,
        report_sku as sku,
        component_sku,
        line_product_name,
        units,
        units_refunded,
        units_returned,
        fees_estimated,
        costs_estimated,
        cogs_cny,
        return_cost_cny,
        {%- for amount in ['list_amount_cny', 'merchant_discount_cny', 'net_sales_cny', 'refunds_cny',
                           'platform_fees_cny', 'fulfilment_cost_cny'] %}
        {{ allocate(amount, 'weight', 'cumulative_weight', 'total_weight') }} as {{ amount }}{{ ',' if not loop.last }}
        {%- endfor %}
    from shares
),

monthly as (
    select
        split.order_month as month,
        split.shop_id,
        split.sku,
        max(coalesce(products.product_name, split.line_product_name)) as product_name,
        max(coalesce(products.category, 'unmapped')) as category,
        cast(count(distinct split.order_id) as bigint) as orders,
        cast(sum(split.units) as bigint) as units,
        cast(sum(split.units_refunded) as bigint) as units_refunded,
        cast(sum(split.units_returned) as bigint) as units_returned,
        cast(sum(split.list_amount_cny) as decimal(18, 2)) as gmv_cny,
        cast(sum(split.merchant_discount_cny) as decimal(18, 2)) as merchant_discount_cny,
        cast(sum(split.net_sales_cny) as decimal(18, 2)) as net_sales_cny,
        cast(sum(split.refunds_cny) as decimal(18, 2)) as refunds_cny,
        cast(sum(split.cogs_cny) as decimal(18, 2)) as cogs_cny,
        cast(sum(split.platform_fees_cny) as decimal(18, 2)) as platform_fees_cny,
        bool_or(split.fees_estimated) as fees_estimated,
        bool_or(split.costs_estimated) as costs_estimated,
        bool_and(split.component_sku is not null) as is_mapped,
        cast(sum(split.fulfilment_cost_cny) as decimal(18, 2)) as fulfilment_cost_cny,
        cast(sum(split.return_cost_cny) as decimal(18, 2)) as return_cost_cny
    from split
    left join products on split.component_sku = products.sku
    group by 1, 2, 3
),

final as (
    select
        month,
        shop_id,
        sku,
        product_name,
        category,
        orders,
        units,
        units_refunded,
        units_returned,
        gmv_cny,
        merchant_discount_cny,
        net_sales_cny,
        refunds_cny,
        cast(net_sales_cny - refunds_cny as decimal(18, 2)) as net_revenue_cny,
        cogs_cny,
        platform_fees_cny,
        fees_estimated,
        costs_estimated,
        is_mapped,
        fulfilment_cost_cny,
        return_cost_cny,
        cast(net_sales_cny - refunds_cny - cogs_cny - platform_fees_cny - fulfilment_cost_cny - return_cost_cny
            as decimal(18, 2)) as contribution_margin_cny,
        cast(
            (net_sales_cny - refunds_cny - cogs_cny - platform_fees_cny - fulfilment_cost_cny - return_cost_cny)
            / nullif(net_sales_cny - refunds_cny, 0) as double
        ) as margin_pct,
        cast(net_sales_cny / nullif(units, 0) as decimal(18, 2)) as asp_cny,
        cast(
            (net_sales_cny - refunds_cny - cogs_cny - platform_fees_cny - fulfilment_cost_cny - return_cost_cny)
            / nullif(units, 0) as decimal(18, 2)
        ) as unit_contribution_margin_cny,
        cast(merchant_discount_cny / nullif(gmv_cny, 0) as double) as discount_depth,
        cast(units_refunded / nullif(units, 0) as double) as refund_rate,
        cast(units_returned / nullif(units, 0) as double) as return_rate
    from monthly
)

select * from final
