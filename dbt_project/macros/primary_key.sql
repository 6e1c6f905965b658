{#
    Generic test: `columns` are the model's key (its grain): no row has a null in them and no
    two rows share their values. One scan for what `unique_combination` and a `not_null` per
    column took one scan each; every data test node costs ~25 ms of the daily run even on a
    tiny table (docs/performance.md).
#}
{% test primary_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
    or {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
