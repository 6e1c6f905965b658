{#
    Generic test: every row's values in `columns` occur together in a row of `to` (dbt's
    `relationships` for a key of several columns). Rows with a null in `columns` are not
    checked, as `relationships` skips null keys.
#}
{% test matches_combination(model, columns, to) %}
select {{ columns | join(', ') }}
from {{ model }} as child
where {% for column in columns %}child.{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    and not exists (
        select 1 from {{ to }} as parent
        where {% for column in columns %}parent.{{ column }} = child.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
{% endtest %}
