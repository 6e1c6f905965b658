{#
    Models land in exactly the schema named in dbt_project.yml (`staging`, `intermediate`,
    `marts`), not dbt's default `<target schema>_<custom schema>`: the checks, the CLI and
    the report query `marts.scorecard` by that name on every target.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
