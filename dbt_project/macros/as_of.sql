{#
    The as-of instant as a SQL timestamp literal (UTC, without time zone, like every
    timestamp in the warehouse). From the `as_of` var ('YYYY-MM-DD HH:MM:SS'; a 'T' instead
    of the space and a date alone, meaning its midnight, are accepted too), else from the
    environment variable FUNNELPACT_AS_OF (same format); when neither is set, the current UTC
    time at compile time. The pipeline passes the environment variable: a --vars value enters
    dbt's partial-parse hash, so a new as_of every run re-parsed the whole project (~4 s of
    the ~30 s fixed cost measured by bench/). The variable is read only when executing, so
    parsing never records it. A malformed value stops the compilation
    with a message instead of silently comparing strings.
#}
{% macro as_of() -%}
    {{ return(adapter.dispatch('as_of', 'funnelpact')()) }}
{%- endmacro %}

{% macro default__as_of() -%}
    {%- set raw = var('as_of', none) -%}
    {%- if (raw is none or (raw | string | trim) == '') and execute -%}
        {%- set raw = env_var('FUNNELPACT_AS_OF', '') -%}
    {%- endif -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {%- set instant = modules.datetime.datetime.now(modules.pytz.utc) -%}
        {%- set text = instant.strftime('%Y-%m-%d %H:%M:%S') -%}
    {%- else -%}
        {%- set text = raw | string | trim | replace('T', ' ') -%}
        {%- if modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', text) -%}
            {%- set text = text ~ ' 00:00:00' -%}
        {%- endif -%}
        {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$', text) -%}
            {{ exceptions.raise_compiler_error("var as_of must be a UTC instant 'YYYY-MM-DD HH:MM:SS', got '" ~ raw ~ "'") }}
        {%- endif -%}
        {#- strptime rejects impossible dates such as 2026-02-30 -#}
        {%- set text = modules.datetime.datetime.strptime(text, '%Y-%m-%d %H:%M:%S').strftime('%Y-%m-%d %H:%M:%S') -%}
    {%- endif -%}
    cast('{{ text }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
