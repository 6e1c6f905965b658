{#
    numerator / denominator as a float; null when the denominator is 0 or null. A rate over
    nobody is unknown, not 0% and not 100%: the checks report it as no figure.
#}
{% macro safe_divide(numerator, denominator) -%}
    case
        when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
        else cast(({{ numerator }}) as {{ funnelpact.type_double() }}) / ({{ denominator }})
    end
{%- endmacro %}
