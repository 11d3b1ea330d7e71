-- The floor of `python -m bench.scale`: the key marts computed by one hand-written DuckDB script straight from the
-- raw tables of a build.duckdb — no dbt, no Dagster, no views, no tests — as the fastest a seller could get them
-- on this engine. Written to schema `floor`; bench/scale_check.py compares them with the marts.
--
-- Variables (SET VARIABLE before running): fx_seed (path of dbt_project/seeds/fx_rates.csv), as_of (the marts'
-- as_of_date), overdue_grace_days (dbt var po_overdue_grace_days).
--
-- Covered (the spec's definitions, as the dbt models implement them):
--   floor.daily_sku_sales   order date × shop × master SKU: units, refunded units, GMV, net sales, refunds (CNY)
--   floor.daily_shop_sales  order date × shop: orders, units, buyers, GMV, net sales, refunds, net revenue (CNY)
--   floor.shop_month_sales  shop × order month: net sales, refunds (what sku_margins splits over SKUs)
--   floor.inventory         master SKU: on hand (latest WMS snapshot), on order (open WMS PO lines not overdue)
--   floor.demand_inputs     master SKU: units sold over the last 28 days (kits exploded), the replenishment
--                           inputs' raw demand
create schema if not exists floor;

-- every channel's orders in one shape ------------------------------------------------------------------------
create or replace temp table f_shops as select shop_id, channel, currency, timezone from raw_config.shops;

create or replace temp table f_api_orders as
select s.shop_id || ':' || cast(o.tid as varchar) as order_id, s.shop_id, s.channel, s.currency,
    cast(timezone(s.timezone, cast(o.created || '+08:00' as timestamptz)) as date) as order_date,
    cast(o.pay_time || '+08:00' as timestamptz) as paid_at,
    case o.status when 'WAIT_BUYER_PAY' then 'pending_payment' when 'WAIT_SELLER_SEND_GOODS' then 'paid'
        when 'SELLER_CONSIGNED_PART' then 'shipped' when 'WAIT_BUYER_CONFIRM_GOODS' then 'shipped'
        when 'TRADE_BUYER_SIGNED' then 'shipped' when 'TRADE_FINISHED' then 'completed'
        when 'TRADE_CLOSED' then 'refunded' when 'TRADE_CLOSED_BY_TAOBAO' then 'cancelled' end as order_status,
    s.shop_id || ':' || coalesce(o.buyer_open_uid, 'unknown') as buyer_key
from raw_taobao.orders o join f_shops s using (shop_id)
union all
select s.shop_id || ':' || o.order_id, s.shop_id, s.channel, 'CNY',
    cast(timezone(s.timezone, cast(o.order_start_time || '+08:00' as timestamptz)) as date),
    cast(o.payment_confirm_time || '+08:00' as timestamptz),
    case when o.order_state = 'TRADE_CANCELED' and o.payment_confirm_time is not null then 'refunded'
        when o.order_state = 'TRADE_CANCELED' then 'cancelled' when o.order_state = 'FINISHED_L' then 'completed'
        when o.order_state = 'WAIT_GOODS_RECEIVE_CONFIRM' then 'shipped'
        when o.order_state in ('WAIT_SELLER_STOCK_OUT', 'WAIT_SELLER_DELIVERY', 'WAIT_SEND_CODE', 'LOCKED', 'PAUSE',
            'POP_ORDER_PAUSE') then 'paid'
        when o.order_state in ('WAIT_PAY', 'NOT_PAY') then 'pending_payment' end,
    s.shop_id || ':' || coalesce(o.pin, 'guest')
from raw_jd.orders o join f_shops s using (shop_id)
union all
select s.shop_id || ':' || o.order_sn, s.shop_id, s.channel, 'CNY',
    cast(timezone(s.timezone, cast(nullif(o.created_time, '') || '+08:00' as timestamptz)) as date),
    cast(nullif(o.confirm_time, '') || '+08:00' as timestamptz),
    case when o.refund_status = 4 then 'refunded' when o.order_status = 4 then 'cancelled'
        when o.order_status = 0 then 'pending_payment' when o.order_status = 3 then 'completed'
        when o.order_status = 2 then 'shipped' when o.order_status = 1 then 'paid' end,
    s.shop_id || ':' || coalesce(o.buyer_id, 'unknown')
from raw_pinduoduo.orders o join f_shops s using (shop_id)
union all
select s.shop_id || ':' || o.order_id, s.shop_id, s.channel, s.currency,
    cast(timezone(s.timezone, to_timestamp(o.create_time)) as date),
    case when o.pay_time > 0 then to_timestamp(o.pay_time) end,
    case when o.order_status = 4 and coalesce(o.pay_time, 0) > 0 then 'refunded'
        when o.order_status = 4 then 'cancelled' when o.order_status in (21, 22, 39) then 'refunded'
        when o.order_status = 5 then 'completed' when o.order_status in (3, 101) then 'shipped'
        when o.order_status in (2, 105) then 'paid' when o.order_status in (1, 103) then 'pending_payment' end,
    s.shop_id || ':' || coalesce(o.doudian_open_id, 'unknown')
from raw_douyin.orders o join f_shops s using (shop_id)
union all
select s.shop_id || ':' || cast(o.id as varchar), s.shop_id, s.channel, o.currency,
    cast(timezone(s.timezone, cast(o.created_at as timestamptz)) as date),
    case when o.financial_status in ('paid', 'partially_paid', 'partially_refunded', 'refunded')
        then coalesce(cast(o.processed_at as timestamptz), cast(o.created_at as timestamptz)) end,
    case when o.financial_status = 'refunded' then 'refunded' when o.cancelled_at is not null then 'cancelled'
        when o.financial_status in ('pending', 'authorized', 'voided', 'expired') then 'pending_payment'
        when coalesce(o.financial_status, '') not in ('paid', 'partially_paid', 'partially_refunded') then null
        else 'paid' end,  -- paid / shipped / completed: all counted alike here
    s.shop_id || ':' || coalesce(cast(o.customer__id as varchar), o.email, 'guest')
from raw_shopify.orders o join f_shops s using (shop_id);

create or replace temp table f_file_orders as
select s.shop_id || ':' || o.order_id as order_id, s.shop_id, s.channel,
    upper(coalesce(min(o.currency), s.currency)) as currency,
    cast(timezone(s.timezone, cast(min(o.created_at) as timestamptz)) as date) as order_date,
    case when min(o.order_status) not in ('closed', 'cancelled') then cast(min(o.paid_at) as timestamptz)
        when min(o.order_status) = 'closed' and min(o.paid_at) is not null then cast(min(o.paid_at) as timestamptz)
    end as paid_at,
    case when min(o.order_status) = 'closed' and min(o.paid_at) is not null then 'refunded'
        when min(o.order_status) = 'closed' then 'cancelled' else min(o.order_status) end as order_status,
    s.shop_id || ':' || max(o.buyer_id_hash) as buyer_key
from raw_files.orders o join f_shops s using (shop_id)
group by s.shop_id, o.order_id, s.channel, s.currency, s.timezone;

-- the exchange rate of an order's day: the seller's month rate, else the shipped seed's (reporting currency CNY)
create or replace temp table f_fx as
select currency, month, coalesce(own.rate, seed.rate) as rate
from (select currency, cast(month as date) as month, cast(rate_to_cny as decimal(18, 6)) as rate
      from read_csv(getvariable('fx_seed'), header = true)) seed
full join (select currency, starts_on as month, rate from raw_config.fx_rates where period = 'month') own
    using (currency, month);

-- counted orders: API wins over exports; an unknown status or a missing rate sets the order aside
create or replace temp table f_orders as
with stacked as (
    select *, 'api' as origin from f_api_orders
    union all
    select *, 'file' from f_file_orders where order_id not in (select order_id from f_api_orders)
)
select stacked.*,
    case when stacked.currency = 'CNY' then cast(1 as decimal(18, 6)) else f_fx.rate end as fx_rate
from stacked
left join f_fx on f_fx.currency = stacked.currency and f_fx.month = date_trunc('month', stacked.order_date)
where stacked.order_status is not null
    and (stacked.currency = 'CNY' or f_fx.rate is not null);

-- every channel's order lines ------------------------------------------------------------------------------
create or replace temp table f_lines as
with taobao as (
    select t.shop_id || ':' || cast(l.oid as varchar) as order_line_id, t.shop_id || ':' || cast(t.tid as varchar) as order_id,
        nullif(trim(l.outer_sku_id), '') as outer_id, cast(l.sku_id as varchar) as platform_sku_id,
        cast(l.num as integer) as quantity, cast(cast(l.price as decimal(18, 2)) * l.num as decimal(18, 2)) as list_amount,
        cast(l.payment as decimal(18, 2)) as paid_amount
    from raw_taobao.orders__orders l join raw_taobao.orders t on l._dlt_parent_id = t._dlt_id
),
jd_lines as (
    select o.shop_id, o.order_id as platform_order_id, i.sku_id, i.ware_id, nullif(trim(i.outer_sku_id), '') as outer_id,
        cast(i.item_total as integer) as quantity,
        cast(i.jd_price * cast(i.item_total as integer) as decimal(18, 2)) as list_amount,
        row_number() over (partition by o.shop_id, o.order_id, i.sku_id order by i._dlt_list_idx) as occurrence,
        row_number() over (partition by o.shop_id, o.order_id order by i._dlt_list_idx desc) = 1 as is_last,
        cast(coalesce(o.seller_discount, 0) as decimal(18, 2)) as order_merchant,
        cast(o.order_total_price - coalesce(o.seller_discount, 0) + coalesce(o.freight_price, 0) - o.order_payment
            as decimal(18, 2)) as order_platform
    from raw_jd.orders__item_info_list i join raw_jd.orders o on i._dlt_parent_id = o._dlt_id
),
jd_floored as (
    select *, sum(list_amount) over (partition by shop_id, platform_order_id) as order_list,
        cast(floor(order_merchant * 100 * list_amount / nullif(sum(list_amount) over (partition by shop_id, platform_order_id), 0)) / 100 as decimal(18, 2)) as m_share,
        cast(floor(order_platform * 100 * list_amount / nullif(sum(list_amount) over (partition by shop_id, platform_order_id), 0)) / 100 as decimal(18, 2)) as p_share
    from jd_lines
),
jd as (
    select shop_id || ':' || platform_order_id || '-' || sku_id || case when occurrence > 1 then '#' || occurrence else '' end,
        shop_id || ':' || platform_order_id, outer_id, sku_id, quantity, list_amount,
        cast(list_amount
            - coalesce(case when is_last then order_merchant - coalesce(sum(m_share) over w, 0) + m_share else m_share end, 0)
            - coalesce(case when is_last then order_platform - coalesce(sum(p_share) over w, 0) + p_share else p_share end, 0)
            as decimal(18, 2))
    from jd_floored
    window w as (partition by shop_id, platform_order_id)
),
pdd_lines as (
    select o.shop_id, o.order_sn, cast(i.sku_id as varchar) as sku_id, nullif(trim(i.outer_id), '') as outer_id,
        cast(i.goods_count as integer) as quantity,
        cast(i.goods_price * i.goods_count / 100 as decimal(18, 2)) as list_amount,
        row_number() over (partition by o._dlt_id, i.sku_id order by i._dlt_list_idx) as occurrence,
        row_number() over (partition by o._dlt_id order by i._dlt_list_idx desc) = 1 as is_last,
        cast(coalesce(o.seller_discount, 0) / 100 as decimal(18, 2)) as order_merchant,
        cast(coalesce(o.platform_discount, 0) / 100 as decimal(18, 2)) as order_platform,
        sum(i.goods_price * i.goods_count) over (partition by o._dlt_id) / 100 as order_list
    from raw_pinduoduo.orders__item_list i join raw_pinduoduo.orders o on i._dlt_parent_id = o._dlt_id
),
pdd_shares as (
    select *,
        case when is_last then 0 else cast(floor(order_merchant * list_amount / nullif(order_list, 0) * 100) / 100 as decimal(18, 2)) end as m_share,
        case when is_last then 0 else cast(floor(order_platform * list_amount / nullif(order_list, 0) * 100) / 100 as decimal(18, 2)) end as p_share
    from pdd_lines
),
pdd as (
    select shop_id || ':' || order_sn || '-' || sku_id || case when occurrence > 1 then '#' || occurrence else '' end,
        shop_id || ':' || order_sn, outer_id, sku_id, quantity, list_amount,
        cast(list_amount
            - coalesce(case when is_last then order_merchant - sum(m_share) over w else m_share end, 0)
            - coalesce(case when is_last then order_platform - sum(p_share) over w else p_share end, 0)
            as decimal(18, 2))
    from pdd_shares
    window w as (partition by shop_id, order_sn)
),
douyin as (
    select o.shop_id || ':' || l.order_id, o.shop_id || ':' || o.order_id,
        coalesce(nullif(trim(l.code), ''), nullif(trim(l.out_sku_id), '')), cast(l.sku_id as varchar),
        cast(l.item_num as integer), cast(l.origin_amount / 100 as decimal(18, 2)), cast(l.pay_amount / 100 as decimal(18, 2))
    from raw_douyin.orders__sku_order_list l join raw_douyin.orders o on l._dlt_parent_id = o._dlt_id
),
shopify as (
    select o.shop_id || ':' || cast(l.id as varchar), o.shop_id || ':' || cast(o.id as varchar),
        nullif(trim(l.sku), ''), cast(l.variant_id as varchar), cast(l.quantity as integer),
        cast(l.price * l.quantity as decimal(18, 2)),
        cast(l.price * l.quantity - coalesce(l.total_discount, 0) as decimal(18, 2))
    from raw_shopify.orders__line_items l join raw_shopify.orders o on l._dlt_parent_id = o._dlt_id
),
api as (
    select * from taobao union all select * from jd union all select * from pdd
    union all select * from douyin union all select * from shopify
),
files as (
    select f.shop_id || ':' || coalesce(f.line_id, f.order_id || '-' || coalesce(f.sku_id, f.outer_id)
            || case when coalesce(f.sku_occurrence, 1) > 1 then '#' || coalesce(f.sku_occurrence, 1) else '' end)
            as order_line_id,
        f.shop_id || ':' || f.order_id as order_id, nullif(trim(f.outer_id), '') as outer_id,
        coalesce(f.sku_id, f.outer_id) as platform_sku_id, cast(f.quantity as integer) as quantity,
        cast(coalesce(f.line_list_amount, f.unit_price * f.quantity) as decimal(18, 2)) as list_amount,
        cast(coalesce(f.line_paid_amount, coalesce(f.line_list_amount, f.unit_price * f.quantity)
            - coalesce(f.line_merchant_discount, 0) - coalesce(f.line_platform_discount, 0)) as decimal(18, 2))
            as paid_amount
    from raw_files.orders f
)
select * from api where order_id in (select order_id from f_orders where origin = 'api')
union all
select * from files where order_id in (select order_id from f_orders where origin = 'file');

-- refunds that count: successful, on a line, of a counted order; API wins over exports ---------------------------
create or replace temp table f_refunds as
with api as (
    select shop_id || ':' || cast(refund_id as varchar) as refund_id, shop_id || ':' || cast(tid as varchar) as order_id,
        case when oid is not null then shop_id || ':' || cast(oid as varchar) end as order_line_id,
        cast(num as integer) as quantity, cast(refund_fee as decimal(18, 2)) as amount,
        case status when 'SUCCESS' then 'success' when 'CLOSED' then 'closed' else 'processing' end as status
    from raw_taobao.refunds
    union all
    select shop_id || ':' || id, shop_id || ':' || order_id,
        case when sku_id is not null then shop_id || ':' || order_id || '-' || sku_id end,
        cast(num as integer), cast(apply_refund_sum as decimal(18, 2)),
        case status when '1' then 'success' when '2' then 'closed' else 'processing' end
    from raw_jd.refunds
    union all
    select shop_id || ':' || cast(id as varchar), shop_id || ':' || order_sn,
        shop_id || ':' || order_sn || '-' || cast(sku_id as varchar),
        cast(goods_number as integer), cast(refund_amount / 100 as decimal(18, 2)),
        case after_sales_status when 10 then 'success' when 11 then 'closed' else 'processing' end
    from raw_pinduoduo.refunds
    union all
    select shop_id || ':' || aftersale_id, shop_id || ':' || shop_order_id,
        case when nullif(sku_order_id, '') is not null then shop_id || ':' || sku_order_id end,
        cast(aftersale_num as integer), cast(refund_amount / 100 as decimal(18, 2)),
        case aftersale_status when 12 then 'success' when 28 then 'closed' else 'processing' end
    from raw_douyin.refunds
    union all
    select o.shop_id || ':' || cast(rl.id as varchar), o.shop_id || ':' || cast(o.id as varchar),
        o.shop_id || ':' || cast(rl.line_item_id as varchar), cast(rl.quantity as integer),
        cast(rl.subtotal as decimal(18, 2)), 'success'
    from raw_shopify.orders__refunds__refund_line_items rl
    join raw_shopify.orders__refunds r on rl._dlt_parent_id = r._dlt_id
    join raw_shopify.orders o on r._dlt_parent_id = o._dlt_id
),
stacked as (
    select * from api
    union all
    select shop_id || ':' || refund_id, shop_id || ':' || order_id,
        shop_id || ':' || coalesce(line_id, order_id || '-' || sku_id), cast(quantity as integer),
        cast(refund_amount as decimal(18, 2)), refund_status
    from raw_files.refunds
    where shop_id || ':' || refund_id not in (select refund_id from api)
)
select order_line_id, sum(quantity) as refunded_quantity, sum(amount) as refund_amount
from stacked
where status = 'success' and order_line_id is not null and order_id in (select order_id from f_orders)
group by 1;

-- paid lines, mapped to master SKUs, in CNY ------------------------------------------------------------------
create or replace temp table f_paid_lines as
select l.order_line_id, l.order_id, o.shop_id, o.order_date, o.buyer_key,
    coalesce(p.sku, 'unmapped:' || coalesce(l.outer_id, l.platform_sku_id, 'unknown')) as sku,
    l.quantity, coalesce(r.refunded_quantity, 0) as refunded_quantity,
    cast(l.list_amount * o.fx_rate as decimal(18, 2)) as gmv_cny,
    cast(l.paid_amount * o.fx_rate as decimal(18, 2)) as net_sales_cny,
    cast(coalesce(r.refund_amount, 0) * o.fx_rate as decimal(18, 2)) as refunds_cny
from f_lines l
join f_orders o on l.order_id = o.order_id
left join raw_product_master.products p on l.outer_id = p.sku
left join f_refunds r on l.order_line_id = r.order_line_id
where o.paid_at is not null;

create or replace table floor.daily_sku_sales as
select order_date, shop_id, sku, cast(sum(quantity) as bigint) as units,
    cast(sum(refunded_quantity) as bigint) as units_refunded, sum(gmv_cny) as gmv_cny,
    sum(net_sales_cny) as net_sales_cny, sum(refunds_cny) as refunds_cny,
    sum(net_sales_cny) - sum(refunds_cny) as net_revenue_cny
from f_paid_lines group by 1, 2, 3;

create or replace table floor.daily_shop_sales as
select order_date, shop_id, cast(count(distinct order_id) as bigint) as orders, cast(sum(quantity) as bigint) as units,
    cast(count(distinct buyer_key) as bigint) as buyers, sum(gmv_cny) as gmv_cny, sum(net_sales_cny) as net_sales_cny,
    sum(refunds_cny) as refunds_cny, sum(net_sales_cny) - sum(refunds_cny) as net_revenue_cny
from f_paid_lines group by 1, 2;

create or replace table floor.shop_month_sales as
select shop_id, cast(date_trunc('month', order_date) as date) as order_month,
    sum(net_sales_cny) as net_sales_cny, sum(refunds_cny) as refunds_cny
from f_paid_lines group by 1, 2;

-- stock: on hand at the latest snapshot, on order on open WMS purchase orders not overdue -----------------------
create or replace table floor.inventory as
with snapshots as (
    select merchant_code as sku, sum(on_hand) as on_hand
    from raw_wms.stock_snapshots
    where snapshot_date = (select max(snapshot_date) from raw_wms.stock_snapshots where snapshot_date <= getvariable('as_of'))
    group by 1
),
wms_lines as (
    select l.merchant_code as sku, po.expected_date, greatest(l.quantity - l.received_quantity, 0) as open_quantity
    from raw_wms.purchase_orders__lines l join raw_wms.purchase_orders po on l._dlt_parent_id = po._dlt_id
    where po.status = 'open'
),
own_lines as (  -- shopkeep's own sent orders until the WMS lists them: confirmed (else ordered) less received
    select own.sku, coalesce(own.promised_date, own.expected_date) as expected_date,
        greatest(coalesce(own.confirmed, own.quantity) - coalesce(
            (select sum(r.quantity) from raw_wms.receipts r where r.po_number = own.po_number and r.merchant_code = own.sku),
            0), 0) as open_quantity
    from raw_ops.purchase_order_lines own
    where own.po_state in ('sent', 'confirmed', 'partially_received') and own.warehouse_id is not null
        and own.po_number not in (select po_number from raw_wms.purchase_orders)
),
open_lines as (
    select sku, sum(open_quantity) as on_order
    from (select * from wms_lines union all select * from own_lines)
    where not coalesce(expected_date + getvariable('overdue_grace_days') < getvariable('as_of'), false)
    group by 1
)
select p.sku, coalesce(s.on_hand, 0) as on_hand, coalesce(o.on_order, 0) as on_order
from raw_product_master.products p
left join snapshots s on s.sku = p.sku
left join open_lines o on o.sku = p.sku
where not coalesce(p.is_kit, false);

-- demand: mean daily units demanded over the 28 days before as_of (kits exploded into their components), over the
-- days of each SKU's selling life in that window (from its launch or first sale, not before the data's first day)
create or replace table floor.demand_inputs as
with exploded as (
    select coalesce(k.component_sku, l.sku) as sku, l.order_date, l.quantity * coalesce(k.quantity, 1) as units
    from f_paid_lines l left join raw_product_master.kit_components k on k.kit_sku = l.sku
    where l.order_date < getvariable('as_of')
),
first_sales as (select sku, min(order_date) as first_sale from exploded group by 1),
life as (
    select p.sku,
        greatest(least(p.launched_on, f.first_sale), (select min(order_date) from exploded),
            getvariable('as_of') - 28) as first_day
    from raw_product_master.products p left join first_sales f on f.sku = p.sku
    where not coalesce(p.is_kit, false)
),
recent as (
    select sku, sum(units) as units from exploded where order_date >= getvariable('as_of') - 28 group by 1
)
select life.sku, cast(coalesce(recent.units, 0) as bigint) as units_28d,
    cast(coalesce(recent.units, 0) as double) / nullif(getvariable('as_of') - life.first_day, 0) as avg_daily_units_28d
from life left join recent on recent.sku = life.sku
where life.first_day < getvariable('as_of');
