{#- What each kit (组合装) holds: one row per kit × component, from the product master. Stock sync lists a kit as
    the minimum over its components of component stock ÷ quantity. -#}
with components as (
    select * from {{ ref('stg_product_master__kit_components') }}
),

final as (
    select
        kit_component_id,
        kit_sku,
        component_sku,
        cast(quantity as integer) as quantity
    from components
)

select * from final
