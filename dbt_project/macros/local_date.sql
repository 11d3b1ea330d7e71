{#- The shop-local calendar date of a UTC timestamp. DuckDB-specific; the portable spot for other engines. -#}
{% macro local_date(utc_ts, timezone_column) -%}
    cast(timezone({{ timezone_column }}, {{ utc_ts }}) as date)
{%- endmacro %}

{#- The instant a local calendar day starts in a timezone (its first instant: where midnight does not exist, as on
    a day some zones move their clocks at midnight, the first time the day has); the day after's start is the
    day's end ("as of the end of the stock date"). local_date(t) >= day exactly when t >= local_day_start(day):
    a filter on the instant converts nothing per row, a filter on the local date converts every row's time (and
    DuckDB converts it again for each predicate it pushes into a view). -#}
{% macro local_day_start(day, timezone_column) -%}
    timezone({{ timezone_column }}, cast({{ day }} as timestamp))
{%- endmacro %}
