{#- Every marketplace order, and every Shopify Payments store's order, checked against its settlement bill (docs: _finance__models.yml):

        expected_settlement = paid amount + platform subsidy − refunds − expected fees
        expected fees       = round(paid × commission_rate) + round(paid × service_fee_rate)
                              (+ round(paid × affiliate_commission_rate) when the bill has an affiliate line)
        settled_amount      = Σ the order's bill lines, signed (income − fees − refunds + subsidies)

    status, first match wins: orphan_bill (bill lines for an order not in the warehouse) · duplicate_bill (a
    bill line id booked twice, or two income lines) · matched (|settled − expected| ≤ reconciliation_tolerance)
    · amount_mismatch · missing_settlement (no bill, completed more than the shop's settlement lag before
    as_of_date) · pending (no bill, completed within the lag). Orders neither completed nor billed are not
    due yet and are left out. Shopify orders are checked against the store's Shopify Payments balance
    transactions (charge = income, its fee = service fee, refunds), for stores that have Shopify Payments
    (at least one balance transaction naming an order): a store paid through another provider has none, and
    its orders are not reconciled. Amounts are in the shop's currency, and in the reporting currency (`*_cny`) at the
    rate of the order date (int_fx_rates, as the sales marts convert), so shops in different currencies can be summed. -#}
{#- Incremental by order (macros/incremental_by_signature.sql): an order's signature is its version in the order
    chain (the order, its lines and refunds), its bill lines' (int_order_settlements), whether its shop has bills,
    the shops, terms, rates and settings, the tolerance and default lag, and, for an order with no bill, the
    as_of_date (which decides pending or missing_settlement). An hourly run rebuilds the orders whose signature
    changed, their rows deleted first (strategy replace_changed_keys: an order that no longer belongs here drops
    out); the post_hook moves every other row's as_of_date to the build's (a billed order's status does not depend
    on it). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='order_id',
    on_schema_change='append_new_columns',
    pre_hook="""
        create or replace temp table {{ this.identifier }}__signatures as
        select
            coalesce(orders.order_id, settlements.order_id) as order_id,
            hash(
                orders.order_version,
                orders.shop_id in (select shop_id from {{ ref('int_order_settlements') }}),
                settlements.bill_lines,
                settlements.lines_signature,
                case when settlements.order_id is null then {{ as_of_date() }} end,
                {{ table_hash(ref('stg_config__shops')) }},
                {{ table_hash(ref('int_shop_terms_resolved')) }},
                {{ table_hash(ref('int_fx_rates')) }},
                {{ table_hash(ref('stg_config__settings')) }},
                {{ table_hash(ref('int_refunds_set_aside')) }},
                {{ var('reconciliation_tolerance') }},
                {{ var('default_settlement_lag_days') }}
            ) as signature
        from {{ ref('int_orders_unified') }} as orders
        full join {{ ref('int_order_settlements') }} as settlements on orders.order_id = settlements.order_id
    """,
    post_hook=[
        "update {{ this }} set as_of_date = {{ as_of_date() }} where as_of_date != {{ as_of_date() }}",
        "{{ save_signatures('order_id') }}",
    ],
) }}

