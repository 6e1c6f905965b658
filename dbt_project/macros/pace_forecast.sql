{#
    The pace forecast of SPEC section 4, figure * days_in_month / days_elapsed, rounded once.
    `figure` is the KPI's exact decimal (a count, a weighted count, an amount; null where it
    has none), `actual` the same figure as a double.

    In doubles the product rounds before the division does: 1000.05 * 31 / 10 gave
    3100.1549999999997, below a bound of exactly 3100.155 that the month is on pace for, so
    the checks judged it at risk. Here figure * days_in_month, an exact decimal of 12 places,
    becomes a whole number of 10^-12 over 10^12, reduced to lowest terms: for a product of up
    to 15 significant digits (every cent of a month's revenue below 10^13) both are exact
    doubles, and so is 10^12's share times days_elapsed when the days elapsed are whole,
    halves or quarters (a run at a local midnight, or at 06:00 as the daily schedule runs), so
    the division is the only rounding. (A share of a 23- or 25-hour day is itself a rounded
    double.) Figures from 10^12 on take the double, as other engines do: 10^12 keeps the
    product times 10^12 inside DECIMAL(38, 12).
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
