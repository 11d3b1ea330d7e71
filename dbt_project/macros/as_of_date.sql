{#- The moment the build runs: dbt var `clock` (an ISO instant, e.g. '2026-07-01T02:00:00+00:00'), else the
    database's now(). The orchestrator always passes its own clock, so a build's "now" is the clock that stamped
    its loads (one clock for loads, ages and freshness, which also lets the tests pin it). -#}
{% macro clock() -%}
    {%- if var('clock', none) -%}
        cast('{{ var("clock") }}' as timestamptz)
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}

{#- The local date the marts are "as of": dbt var `as_of_date` (e.g. `--vars '{as_of_date: 2026-06-30}'` to
    replay the past), else the clock's date in the reporting timezone. Every "today", "last N days" and age uses
    this. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast(timezone('{{ var("reporting_timezone") }}', {{ clock() }}) as date)
    {%- endif -%}
{%- endmacro %}
