{#- When dlt last wrote rows to each raw table, per shop: the input of marts/data_quality/source_freshness.

    Every top-level raw table that has had rows carries `_dlt_load_id` (the load's start, unix seconds as text); nested tables
    (orders__line_items, …) are written with their parent and are left out. Unlike the other staging models
    this one reads many sources — it describes the loads, not one source's entities — so the list below names
    every raw table it looks at: the Shopify store's, each marketplace's (var `channels`) four, the files', the
    WMS's and the product master's. A table that does not exist yet (a channel
    that has never loaded) is skipped. dlt merges re-write a row's `_dlt_load_id` when a load brings it again, so
    last_loaded_at is the last load that brought rows to the table for the shop. -#}
{%- set raw_tables = [
    ('raw_shopify', 'orders', true),
    ('raw_shopify', 'products', true),
    ('raw_shopify', 'inventory_levels', true),
    ('raw_shopify', 'payouts', true),
    ('raw_shopify', 'balance_transactions', true),
] -%}
{%- for channel in marketplaces() -%}
    {%- for table_name in ['orders', 'refunds', 'settlements', 'listings'] -%}
        {%- do raw_tables.append(('raw_' ~ channel, table_name, true)) -%}
    {%- endfor -%}
{%- endfor -%}
{%- do raw_tables.extend([
    ('raw_files', 'orders', true),
    ('raw_files', 'refunds', true),
    ('raw_files', 'settlements', true),
    ('raw_files', 'ad_spend', true),
    ('raw_wms', 'stock_snapshots', false),
    ('raw_wms', 'stock_movements', false),
    ('raw_wms', 'purchase_orders', false),
    ('raw_wms', 'receipts', false),
    ('raw_product_master', 'products', false),
    ('raw_product_master', 'kit_components', false),
    ('raw_product_master', 'suppliers', false),
    ('raw_product_master', 'promotions', true),
]) -%}
{%- set selects = [] -%}
{%- for source_name, table_name, per_shop in raw_tables -%}
    {#- source() outside `execute` so dbt (and Dagster) record the dependency when parsing -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) if execute else none -%}
    {%- set column_names = adapter.get_columns_in_relation(existing) | map(attribute='name') | list if existing is not none else [] -%}
    {#- a table dlt created from an empty arrow batch (an export format with no file yet) has no _dlt_load_id:
        it has never had rows loaded, so it has nothing to report -#}
    {%- if '_dlt_load_id' in column_names -%}
        {%- do selects.append(
            "select '" ~ source_name ~ "' as source_name, '" ~ table_name ~ "' as table_name, "
            ~ ("cast(shop_id as varchar)" if per_shop else "cast(null as varchar)") ~ " as shop_id, "
            ~ "count(*) as row_count, "
            ~ "min(cast(_dlt_load_id as double)) as first_load_id, "
            ~ "max(cast(_dlt_load_id as double)) as last_load_id "
            ~ "from " ~ relation ~ " group by 3"
        ) -%}
    {%- endif -%}
{%- endfor %}

with loads as (
{%- if selects %}
    {{ selects | join('\n    union all\n    ') }}
{%- else %}
    select
        cast(null as varchar) as source_name,
        cast(null as varchar) as table_name,
        cast(null as varchar) as shop_id,
        cast(0 as bigint) as row_count,
        cast(null as double) as first_load_id,
        cast(null as double) as last_load_id
    where false
{%- endif %}
),

final as (
    select
        source_name,
        table_name,
        shop_id,
        cast(row_count as bigint) as row_count,
        {{ dlt_load_time('first_load_id') }} as first_loaded_at,
        {{ dlt_load_time('last_load_id') }} as last_loaded_at
    from loads
)

select * from final
