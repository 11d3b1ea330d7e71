{#- The order review queue (metrics.md "Order exceptions"): one row per open order — paid, not yet shipped, not
    cancelled or refunded — that needs a look, with a flag per reason and all of them in `reasons`:
      address_incomplete  province, city or street address missing
      remark_attention    the buyer's or seller's remark contains a keyword of seeds/remark_keywords.csv
      high_value          paid (excluding shipping) above var exception_high_value_cny, in CNY
      possible_duplicate  another live order of the same buyer, address and items within
                          var exception_duplicate_window_minutes of this one
      ship_overdue        paid longer ago than the shop's promise (int_shop_terms_resolved: the shop's
                          own, else its channel's, else var ship_promise_hours_default) and still unshipped as of as_of_date
      oversold_sku        a (component) SKU of the order is `oversold` in inventory_health
      unmapped_sku        a line's merchant code matches no master SKU
    "As of" is the end of the as_of_date local day, or now when that is earlier (a replay of a past day sees
    that day's end; the clock is the build's, see macros/as_of_date.sql). -#}
{%- set as_of_moment = "least(" ~ clock() ~ ", "
    ~ local_day_start(as_of_date() ~ " + 1", "'" ~ var('reporting_timezone') ~ "'") ~ ")" -%}
with orders as (
    select * from {{ ref('int_orders_unified') }}
),

lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

components as (
    select * from {{ ref('int_order_line_components') }}
),

inventory_health as (
    select * from {{ ref('inventory_health') }}
),

remark_keywords as (
    select * from {{ ref('remark_keywords') }}
),

shop_terms as (
    select * from {{ ref('int_shop_terms_resolved') }}
),

open_orders as (
    select *
    from orders
    where order_status = 'paid'
        and paid_at is not null
        and shipped_at is null
        and cancelled_at is null
),

-- live orders (not cancelled or refunded) of the buyers with an open order: the only orders that can be an open
-- order's duplicate (a review of every order of the history needed the whole history's item lists in memory)
live_orders as (
    select
        orders.order_id,
        orders.shop_id,
        orders.buyer_key,
        orders.address_key,
        orders.created_at
    from orders
    where orders.order_status not in ('cancelled', 'refunded')
        and orders.buyer_key is not null
        and exists (
            select 1
            from open_orders
            where open_orders.shop_id = orders.shop_id
                and open_orders.buyer_key = orders.buyer_key
        )
),

order_lines as (
    select
        order_id,
        sum(paid_amount_cny) as paid_amount_cny,
        -- what was bought, comparable between orders: merchant code × quantity, sorted
        string_agg(coalesce(sku, outer_id, platform_sku_id) || '×' || cast(quantity as varchar), ',' order by
            coalesce(sku, outer_id, platform_sku_id), quantity) as items_signature,
        list(distinct coalesce(outer_id, platform_sku_id) order by coalesce(outer_id, platform_sku_id))
            filter (where not is_mapped) as unmapped_codes
    from lines
    where order_id in (select order_id from open_orders)
        or order_id in (select order_id from live_orders)
    group by 1
),

remark_hits as (
    select
        open_orders.order_id,
        list(distinct remark_keywords.keyword order by remark_keywords.keyword) as remark_keywords
    from open_orders
    inner join remark_keywords
        on contains(lower(coalesce(open_orders.buyer_remark, '')), lower(remark_keywords.keyword))
        or contains(lower(coalesce(open_orders.seller_remark, '')), lower(remark_keywords.keyword))
    group by 1
),

oversold as (
    select
        components.order_id,
        list(distinct components.sku order by components.sku) as oversold_skus
    from components
    inner join inventory_health on inventory_health.sku = components.sku
    where inventory_health.health_status = 'oversold'
    group by 1
),

-- the candidates with what they bought
live_purchases as (
    select
        live_orders.*,
        order_lines.items_signature
    from live_orders
    inner join order_lines on order_lines.order_id = live_orders.order_id
),

duplicates as (
    select
        this.order_id,
        list(other.order_id order by other.created_at, other.order_id) as duplicate_order_ids
    from live_purchases as this
    inner join live_purchases as other
        on other.shop_id = this.shop_id
        and other.buyer_key = this.buyer_key
        and other.address_key is not distinct from this.address_key
        and other.items_signature = this.items_signature
        and other.order_id <> this.order_id
        and abs(epoch(other.created_at) - epoch(this.created_at))
            <= {{ var('exception_duplicate_window_minutes') }} * 60
    group by 1
),

