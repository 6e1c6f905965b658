-- Hand-off attainment per revision month and rule (first_touch, decision), over the MQLs
-- whose MQL entry falls in the month: in time / (in time + breach); pending ones wait.
-- Final once no MQL of the month can still be pending: month end + the limit <= as_of.
-- Revisions without a stage `mql` have no rows.

with

months as (

    select * from {{ ref('int_agreement_months_as_of') }}

),

stages as (

    select * from {{ ref('stg_agreement__stages') }}

),

revisions as (

    select * from {{ ref('stg_agreement__revisions') }}

),

handoffs as (

    select * from {{ ref('int_mql_handoffs') }}

),

presence as (

    select * from {{ ref('int_source_presence') }}

),

rules as (

    select 'first_touch' as rule union all select 'decision' as rule

),

statuses as (

    select agreement, revision, period, 'first_touch' as rule, first_touch_status as status
    from handoffs

    union all

    select agreement, revision, period, 'decision' as rule, decision_status as status
    from handoffs

),

counts as (

    select
        agreement,
        revision,
        period,
        rule,
        sum(case when status = 'in_time' then 1 else 0 end) as in_time,
        sum(case when status = 'breach' then 1 else 0 end) as breach,
        sum(case when status = 'pending' then 1 else 0 end) as pending

    from statuses
    group by agreement, revision, period, rule

),

rule_months as (

    select
        months.agreement,
        months.revision,
        months.period,
        rules.rule,
        case rules.rule
            when 'first_touch'
                then {{ funnelpact.handoff_deadline('months.month_end_utc', 'revisions.first_touch_hours', 'hour') }}
            else {{ funnelpact.handoff_deadline('months.month_end_utc', 'revisions.decision_days', 'day') }}
        end as final_at,
        case rules.rule
            when 'first_touch' then revisions.first_touch_attainment
            else revisions.decision_attainment
        end as agreed_attainment,
        case rules.rule
            when 'first_touch' then presence.has_activities
            else presence.has_funnel_data
        end as has_data

    from months
    inner join stages
        on months.agreement = stages.agreement
        and months.revision = stages.revision
        and stages.stage_id = 'mql'
    inner join revisions
        on months.agreement = revisions.agreement
        and months.revision = revisions.revision
    cross join rules
    cross join presence

),

final as (

    select
        rule_months.agreement,
        rule_months.revision,
        rule_months.period,
        rule_months.rule,
        rule_months.agreed_attainment,
        case when rule_months.has_data then coalesce(counts.in_time, 0) end as in_time,
        case when rule_months.has_data then coalesce(counts.breach, 0) end as breach,
        case when rule_months.has_data then coalesce(counts.pending, 0) end as pending,
        case
            when rule_months.has_data
                then {{ funnelpact.safe_divide('counts.in_time', 'counts.in_time + counts.breach') }}
        end as attainment,
        rule_months.final_at,
        rule_months.final_at <= {{ as_of() }} as is_final,
        rule_months.has_data

    from rule_months
    left join counts
        on rule_months.agreement = counts.agreement
        and rule_months.revision = counts.revision
        and rule_months.period = counts.period
        and rule_months.rule = counts.rule

)

select * from final
