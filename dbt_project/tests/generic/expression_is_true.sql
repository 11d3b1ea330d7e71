{#- Fails for every row where `expression` is not true (an invariant of the model). It must read the row's own
    columns alone: on an incremental model an hourly run checks it on the rebuilt rows only
    (macros/untested_keys.sql). -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
