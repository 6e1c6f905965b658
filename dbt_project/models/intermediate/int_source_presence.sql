-- One row: which canonical tables were present in the load (raw.load_report). A KPI whose
-- table was absent is reported without a figure (status no_data), never as zero. A table
-- the load report does not mention counts as absent: no report, no claim.
-- has_funnel_data: what every figure built on stage entries needs (volumes of stages other
-- than visit, conversions, decisions, recycle rate), decided here once.

with

load_report as (

    select * from {{ ref('stg_crm__load_report') }}

),

tables_present as (

    select
        {% for table_name in ['contacts', 'lifecycle_events', 'activities', 'deals', 'web_sessions'] -%}
        coalesce(max(case when table_name = '{{ table_name }}' and is_present then 1 end), 0) = 1
            as has_{{ table_name }}{{ "," if not loop.last }}
        {% endfor %}

    from load_report

),

final as (

    select
        *,
        has_contacts and has_lifecycle_events as has_funnel_data

    from tables_present

)

select * from final
