{#- Every ratio of marts/core/period_ratios reads its mart: its numerator and denominator are valid expressions
    over that mart's columns (a misspelt column fails this test's SQL), and its kind is money or rate. Returns
    the ratios whose kind is unknown; an expression that does not compile fails the test with DuckDB's error. -#}
-- depends_on: {{ ref('channel_daily_performance') }}, {{ ref('shop_monthly_pnl') }}, {{ ref('supplier_performance') }}
-- depends_on: {{ ref('settlement_reconciliation_monthly') }}, {{ ref('promotion_results') }}, {{ ref('return_analysis') }}
-- depends_on: {{ ref('sku_margins') }}
{%- set ratios = [] -%}
{%- if execute -%}
    {%- set ratios = run_query("select ratio, mart, numerator, denominator from " ~ ref('period_ratios')).rows -%}
{%- endif %}

with checked as (
    {%- for ratio, mart, numerator, denominator in ratios %}
    select '{{ ratio }}' as ratio, count({{ numerator }}) + count({{ denominator }}) as n from {{ ref(mart) }} where false
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
    {%- if not ratios %}
    select 'none' as ratio, 0 as n where false
    {%- endif %}
)

select ratio, kind from {{ ref('period_ratios') }}
where kind not in ('money', 'rate')
    or ratio in (select ratio from checked where n > 0)  -- never: checked reads no row, it only has to compile
