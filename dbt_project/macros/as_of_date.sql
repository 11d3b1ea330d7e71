{#- The local date the marts are "as of": dbt var `as_of_date` (e.g. `--vars '{as_of_date: 2026-06-30}'` to
    replay the past), else today in the reporting timezone. Every "today", "last N days" and age uses this. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast(timezone('{{ var("reporting_timezone") }}', now()) as date)
    {%- endif -%}
{%- endmacro %}
