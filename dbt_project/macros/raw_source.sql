{#- A raw table as staging may read it, whatever a seller's setup loaded: `select` of exactly the columns its
    sources YAML declares, each one the platform (or a seller's account) did not send — an optional field, a
    nested list no row had — as a typed null, and an empty relation of those columns when the table does not
    exist at all (a source that is not configured, a new shop with no refunds yet). Staging reads raw tables only
    through this macro, so the YAML's column list is the one record of which raw fields shopkeep needs.
    In a unit test the source is its fixture and is returned as it is. -#}
{% macro raw_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute or relation.identifier.startswith('__dbt__cte__') -%}
        {{ relation }}
    {%- else -%}
        {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
        {%- set declared = node.columns.values() | list -%}
        {%- if declared | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "source " ~ source_name ~ "." ~ table_name ~ " declares no columns: list the columns staging reads "
                ~ "(with data_type) in its _" ~ source_name[4:] ~ "__sources.yml") }}
        {%- endif -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
        {%- set present = [] -%}
        {%- if existing is not none -%}
            {%- for column in adapter.get_columns_in_relation(existing) -%}
                {%- do present.append(column.name | lower) -%}
            {%- endfor -%}
        {%- endif -%}
        (select
        {%- for column in declared %}
            {% if column.name | lower in present -%}
                {{ column.name }}
            {%- else -%}
                cast(null as {{ column.data_type }}) as {{ column.name }}
            {%- endif %}{{ "," if not loop.last }}
        {%- endfor %}
        {% if existing is not none -%}
        from {{ relation }}
        {%- else -%}
        where false
        {%- endif %})
    {%- endif -%}
{%- endmacro %}
