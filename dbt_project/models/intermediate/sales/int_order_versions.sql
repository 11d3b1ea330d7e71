{#- Every order's input version: one hash of everything the build reads about the order — its rows in every
    channel's staging orders, order lines and refunds, from the APIs and the exports (as the staging models give
    them: a shop's timezone or a status mapping that changes is a change). The incremental order chain
    (macros/incremental_by_order.sql) rebuilds an order's rows only when its version, or a dimension table the
    model reads, is not the one it was built from. -#}
with hashes as (
    {% for entity in ['orders', 'order_lines'] %}
    select order_id, hash(stacked) as row_hash
    from (
        {{ union_channels(entity) }}
        union all
        {{ union_files(entity) }}
    ) as stacked
    union all
    {% endfor %}
    select order_id, hash(refunds) as row_hash
    from {{ ref('int_refunds_stacked') }} as refunds
),

final as (
    select
        order_id,
        hash(count(*), sum(row_hash)) as order_version
    from hashes
    where order_id is not null  -- a refund naming no order is set aside, not built
    group by 1
)

select * from final
