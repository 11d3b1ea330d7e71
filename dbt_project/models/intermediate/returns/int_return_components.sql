{#- One row per refund / after-sales case × master SKU it returns (a kit's refund returns its components), with
    the order's shop and date so returns can be set against the units sold in the same order month. Cases that
    were closed (rejected or withdrawn) are kept with is_counted = false: the buyer kept the goods. A refund of an
    unmapped line (no product-master SKU) returns the line itself, as `unmapped:<code>` with is_mapped = false. -#}
with refunds as (
    select * from {{ ref('int_refunds_unified') }}
    where order_line_id is not null
),

lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

-- the units a refunded line returns: its master SKUs (a kit's components), or the unmapped line itself
components as (
    select
        order_line_id, order_id, shop_id, channel, sku, kit_sku, order_date, units, list_amount_cny,
        true as is_mapped
    from {{ ref('int_order_line_components') }}
    union all
    select
        order_line_id, order_id, shop_id, channel, report_sku as sku, cast(null as varchar) as kit_sku,
        order_date, quantity as units, list_amount_cny, false as is_mapped
    from lines
    where not is_mapped
),

final as (
    select
        {{ dbt.concat(["refunds.refund_id", "'|'", "components.sku"]) }} as return_component_id,
        refunds.refund_id,
        refunds.order_line_id,
        components.order_id,
        components.shop_id,
        components.channel,
        components.sku,
        components.kit_sku,
        components.is_mapped,
        components.order_date,
        cast({{ dbt.date_trunc('month', 'components.order_date') }} as date) as order_month,
        refunds.refunded_at,
        coalesce(refunds.reason_code, 'other') as reason_code,
        refunds.reason_text,
        refunds.refund_status,
        refunds.refund_status <> 'closed' as is_counted,
        refunds.goods_returned,
        refunds.is_restocked,
        cast(refunds.quantity * components.units / nullif(lines.quantity, 0) as integer) as units_returned,
        cast(
            case when refunds.refund_status = 'success' then
                refunds.refund_amount * lines.fx_rate * coalesce(
                    components.list_amount_cny / nullif(lines.list_amount_cny, 0), 1
                )
            else 0 end
            as decimal(18, 2)
        ) as refund_amount_cny
    from refunds
    inner join lines on lines.order_line_id = refunds.order_line_id
    inner join components on components.order_line_id = refunds.order_line_id
)

select * from final
