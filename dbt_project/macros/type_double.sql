{#
    A double-precision float. dbt.type_float() is `float` on every engine, which DuckDB
    reads as 4-byte single precision (0.33 became 0.330000013): rates and targets need 8.
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'funnelpact')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ dbt.type_float() }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}
