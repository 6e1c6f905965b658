{#
    SPEC section 3, first touch and decision: in time when it came at or before the
    deadline (exactly at the limit is in time), a breach when it came later or when nothing
    came and the deadline has passed as of the run, pending otherwise. No agreed limit: null.
#}
{% macro handoff_status(happened_at, deadline) -%}
    case
        when {{ deadline }} is null then null
        when {{ happened_at }} is not null and {{ happened_at }} <= {{ deadline }} then 'in_time'
        when {{ happened_at }} is not null then 'breach'
        when {{ deadline }} < {{ as_of() }} then 'breach'
        else 'pending'
    end
{%- endmacro %}
