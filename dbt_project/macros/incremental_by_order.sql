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

    In a model:
        {{ config(materialized='incremental', incremental_strategy='append', on_schema_change='sync_all_columns',
                  pre_hook="{{ keep_current_orders(parent, dims) }}") }}
        with changed_orders as ({{ changed_orders(parent) }}), ...
        ... from <an order-keyed input> where {{ only_changed('input.order_id') }}
        ... {{ order_version('parent_row.order_version', dims) }} as order_version
-#}

{% macro order_version(parent_version, dims=[]) -%}
    hash({{ parent_version }}
        {%- for dim in dims %}, (select sum(hash(dim_rows)) from {{ dim }} as dim_rows){% endfor %})
{%- endmacro %}

{% macro _parent_orders(parent, parent_where) -%}
    select order_id, min(order_version) as order_version
    from {{ parent }}
    where ({{ parent_where }})
    group by 1
{%- endmacro %}

{#- pre_hook: in an incremental run, delete the rows of the orders that are not current (all of them when the
    table records no version). -#}
{% macro keep_current_orders(parent, dims=[], parent_where='true') -%}
    {%- if is_incremental() and not has_column('order_version') -%}
    {#- the column first: DuckDB cannot alter a table this transaction has already changed -#}
    alter table {{ this }} add column order_version ubigint;
    delete from {{ this }}
    {%- elif is_incremental() -%}
    delete from {{ this }} as built
    where not exists (
        select 1
        from ({{ _parent_orders(parent, parent_where) }}) as parent_orders
        where parent_orders.order_id = built.order_id
            and {{ order_version('parent_orders.order_version', dims) }} = built.order_version
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- The orders to build (a CTE's body): in an incremental run, the parent's orders the table does not hold; in a
    full build none is asked for (`only_changed` is then `true`). -#}
{% macro changed_orders(parent, parent_where='true') -%}
    {%- if is_incremental() -%}
    select distinct order_id
    from {{ parent }}
    where ({{ parent_where }})
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
