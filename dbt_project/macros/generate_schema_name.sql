{#- Schemas are exactly `staging`, `intermediate`, `marts`, `seeds` (dbt would otherwise prefix the target's schema). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
