{#
    Generic test: the model has exactly one row (the grain of a one-row summary such as
    int_source_presence, which the marts cross join: two rows would double every figure).
#}
{% test exactly_one_row(model) %}
select n_rows
from (select count(*) as n_rows from {{ model }}) as counted
where n_rows <> 1
{% endtest %}
