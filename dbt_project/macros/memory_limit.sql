{#- DuckDB's memory limit for the build: `[warehouse] memory_limit` in shopkeep.toml, which shopkeep passes as
    SHOPKEEP_DUCKDB_MEMORY_LIMIT (e.g. '6GB'). Above it DuckDB spills to disk instead of growing; without it
    DuckDB takes up to 80 % of the machine's memory (a 10-million-line build passed 20 GB). Run once at the start
    of every dbt invocation (on-run-start); the variable is read when the hook runs, never while dbt parses. -#}
{% macro duckdb_memory_limit() -%}
    {%- set limit = env_var('SHOPKEEP_DUCKDB_MEMORY_LIMIT', '') if execute else '' -%}
    {%- if limit -%}
        set memory_limit = '{{ limit }}'
    {%- endif -%}
{%- endmacro %}
