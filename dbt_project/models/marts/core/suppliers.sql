{#- One row per supplier with the size of its range. -#}
with suppliers as (
    select * from {{ ref('stg_product_master__suppliers') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

ranges as (
    select
        supplier_id,
        count(*) as sku_count
    from products
    where not is_kit
    group by 1
),

final as (
    select
        suppliers.supplier_id,
        suppliers.supplier_name,
        cast(suppliers.lead_time_days as integer) as lead_time_days,
        cast(suppliers.moq as integer) as moq,
        suppliers.currency,
        cast(coalesce(ranges.sku_count, 0) as integer) as sku_count
    from suppliers
    left join ranges on suppliers.supplier_id = ranges.supplier_id
)

select * from final
