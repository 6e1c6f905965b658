{#
    The pace forecast of SPEC section 4, figure * days_in_month / days_elapsed, rounded once.
    `figure` is the KPI's exact decimal (a count, a weighted count, an amount; null where it
    has none), `actual` the same figure as a double.

    In doubles the product rounds before the division does: 1000.05 * 31 / 10 gave
    3100.1549999999997, below a bound of exactly 3100.155 that the month is on pace for, so
    the checks judged it at risk. Here figure * days_in_month, an exact decimal of 12 places,
    is a whole number of units of 10^-12; divided by their greatest common divisor, the units
    and 10^12 are exact doubles whenever the product has up to 15 significant digits (any
    count, an amount in cents), and so is the reduced power of ten times days_elapsed when
    the days elapsed are whole, halves or quarters (a run at a local midnight, or at 06:00 as
    the daily schedule runs). The division is then the only rounding. A share of a 23- or
    25-hour day is itself a rounded double: the forecast is then as exact as that share.
    Figures of 10^12 or more, whose units would overflow DECIMAL(38, 12), and engines other
    than DuckDB take the double formula.
#}
{% macro pace_forecast(figure, actual, days_in_month, days_elapsed) -%}
    {{ return(adapter.dispatch('pace_forecast', 'funnelpact')(figure, actual, days_in_month, days_elapsed)) }}
{%- endmacro %}

{% macro default__pace_forecast(figure, actual, days_in_month, days_elapsed) -%}
    {{ actual }} * {{ days_in_month }} / {{ days_elapsed }}
{%- endmacro %}

{% macro duckdb__pace_forecast(figure, actual, days_in_month, days_elapsed) -%}
    {%- set units = 'cast(' ~ figure ~ ' * ' ~ days_in_month ~ ' * 1000000000000 as hugeint)' -%}
    {%- set common = 'gcd(' ~ units ~ ', cast(1000000000000 as hugeint))' -%}
    case
        when {{ figure }} < 1000000000000
            then cast({{ units }} // {{ common }} as double)
                / (cast(1000000000000 // {{ common }} as double) * {{ days_elapsed }})
        else {{ funnelpact.default__pace_forecast(figure, actual, days_in_month, days_elapsed) }}
    end
{%- endmacro %}
