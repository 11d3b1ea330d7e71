{#- Purchase-order drafts: today's suggested quantities (replenishment_suggestions, suggested_qty > 0) grouped
    into one draft per supplier, each line valued at the supplier's price (the SKU's last purchase-order price,
    else the product-master unit cost). Writeback sends a draft once it is approved. -#}
with suggestions as (
    select * from {{ ref('replenishment_suggestions') }}
    where suggested_qty > 0
),

suppliers as (
    select * from {{ ref('stg_product_master__suppliers') }}
),

lines as (
    select
        'DRAFT-' || strftime(suggestions.as_of_date, '%Y%m%d') || '-' || suggestions.supplier_id as draft_id,
        suggestions.supplier_id,
        suppliers.supplier_name,
        coalesce(suppliers.currency, 'CNY') as currency,
        suggestions.as_of_date,
        suggestions.as_of_date + suggestions.lead_time_days as expected_date,
        suggestions.sku,
        suggestions.product_name,
        suggestions.suggested_qty as quantity,
        suggestions.moq,
        suggestions.pack_size,
        suggestions.unit_price_cny,
        suggestions.is_supplier_price,
        cast(suggestions.suggested_qty * suggestions.unit_price_cny as decimal(18, 2)) as line_value_cny,
        suggestions.stockout_date
    from suggestions
    left join suppliers on suggestions.supplier_id = suppliers.supplier_id
),

final as (
    select
        {{ dbt.concat(["draft_id", "'|'", "sku"]) }} as draft_line_id,
        draft_id,
        supplier_id,
        supplier_name,
        currency,
        as_of_date,
        expected_date,
        sku,
        product_name,
        cast(quantity as integer) as quantity,
        cast(moq as integer) as moq,
        cast(pack_size as integer) as pack_size,
        cast(unit_price_cny as decimal(18, 2)) as unit_price_cny,
        is_supplier_price,
        cast(line_value_cny as decimal(18, 2)) as line_value_cny,
        cast(count(*) over (partition by draft_id) as integer) as draft_lines,
        cast(sum(line_value_cny) over (partition by draft_id) as decimal(18, 2)) as draft_value_cny,
        stockout_date
    from lines
)

select * from final