checked as (
    select
        open_orders.order_id,
        open_orders.shop_id,
        open_orders.channel,
        open_orders.platform_order_id,
        open_orders.buyer_key,
        open_orders.order_date,
        open_orders.created_at,
        open_orders.paid_at,
        open_orders.province,
        open_orders.city,
        open_orders.buyer_remark,
        open_orders.seller_remark,
        cast(coalesce(order_lines.paid_amount_cny, 0) as decimal(18, 2)) as paid_amount_cny,
        coalesce(shop_terms.ship_promise_hours, {{ var('ship_promise_hours_default') }}) as promise_hours,
        cast(
            (epoch({{ as_of_moment }}) - epoch(open_orders.paid_at)) / 3600.0 as decimal(18, 1)
        ) as hours_since_paid,
        coalesce(nullif(trim(open_orders.province), ''), null) is null
            or coalesce(nullif(trim(open_orders.city), ''), null) is null
            or not coalesce(open_orders.has_address_detail, false) as address_incomplete,
        remark_hits.order_id is not null as remark_attention,
        coalesce(order_lines.paid_amount_cny, 0) > {{ var('exception_high_value_cny') }} as high_value,
        duplicates.order_id is not null as possible_duplicate,
        open_orders.paid_at + to_hours(cast(coalesce(shop_terms.ship_promise_hours, {{ var('ship_promise_hours_default') }}) as bigint))
            < {{ as_of_moment }} as ship_overdue,
        oversold.order_id is not null as oversold_sku,
        coalesce(len(order_lines.unmapped_codes), 0) > 0 as unmapped_sku,
        remark_hits.remark_keywords,
        duplicates.duplicate_order_ids,
        oversold.oversold_skus,
        order_lines.unmapped_codes
    from open_orders
    left join order_lines on order_lines.order_id = open_orders.order_id
    left join shop_terms on shop_terms.shop_id = open_orders.shop_id
    left join remark_hits on remark_hits.order_id = open_orders.order_id
    left join duplicates on duplicates.order_id = open_orders.order_id
    left join oversold on oversold.order_id = open_orders.order_id
),

final as (
    select
        order_id,
        shop_id,
        channel,
        platform_order_id,
        -- a key that still reads like an e-mail (a guest checkout keyed by it) is hashed: no address leaves
        case when buyer_key like '%@%' then shop_id || ':h:' || left(md5(buyer_key), 16) else buyer_key end
            as buyer_key,
        order_date,
        created_at,
        paid_at,
        province,
        city,
        -- which part of the address is missing, never the address itself
        case when address_incomplete then list_filter([
            case when nullif(trim(province), '') is null then 'province' end,
            case when nullif(trim(city), '') is null then 'city' end,
            case when nullif(trim(province), '') is not null and nullif(trim(city), '') is not null then 'street' end
        ], lambda x: x is not null) end as address_missing,
        -- remarks with digit runs of 5 or more (phone numbers) masked
        regexp_replace(nullif(buyer_remark, ''), '[0-9]{5,}', '***', 'g') as buyer_remark,
        regexp_replace(nullif(seller_remark, ''), '[0-9]{5,}', '***', 'g') as seller_remark,
        paid_amount_cny,
        cast(promise_hours as integer) as promise_hours,
        hours_since_paid,
        list_filter([
            case when address_incomplete then 'address_incomplete' end,
            case when remark_attention then 'remark_attention' end,
            case when high_value then 'high_value' end,
            case when possible_duplicate then 'possible_duplicate' end,
            case when ship_overdue then 'ship_overdue' end,
            case when oversold_sku then 'oversold_sku' end,
            case when unmapped_sku then 'unmapped_sku' end
        ], lambda r: r is not null) as reasons,
        cast(
            address_incomplete::int + remark_attention::int + high_value::int + possible_duplicate::int
            + ship_overdue::int + oversold_sku::int + unmapped_sku::int
            as integer
        ) as reason_count,
        address_incomplete,
        remark_attention,
        high_value,
        possible_duplicate,
        ship_overdue,
        oversold_sku,
        unmapped_sku,
        coalesce(remark_keywords, []) as remark_keywords,
        coalesce(duplicate_order_ids, []) as duplicate_order_ids,
        coalesce(oversold_skus, []) as oversold_skus,
        coalesce(unmapped_codes, []) as unmapped_codes
    from checked
    where address_incomplete or remark_attention or high_value or possible_duplicate or ship_overdue
        or oversold_sku or unmapped_sku
)

select * from final
