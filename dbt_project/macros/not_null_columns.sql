{#
    Generic test: none of `columns` holds a null (SPEC section 2's required columns, say).
    One scan and one test node for what a `not_null` per column took one each (a node costs
    ~25 ms of the daily run, docs/performance.md); a failure names each column with nulls
    and how many rows.
#}
{% test not_null_columns(model, columns) %}
with

null_counts as (

    select
        {% for column in columns -%}
        sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ model }}

)

{% for column in columns -%}
select '{{ column }}' as column_name, {{ column }} as null_rows
from null_counts
where {{ column }} > 0
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
{% endtest %}
