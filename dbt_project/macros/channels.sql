{#- The sales channels of var `channels` (dbt_project.yml), in its order: every channel, or the marketplaces only
    (the platforms that bill the seller). Models loop over these instead of naming channels. -#}
{% macro channels() -%}
    {{- return(var('channels').keys() | list) -}}
{%- endmacro %}

{% macro marketplaces() -%}
    {%- set names = [] -%}
    {%- for name, kind in var('channels').items() if kind == 'marketplace' -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{- return(names) -}}
{%- endmacro %}
