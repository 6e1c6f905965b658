{#
    Whether `instant` (naive UTC) falls in the month of `month`, a relation or CTE with the
    month's UTC bounds: SPEC section 3's "falls in P". A month holds its first instant and
    not its end, which is the next month's first instant, so an instant is in one month.
#}
{% macro in_month(instant, month) -%}
    {{ instant }} >= {{ month }}.month_start_utc and {{ instant }} < {{ month }}.month_end_utc
{%- endmacro %}
