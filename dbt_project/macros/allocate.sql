{#- This row's share of a total split over a group's rows in proportion to `weight`, rounded to cents so that
    the rows add up to the total exactly: round(total × cumulative share) − round(total × previous cumulative
    share). `cumulative` is the running sum of `weight` over the group in a fixed order, `total_weight` the
    group's sum (> 0). -#}
{% macro allocate(total, weight, cumulative, total_weight) -%}
    cast(
        round(cast({{ total }} as double) * ({{ cumulative }}) / ({{ total_weight }}), 2)
        - round(cast({{ total }} as double) * (({{ cumulative }}) - ({{ weight }})) / ({{ total_weight }}), 2)
        as decimal(18, 2)
    )
{%- endmacro %}