{%- set changed_orders = changed_keys('order_id') %}
{#- in an incremental run, the inputs are read for the rebuilt orders only -#}
{%- set rebuilt_filter = 'order_id in (select order_id from rebuilt)' if changed_orders else 'true' %}

with {% if changed_orders %}rebuilt as materialized ({{ changed_orders }}),{% endif %}

all_settlements as (
    select * from {{ ref('int_order_settlements') }}
),

settlements as (
    select * from all_settlements
    where {{ rebuilt_filter }}
),

shops_with_settlements as (
    select distinct shop_id from all_settlements
),

orders as (
    select * from {{ ref('int_orders_unified') }}
    where (
        channel in ('{{ api_channels("settlements") | join("', '") }}')
        or shop_id in (select shop_id from shops_with_settlements)
    )
        and {{ rebuilt_filter }}
),

refunds as (
    select
        order_id,
        sum(refund_amount) as refund_amount
    from {{ ref('int_refunds_unified') }}
    where refund_status = 'success'
        and {{ rebuilt_filter }}
    group by 1
),

shop_terms as (
    select * from {{ ref('int_shop_terms_resolved') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

due_orders as (
    select
        orders.order_id,
        orders.shop_id,
        orders.channel,
        orders.platform_order_id,
        orders.order_date,
        orders.order_status,
        orders.currency,
        {{ local_date('orders.completed_at', 'shops.timezone') }} as completed_date,
        coalesce(shop_terms.settlement_lag_days, {{ var('default_settlement_lag_days') }}) as settlement_lag_days,
        orders.paid_amount,
        orders.platform_discount as platform_subsidy,
        coalesce(refunds.refund_amount, 0) as refund_amount,
        round(orders.paid_amount * coalesce(shop_terms.commission_rate, 0), 2)
            + round(orders.paid_amount * coalesce(shop_terms.service_fee_rate, 0), 2)
            + case
                when settlements.has_affiliate_commission
                    then round(orders.paid_amount * coalesce(shop_terms.affiliate_commission_rate, 0), 2)
                else 0
            end as expected_fees,
        settlements.order_id is not null as is_billed,
        settlements.settled_amount,
        coalesce(settlements.bill_lines, 0) as bill_lines,
        coalesce(settlements.duplicated_bill_lines, 0) as duplicated_bill_lines,
        coalesce(settlements.income_bill_lines, 0) as income_bill_lines,
        settlements.first_settled_date,
        settlements.last_settled_date
    from orders
    inner join shops on orders.shop_id = shops.shop_id
    left join shop_terms on orders.shop_id = shop_terms.shop_id
    left join refunds on orders.order_id = refunds.order_id
    left join settlements on orders.order_id = settlements.order_id
    where orders.completed_at is not null or settlements.order_id is not null
),

orphans as (
    select
        settlements.order_id,
        settlements.shop_id,
        settlements.channel,
        cast(null as varchar) as platform_order_id,
        cast(null as date) as order_date,
        cast(null as varchar) as order_status,
        cast(null as varchar) as currency,
        cast(null as date) as completed_date,
        cast(null as integer) as settlement_lag_days,
        cast(null as decimal(18, 2)) as paid_amount,
        cast(null as decimal(18, 2)) as platform_subsidy,
        cast(null as decimal(18, 2)) as refund_amount,
        cast(null as decimal(18, 2)) as expected_fees,
        true as is_billed,
        settlements.settled_amount,
        settlements.bill_lines,
        settlements.duplicated_bill_lines,
        settlements.income_bill_lines,
        settlements.first_settled_date,
        settlements.last_settled_date
    from settlements
    left join orders on settlements.order_id = orders.order_id
    where orders.order_id is null
),

combined as (
    select *, false as is_orphan from due_orders
    union all
    select *, true as is_orphan from orphans
),

classified as (
    select
        *,
        cast(paid_amount + platform_subsidy - refund_amount - expected_fees as decimal(18, 2))
            as expected_settlement,
        case
            when is_orphan then 'orphan_bill'
            when is_billed and (duplicated_bill_lines > 0 or income_bill_lines > 1) then 'duplicate_bill'
            when is_billed
                and abs(settled_amount - (paid_amount + platform_subsidy - refund_amount - expected_fees))
                    <= {{ var('reconciliation_tolerance') }}
                then 'matched'
            when is_billed then 'amount_mismatch'
            when {{ dbt.datediff('completed_date', as_of_date(), 'day') }} > settlement_lag_days
                then 'missing_settlement'
            else 'pending'
        end as status
    from combined
),

dated as (
    select
        classified.*,
        cast({{ dbt.date_trunc('month', 'coalesce(order_date, first_settled_date)') }} as date) as month,
        coalesce(classified.currency, shops.currency) as shop_currency
    from classified
    left join shops on classified.shop_id = shops.shop_id
),

converted as (
    select
        dated.*,
        {{ fx_rate('dated.shop_currency') }} as fx_rate
    from dated
    {{ join_fx_rates('dated.shop_currency', 'coalesce(dated.order_date, dated.first_settled_date)') }}
),

final as (
    select
        order_id,
        shop_id,
        channel,
        platform_order_id,
        month,
        order_date,
        order_status,
        completed_date,
        cast(settlement_lag_days as integer) as settlement_lag_days,
        cast({{ dbt.dateadd('day', 'settlement_lag_days', 'completed_date') }} as date) as due_date,
        shop_currency as currency,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        cast(platform_subsidy as decimal(18, 2)) as platform_subsidy,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        cast(expected_fees as decimal(18, 2)) as expected_fees,
        expected_settlement,
        cast(settled_amount as decimal(18, 2)) as settled_amount,
        cast(settled_amount - expected_settlement as decimal(18, 2)) as difference,
        cast(bill_lines as integer) as bill_lines,
        cast(duplicated_bill_lines as integer) as duplicated_bill_lines,
        first_settled_date,
        last_settled_date,
        status,
        cast(fx_rate as decimal(18, 6)) as fx_rate,
        cast(expected_settlement * fx_rate as decimal(18, 2)) as expected_settlement_cny,
        cast(settled_amount * fx_rate as decimal(18, 2)) as settled_amount_cny,
        cast((settled_amount - expected_settlement) * fx_rate as decimal(18, 2)) as difference_cny,
        {{ as_of_date() }} as as_of_date
    from converted
)

select * from final
