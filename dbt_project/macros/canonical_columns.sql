{#- The canonical column set every channel's staging model exposes for one entity, so the intermediate
    `int_*_unified` models can stack them. A channel of var `channels` must have a staging model per entity. -#}
{% macro canonical_columns(entity) -%}
    {%- set columns = {
        'orders': [
            'order_id', 'shop_id', 'platform_order_id', 'created_at', 'paid_at', 'shipped_at', 'completed_at',
            'cancelled_at', 'updated_at', 'order_status', 'platform_status', 'currency', 'list_amount',
            'merchant_discount', 'platform_discount', 'shipping_amount', 'paid_amount', 'buyer_key', 'province',
            'city', 'has_address_detail', 'address_key', 'buyer_remark', 'seller_remark', 'order_date',
        ],
        'order_lines': [
            'order_line_id', 'order_id', 'platform_line_id', 'platform_product_id', 'platform_sku_id', 'outer_id',
            'title', 'quantity', 'unit_list_price', 'list_amount', 'merchant_discount', 'platform_discount',
            'paid_amount',
        ],
        'refunds': [
            'refund_id', 'order_id', 'order_line_id', 'refunded_at', 'quantity', 'refund_amount', 'reason_code',
            'reason_text', 'goods_returned', 'is_restocked', 'refund_status',
        ],
        'settlements': [
            'settlement_line_id', 'platform_bill_line_id', 'shop_id', 'order_id', 'bill_type', 'amount',
            'settled_date',
        ],
    } -%}
    {{- return(columns[entity]) -}}
{%- endmacro %}

{#- Channels whose API staging models exist, per entity. -#}
{% macro api_channels(entity) -%}
    {%- set channels = {
        'orders': channels(),
        'order_lines': channels(),
        'refunds': channels(),
        'settlements': marketplaces(),
    } -%}
    {{- return(channels[entity]) -}}
{%- endmacro %}

{#- `select <canonical columns> from <model>` for each model, stacked, with the channel and where it came from. -#}
{% macro _stack(entity, models) -%}
    {%- set columns = canonical_columns(entity) -%}
    {%- for channel, origin, model in models %}
    select
        '{{ channel }}' as channel,
        '{{ origin }}' as origin,
        {{ columns | join(',\n        ') }}
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Every channel's API rows for `entity`, stacked (origin = 'api'). -#}
{% macro union_channels(entity) -%}
    {%- set models = [] -%}
    {%- for channel in api_channels(entity) -%}
        {%- do models.append((channel, 'api', 'stg_' ~ channel ~ '__' ~ entity)) -%}
    {%- endfor -%}
    {{ _stack(entity, models) }}
{%- endmacro %}

{#- Every export's rows for `entity` (origin = 'file'), from the one staging model per entity that every file
    layout feeds (stg_files__<entity>); the channel is the shop's. -#}
{% macro union_files(entity) -%}
    {%- set shop = 'file_rows.shop_id' if entity in ('orders', 'settlements')
                   else "split_part(file_rows.order_id, ':', 1)" -%}
    select
        file_shops.channel,
        'file' as origin,
        {% for column in canonical_columns(entity) -%}
        file_rows.{{ column }}{{ ',' if not loop.last }}
        {% endfor -%}
    from {{ ref('stg_files__' ~ entity) }} as file_rows
    inner join {{ ref('stg_config__shops') }} as file_shops on file_shops.shop_id = {{ shop }}
{%- endmacro %}

{#- The columns of an importer's quarantine (rows it could not accept, each with the reason and the fix), typed
    once for stg_files__quarantine and stg_product_master__quarantine. -#}
{% macro quarantine_columns() -%}
        source_file,
        file_sha256,
        coalesce(sheet, '') as sheet,
        cast(row_number as integer) as row_number,
        reason,
        cast(raw_row as varchar) as raw_row,
        cast(loaded_at as timestamptz) as loaded_at
{%- endmacro %}
