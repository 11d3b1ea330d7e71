{#- The incremental order chain: models keyed by order (every row carries order_id) that an hourly run rebuilds
    only for the orders that changed, instead of from all history.

    Every row records `order_version`. The chain starts at int_order_versions (one hash of all the staging rows
    of an order: its order, lines and refunds, from the APIs and the exports); each model's version is its
    parent's (the chain model its rows come from) hashed with the dimension tables it reads besides (`dims`:
    products, costs, rates, what is set aside...), so a change anywhere upstream reaches every model below it.

    An incremental run first deletes (pre_hook `keep_current_orders`) the rows of every order whose recorded
    version is not the current one (changed inputs; every order when a dimension table changed) or that the
    parent no longer holds, then builds the parent's orders the table does not hold (strategy append). A table
    built before it recorded versions has none: every order is rebuilt once. The nightly full refresh rebuilds
    everything. `parent_where`: the filter the model applies to its parent's orders (an order it leaves out is
    neither kept nor rebuilt every run).

    Each model's parent, dimension tables and filter are named once, in `order_chain` below; in a model:
        {{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns',
                  pre_hook="{{ keep_current_orders('<model>') }}") }}
        with changed_orders as ({{ changed_orders('<model>') }}), ...
        ... from <an order-keyed input> where {{ only_changed('input.order_id') }}
        ... {{ order_version('<model>', 'parent_row.order_version') }} as order_version
-#}

{#- The chain, one model per branch: `parent` (the chain model whose orders it builds), `dims` (every other table
    it reads that is not keyed by order: a change to one rebuilds all its orders) and `parent_where` (the filter
    it applies to its parent's orders). A ref a chain model adds must be added here too, or an hourly run would
    not see that table change. -#}
{% macro order_chain(model_name) -%}
    {%- if model_name == 'int_orders_stacked' -%}
        {%- set spec = {'parent': ref('int_order_versions')} -%}
    {%- elif model_name == 'int_orders_unified' -%}
        {%- set spec = {
            'parent': ref('int_orders_stacked'),
            'dims': [ref('int_orders_set_aside')],
            'parent_where': 'order_id not in (select order_id from ' ~ ref('int_orders_set_aside') ~ ')',
        } -%}
    {%- elif model_name == 'int_order_lines_unified' -%}
        {%- set spec = {'parent': ref('int_orders_unified')} -%}
    {%- elif model_name == 'int_order_lines_enriched' -%}
        {%- set spec = {
            'parent': ref('int_order_lines_unified'),
            'dims': [ref('stg_product_master__products'), ref('int_fx_rates'), ref('stg_config__settings')],
        } -%}
    {%- elif model_name == 'int_order_line_components' -%}
        {%- set spec = {
            'parent': ref('int_order_lines_enriched'),
            'dims': [ref('stg_product_master__products'), ref('stg_product_master__kit_components')],
            'parent_where': 'is_mapped',
        } -%}
    {%- elif model_name == 'int_order_line_component_costs' -%}
        {%- set spec = {
            'parent': ref('int_order_lines_enriched'),
            'dims': [
                ref('stg_product_master__products'), ref('stg_product_master__kit_components'),
                ref('int_sku_unit_costs'), ref('stg_config__shops'), ref('return_costs'),
            ],
        } -%}
    {%- elif model_name == 'int_order_fulfilment_costs' -%}
        {%- set spec = {
            'parent': ref('int_orders_unified'),
            'dims': [
                ref('stg_product_master__products'), ref('int_shop_terms_resolved'), ref('courier_regions'),
                ref('courier_rates'),
            ],
            'parent_where': has_parcel(),
        } -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            model_name ~ " is not in the order chain: add it to order_chain in macros/incremental_by_order.sql") }}
    {%- endif -%}
    {{ return({'parent': spec['parent'], 'dims': spec.get('dims', []),
               'parent_where': spec.get('parent_where', 'true')}) }}
{%- endmacro %}

{#- The version of an order's rows in `model_name`: its parent's version hashed with the model's dims. -#}
{% macro order_version(model_name, parent_version) -%}
    hash({{ parent_version }}
        {%- for dim in order_chain(model_name).dims %}, {{ table_hash(dim) }}{% endfor %})
{%- endmacro %}

{% macro _parent_orders(parent, parent_where) -%}
    select order_id, min(order_version) as order_version
    from {{ parent }}
    where ({{ parent_where }})
    group by 1
{%- endmacro %}

{#- pre_hook: in an incremental run, delete the rows of the orders that are not current (all of them when the
    table records no version). -#}
{% macro keep_current_orders(model_name) -%}
    {%- set chain = order_chain(model_name) -%}
    {%- if is_incremental() and not has_column('order_version') -%}
    {#- the column first: DuckDB cannot alter a table this transaction has already changed -#}
    alter table {{ this }} add column order_version ubigint;
    delete from {{ this }}
    {%- elif is_incremental() -%}
    delete from {{ this }} as built
    where not exists (
        select 1
        from ({{ _parent_orders(chain.parent, chain.parent_where) }}) as parent_orders
        where parent_orders.order_id = built.order_id
            and {{ order_version(model_name, 'parent_orders.order_version') }} = built.order_version
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- The orders to build (a CTE's body): in an incremental run, the parent's orders the table does not hold; in a
    full build none is asked for (`only_changed` is then `true`). -#}
{% macro changed_orders(model_name) -%}
    {%- set chain = order_chain(model_name) -%}
    {%- if is_incremental() -%}
    select distinct order_id
    from {{ chain.parent }}
    where ({{ chain.parent_where }})
        and order_id not in (select order_id from {{ this }})
    {%- else -%}
    select cast(null as varchar) as order_id
    where false
    {%- endif -%}
{%- endmacro %}

{#- A filter on an order-keyed input: `true` in a full build, else whether its order is in the model's
    `changed_orders` CTE. -#}
{% macro only_changed(order_id='order_id') -%}
    {%- if is_incremental() -%}
    {{ order_id }} in (select order_id from changed_orders)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
