{#
    The instant a hand-off limit of `amount` hours or days (`unit`: 'hour' or 'day'; the
    agreement allows fractions, 1.5 hours) runs out after `start`, to the whole second
    (dbt.dateadd adds whole units). One definition for an MQL's deadlines
    (int_mql_handoffs) and for the end of a month plus the limit, after which none of its
    MQLs can still be pending (handoff_attainment, recycle_rate): rounded alike, they agree.
    A null amount (no such rule) gives null.
#}
{% macro handoff_deadline(start, amount, unit) -%}
    {%- if unit == 'hour' -%}
        {%- set seconds = 3600 -%}
    {%- elif unit == 'day' -%}
        {%- set seconds = 86400 -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("handoff_deadline: unit must be 'hour' or 'day', got '" ~ unit ~ "'") }}
    {%- endif -%}
    {{ dbt.dateadd('second', 'round(' ~ amount ~ ' * ' ~ seconds ~ ')', start) }}
{%- endmacro %}
