{#- The tests of an incremental model check the rows no passing test run has seen, not the whole table.

    An hourly run rebuilds a few orders, days or buyers of an incremental model; its row-level data tests (below)
    then check only the key values rebuilt since the model's tests last all passed, instead of scanning every row
    again (at 10 M order lines those tests took 17.7 s of an hour's 54 s of tests, 5.3 s since). The key values
    are kept in
    `intermediate.<model>__untested`:
    - every incremental model's post-hook (`record_untested_keys`, set for all models in dbt_project.yml) adds the
      key values its incremental run rebuilt (the model's `unique_key`; `order_id` for the order chain, which
      appends), or drops the table when the model was built whole or mostly: then every row is untested;
    - at the end of a run (`mark_tested`, on-run-end) the model's table is emptied when every row-level test of the
      model ran and passed (or only warned) in that run; a failed, errored, skipped or unselected test leaves it,
      so a bad row stays under test until it is fixed;
    - no table (a model built whole, or one whose tests have not all passed since): its tests check every row.
    Restricted are only the tests whose verdict on a row depends on that row alone (`row_level_tests`); `unique`
    counts with the other rebuilt rows, which holds for every model here (their ids are built from their key: an
    order's lines, a date's days); the nightly full refresh tests every row of every model. -#}

{% macro row_level_tests() -%}
    {{ return(['not_null', 'not_null_columns', 'unique', 'accepted_values', 'non_negative', 'expression_is_true']) }}
{%- endmacro %}

{% macro untested_keys_relation(database, identifier) -%}
    {{ return(api.Relation.create(database=database, schema='intermediate', identifier=identifier ~ '__untested')) }}
{%- endmacro %}

{#- Whether the untested keys table exists, asked of DuckDB: dbt's relation cache does not see the hooks' drops. -#}
{% macro untested_keys_exist(untested) -%}
    {%- set found = run_query(
        "select count(*) from duckdb_tables() where database_name = '" ~ untested.database
        ~ "' and schema_name = '" ~ untested.schema ~ "' and table_name = '" ~ untested.identifier ~ "'") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- An incremental model's key: `unique_key` (one column or a list), else order_id (the append-only order chain). -#}
{% macro untested_key_columns(unique_key) -%}
    {%- set key = unique_key or 'order_id' -%}
    {{ return([key] if key is string else key) }}
{%- endmacro %}

{#- post-hook of every model: an incremental one records the key values it rebuilt. Its incremental run left them
    in the temporary table `<model>__dbt_tmp<timestamp>` (dbt-duckdb's, which would live on until the end of the
    run: it is dropped here). -#}
{% macro record_untested_keys() -%}
    {%- if not execute or model.config.materialized != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set untested = untested_keys_relation(this.database, this.identifier) -%}
    {%- set found = run_query(
        "select max(table_name) from duckdb_tables() where temporary and starts_with(table_name, '"
        ~ this.identifier ~ "__dbt_tmp')") -%}
    {%- set rebuilt = found.columns[0].values()[0] -%}
    {%- if rebuilt is none -%}
    drop table if exists {{ untested }}
    {%- else -%}
    {%- set rebuilt = '"' ~ rebuilt ~ '"' -%}
    {%- set keys = untested_key_columns(config.get('unique_key')) | join(', ') -%}
    {%- set most = run_query(
        'select (select count(*) from ' ~ rebuilt ~ ') * 2 > (select count(*) from ' ~ this ~ ')') -%}
    {%- if most.columns[0].values()[0] -%}
    {#- most of the model rebuilt (its SQL edited, its first incremental run): test it whole -#}
    drop table if exists {{ untested }};
    {%- elif untested_keys_exist(untested) -%}
    insert into {{ untested }}
    select distinct {{ keys }} from {{ rebuilt }}
    except
    select {{ keys }} from {{ untested }};
    {%- endif %}
    drop table {{ rebuilt }}
    {%- endif -%}
{%- endmacro %}

{#- on-run-end: empty the untested keys of every incremental model whose row-level tests all ran and passed (its
    other tests read every row anyway). -#}
{% macro mark_tested(results) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set status = {} -%}
    {%- for result in results -%}
        {%- do status.update({result.node.unique_id: result.status}) -%}
    {%- endfor -%}
    {%- set tests_of = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' and node.attached_node
            and node.test_metadata and node.test_metadata.name in row_level_tests() -%}
        {%- do tests_of.setdefault(node.attached_node, []).append(node.unique_id) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for model_id, tests in tests_of.items() -%}
        {%- set node = graph.nodes.get(model_id) -%}
        {%- set passed = namespace(all=true) -%}
        {%- for test in tests if status.get(test) not in ['pass', 'warn'] -%}
            {%- set passed.all = false -%}
        {%- endfor -%}
        {%- if node and node.config.materialized == 'incremental' and passed.all -%}
            {%- set built = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if adapter.get_relation(built.database, built.schema, built.identifier) is not none -%}
                {%- do statements.append(
                    'create or replace table ' ~ untested_keys_relation(node.database, node.alias) ~ ' as select '
                    ~ untested_key_columns(node.config.unique_key) | join(', ') ~ ' from ' ~ built ~ ' where false') -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}

{#- dbt wraps the model a generic test reads in this macro (its `where` config); a row-level test of a model with
    untested keys reads only their rows. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set untested = none -%}
    {%- set tested = graph.nodes.get(model.attached_node) if execute and model.attached_node else none -%}
    {%- if tested and tested.config.materialized == 'incremental' and model.test_metadata
            and model.test_metadata.name in row_level_tests() -%}
        {%- set candidate = untested_keys_relation(relation.database, relation.identifier) -%}
        {%- if untested_keys_exist(candidate) -%}
            {%- set untested = candidate -%}
        {%- endif -%}
    {%- endif -%}
    {%- if untested is none and not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set filtered -%}
        (select tested.* from {{ relation }} as tested
        {%- if untested is not none %}
        semi join {{ untested }}
            using ({{ untested_key_columns(tested.config.unique_key) | join(', ') }})
        {%- endif %}
        {%- if where %}
        where {{ where }}
        {%- endif %}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}
