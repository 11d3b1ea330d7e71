{#- Incremental by signature: a model whose rows group by a key (a month, a day, an order) that an hourly run
    rebuilds only for the key values whose inputs changed.

    A pre_hook computes each key value's signature from everything the model reads for it (one hash of its input
    rows) into a temporary table `<model>__signatures`. An incremental run rebuilds the key values whose signature
    is not the one recorded when their rows were last built (`changed_keys`, strategy delete+insert on the key);
    the post_hook (`save_signatures`) drops the rows of key values that no longer have inputs and records the
    signatures. They are kept beside the model's inputs, in `intermediate.<model>__built_from`, not as a column:
    the marts are published whole and a signature means nothing to a reader. A recorded signature is hashed with
    the checksum of the model's SQL file, so an edited model (an analyst's change to its logic or its columns) is
    rebuilt whole by the next run, not only for the keys whose inputs changed; its columns follow the new SQL
    (on_schema_change='sync_all_columns'; a model with an enforced contract may only 'append_new_columns': a
    column it no longer has stays, null, until the nightly full refresh). A change in a macro the model calls is
    not seen: run with --full-refresh.
    A model without recorded signatures (its first run, a table an older shopkeep built) is rebuilt whole; so is
    everything in the nightly full refresh. In a model:
        {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='<key>',
                  on_schema_change='sync_all_columns',
                  pre_hook="create or replace temp table {{ this.identifier }}__signatures as
                            select <key>, <hash of the key's input rows> as signature from ... group by 1",
                  post_hook="{{ save_signatures('<key>') }}") }}
        ... from <input> where {{ only_rebuilt('<key>', "<input's name of the key>") }}
-#}

{% macro built_signatures() -%}
    {{ return(api.Relation.create(
        database=this.database, schema='intermediate', identifier=this.identifier ~ '__built_from')) }}
{%- endmacro %}

{#- A key's signature as recorded: its inputs' hashed with the checksum of the model's SQL file. -#}
{% macro signature_with_code() -%}
    hash(signature, '{{ model.checksum.checksum }}')
{%- endmacro %}

{#- In an incremental run with recorded signatures: a query of the key values to rebuild. Else none (build all). -#}
{% macro changed_keys(key) -%}
    {%- if is_incremental() -%}
        {%- set built = built_signatures() -%}
        {%- if adapter.get_relation(built.database, built.schema, built.identifier) is not none -%}
            {{ return('select ' ~ key ~ ' from (select ' ~ key ~ ', ' ~ signature_with_code() ~ ' from '
                      ~ this.identifier ~ '__signatures except select ' ~ key ~ ', signature from ' ~ built ~ ')') }}
        {%- endif -%}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- In a model's body: its inputs' filter to the key values to rebuild (`column`: the inputs' name of the key), or
    true when it builds every key value. -#}
{% macro only_rebuilt(key, column=none) -%}
    {%- set changed = changed_keys(key) -%}
    {{- (column or key) ~ ' in (' ~ changed ~ ')' if changed else 'true' -}}
{%- endmacro %}

{#- The incremental strategy `replace_changed_keys`, for a model whose output may have no row for a key value that
    has a signature (delete+insert replaces only the key values the output has): the rows of every key value to
    rebuild are deleted (all rows when no signatures are recorded), then the new rows inserted. It runs where a
    strategy runs, after dbt has added the model's new columns: DuckDB refuses a table's ALTER after a DELETE in one
    transaction, which a pre_hook's delete would be. -#}
{% macro get_incremental_replace_changed_keys_sql(arg_dict) -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set changed = changed_keys(key) -%}
    delete from {{ arg_dict['target_relation'] }}
    {%- if changed %} where {{ key }} in ({{ changed }}){% endif %};
    {{ get_incremental_append_sql(arg_dict) }}
{%- endmacro %}

{#- post_hook: drop the rows of key values with no inputs any more, record the signatures the rows were built from. -#}
{% macro save_signatures(key) -%}
    delete from {{ this }} where {{ key }} not in (select {{ key }} from {{ this.identifier }}__signatures);
    create or replace table {{ built_signatures() }} as
    select {{ key }}, {{ signature_with_code() }} as signature from {{ this.identifier }}__signatures;
    drop table {{ this.identifier }}__signatures
{%- endmacro %}

{#- pre_hook of the models keyed by order date that read the paid order lines (daily_sku_sales, daily_shop_sales):
    a date's signature is the chain versions of its paid lines (which hash the order, its lines and refunds, the
    product master, rates and settings). -#}
{% macro paid_line_signatures_by_date() -%}
    create or replace temp table {{ this.identifier }}__signatures as
    select
        order_date,
        hash(count(*), sum(hash(order_line_id, order_version))) as signature
    from {{ ref('int_order_lines_enriched') }}
    where paid_at is not null
    group by 1
{%- endmacro %}
