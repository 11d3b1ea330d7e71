{#- What the courier charges for each shipped order (estimated for a paid order still waiting to ship, whose
    parcel is already known): the parcel's weight (Σ units × product weight; a kit ships
    at its own weight, unmapped lines weigh nothing), its destination region (courier_regions; `*` when the
    province is not listed or the carrier has no price for its region) and the band of the shop's carrier
    (int_shop_terms_resolved.carrier) in courier_rates: the smallest max_weight_g at or above the weight, else the
    heaviest band.

    Incremental by order (`incremental_by_order`): a change to the product master, the shops' terms or the
    courier seeds rebuilds every order. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ keep_current_orders('int_order_fulfilment_costs') }}",
) }}

with changed_orders as (
    {{ changed_orders('int_order_fulfilment_costs') }}
),

orders as (
    select * from {{ ref('int_orders_unified') }}
    where {{ has_parcel() }} and {{ only_changed() }}
),

lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    where {{ only_changed() }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

shop_terms as (
    select * from {{ ref('int_shop_terms_resolved') }}
),

courier_regions as (
    select * from {{ ref('courier_regions') }}
),

courier_rates as (
    select * from {{ ref('courier_rates') }}
),

weights as (
    select
        lines.order_id,
        sum(lines.quantity * coalesce(products.weight_g, 0)) as weight_g
    from lines
    left join products on lines.sku = products.sku
    group by 1
),

priced_regions as (
    select distinct carrier, region from courier_rates
),

parcels as (
    select
        orders.order_id,
        orders.shop_id,
        orders.province,
        orders.shipped_at is not null as is_shipped,
        shop_terms.carrier,
        coalesce(priced_regions.region, '*') as region,
        cast(coalesce(weights.weight_g, 0) as integer) as weight_g,
        orders.order_version
    from orders
    left join weights on orders.order_id = weights.order_id
    left join shop_terms on orders.shop_id = shop_terms.shop_id
    left join courier_regions on orders.province = courier_regions.province
    left join priced_regions
        on shop_terms.carrier = priced_regions.carrier
        and courier_regions.region = priced_regions.region
),

-- the band: the lightest one that holds the parcel, else the heaviest
banded as (
    select
        parcels.order_id,
        courier_rates.max_weight_g,
        courier_rates.cost_cny
    from parcels
    inner join courier_rates
        on parcels.carrier = courier_rates.carrier
        and parcels.region = courier_rates.region
    qualify row_number() over (
        partition by parcels.order_id
        order by
            case when courier_rates.max_weight_g >= parcels.weight_g then 0 else 1 end,
            case when courier_rates.max_weight_g >= parcels.weight_g then courier_rates.max_weight_g
                else -courier_rates.max_weight_g end
    ) = 1
),

final as (
    select
        parcels.order_id,
        parcels.shop_id,
        parcels.is_shipped,
        parcels.carrier,
        parcels.province,
        parcels.region,
        parcels.weight_g,
        banded.max_weight_g as band_max_weight_g,
        cast(banded.cost_cny as decimal(18, 2)) as fulfilment_cost_cny,
        {{ order_version('int_order_fulfilment_costs', 'parcels.order_version') }} as order_version
    from parcels
    left join banded on parcels.order_id = banded.order_id
)

select * from final
