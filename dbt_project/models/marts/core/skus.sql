{#- One row per master SKU: what it is, who supplies it, and the effective replenishment terms (a SKU's own
    lead time / MOQ override the supplier's). Kits list how many components they hold. -#}
with products as (
    select * from {{ ref('stg_product_master__products') }}
),

suppliers as (
    select * from {{ ref('stg_product_master__suppliers') }}
),

kit_components as (
    select
        kit_sku,
        count(*) as component_count
    from {{ ref('stg_product_master__kit_components') }}
    group by 1
),

final as (
    select
        products.sku,
        products.product_name,
        products.category,
        products.spu,
        products.size,
        products.supplier_id,
        suppliers.supplier_name,
        products.unit_cost,
        products.list_price,
        cast(coalesce(products.pack_size, 1) as integer) as pack_size,
        cast(coalesce(products.moq, suppliers.moq, 1) as integer) as moq,
        cast(coalesce(products.lead_time_days, suppliers.lead_time_days) as integer) as lead_time_days,
        products.shelf_life_days,
        products.weight_g,
        products.is_kit,
        cast(coalesce(kit_components.component_count, 0) as integer) as kit_component_count,
        products.barcode,
        products.launched_on
    from products
    left join suppliers on products.supplier_id = suppliers.supplier_id
    left join kit_components on products.sku = kit_components.kit_sku
)

select * from final
