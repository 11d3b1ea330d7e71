{#- The moment the build runs: dbt var `clock` (an ISO instant, e.g. '2026-07-01T02:00:00+00:00') when given on
    the command line, else environment variable SHOPKEEP_CLOCK (the orchestrator sets it to its own clock for every
    build, so a build's "now" is the clock that stamped its loads, which also lets the tests pin it), else the
    database's now(). The variable is read only when the SQL runs (`execute`), never while dbt parses: a clock that
    changes every build then leaves dbt's partial parsing valid (a changed var or parse-time env var would make
    dbt parse the whole project again, ~10 s a build). -#}
{% macro clock() -%}
    {%- set moment = var('clock', none) or (env_var('SHOPKEEP_CLOCK', '') if execute else '') -%}
    {%- if moment -%}
        cast('{{ moment }}' as timestamptz)
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
