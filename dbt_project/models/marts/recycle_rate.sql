-- Recycle rate per revision month (SPEC section 3): contacts whose MQL entry falls in the
-- month and that have a `recycled` event (at any time up to as_of), / Volume(mql, P).
-- Final once the month is closed and its MQLs' decision window has passed
-- (month end + decision days <= as_of): rejections are due within that window.

with

months as (

    select * from {{ ref('int_agreement_months_as_of') }}

),

revisions as (

    select * from {{ ref('stg_agreement__revisions') }}

),

funnel_volumes as (

    select * from {{ ref('funnel_volumes') }}

),

handoffs as (

    select * from {{ ref('int_mql_handoffs') }}

),

recycled as (

    select
        agreement,
        revision,
        period,
        sum(case when has_recycled_event then 1 else 0 end) as recycled_mqls

    from handoffs
    group by agreement, revision, period

),

final as (

    select
        months.agreement,
        months.revision,
        months.period,
        case when mql_volumes.has_data then coalesce(recycled.recycled_mqls, 0) end as recycled_mqls,
        mql_volumes.volume as mql_volume,
        case
            when mql_volumes.has_data
                then {{ funnelpact.safe_divide('coalesce(recycled.recycled_mqls, 0)', 'mql_volumes.volume') }}
        end as recycle_rate,
        {{ dbt.dateadd('second', 'round(coalesce(revisions.decision_days, 0) * 86400)', 'months.month_end_utc') }}
            as final_at,
        {{ dbt.dateadd('second', 'round(coalesce(revisions.decision_days, 0) * 86400)', 'months.month_end_utc') }}
            <= {{ as_of() }} as is_final,
        mql_volumes.has_data

    from months
    inner join funnel_volumes as mql_volumes
        on months.agreement = mql_volumes.agreement
        and months.revision = mql_volumes.revision
        and months.period = mql_volumes.period
        and mql_volumes.stage_id = 'mql'
    inner join revisions
        on months.agreement = revisions.agreement
        and months.revision = revisions.revision
    left join recycled
        on months.agreement = recycled.agreement
        and months.revision = recycled.revision
        and months.period = recycled.period

)

select * from final
