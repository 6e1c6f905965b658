-- One row per MQL entry, judged by the revision in force for the month of that entry
-- (the revision whose window holds it), with that revision's stage order: the first sales
-- touch and the decision (entry into the stage after mql, or a recycled / disqualified
-- event, at or after the MQL entry), each in_time / breach / pending as of the run.
-- Revisions without a stage `mql` have no hand-offs.

with

stage_entries as (

    select * from {{ ref('int_stage_entries') }}

),

stages as (

    select * from {{ ref('stg_agreement__stages') }}

),

revisions as (

    select * from {{ ref('stg_agreement__revisions') }}

),

months as (

    select * from {{ ref('stg_agreement__months') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

lifecycle_events as (

    select * from {{ ref('stg_crm__lifecycle_events') }}

),

mql_stages as (

    select agreement, revision, stage_position
    from stages
    where stage_id = 'mql'

),

next_stages as (

    select
        stages.agreement,
        stages.revision,
        stages.stage_id as next_stage_id

    from stages
    inner join mql_stages
        on stages.agreement = mql_stages.agreement
        and stages.revision = mql_stages.revision
        and stages.stage_position = mql_stages.stage_position + 1

),

mql_entries as (

    select
        stage_entries.agreement,
        stage_entries.revision,
        months.period,
        stage_entries.contact_id,
        stage_entries.entered_at as mql_entered_at

    from stage_entries
    inner join months
        on stage_entries.agreement = months.agreement
        and stage_entries.revision = months.revision
        and {{ funnelpact.in_month('stage_entries.entered_at', 'months') }}

    where stage_entries.stage_id = 'mql'

),

first_touches as (

    select
        mql_entries.agreement,
        mql_entries.revision,
        mql_entries.contact_id,
        min(activities.occurred_at) as first_touch_at

    from mql_entries
    inner join activities
        on mql_entries.contact_id = activities.contact_id
        and activities.occurred_at >= mql_entries.mql_entered_at

    where activities.team = 'sales'
        and activities.occurred_at <= {{ as_of() }}

    group by mql_entries.agreement, mql_entries.revision, mql_entries.contact_id

),

-- Everything that counts as a decision, at or after the MQL entry.
decision_candidates as (

    select
        mql_entries.agreement,
        mql_entries.revision,
        mql_entries.contact_id,
        stage_entries.entered_at as decided_at,
        stage_entries.stage_id as decision,
        1 as priority

    from mql_entries
    inner join next_stages
        on mql_entries.agreement = next_stages.agreement
        and mql_entries.revision = next_stages.revision
    inner join stage_entries
        on mql_entries.agreement = stage_entries.agreement
        and mql_entries.revision = stage_entries.revision
        and mql_entries.contact_id = stage_entries.contact_id
        and stage_entries.stage_id = next_stages.next_stage_id

    where stage_entries.entered_at >= mql_entries.mql_entered_at

    union all

    select
        mql_entries.agreement,
        mql_entries.revision,
        mql_entries.contact_id,
        lifecycle_events.occurred_at as decided_at,
        lifecycle_events.stage_value as decision,
        case when lifecycle_events.stage_value = 'disqualified' then 2 else 3 end as priority

    from mql_entries
    inner join lifecycle_events
        on mql_entries.contact_id = lifecycle_events.contact_id
        and lifecycle_events.occurred_at >= mql_entries.mql_entered_at

    -- Fixed words, the same in every revision (SPEC section 2), never a revision's stage.
    where lifecycle_events.stage_value in ('recycled', 'disqualified')
        and lifecycle_events.occurred_at <= {{ as_of() }}

),

first_decisions as (

    select
        agreement,
        revision,
        contact_id,
        decided_at,
        decision,
        row_number() over (
            partition by agreement, revision, contact_id
            order by decided_at, priority
        ) as decision_rank

    from decision_candidates

),

-- Recycle rate (SPEC section 3) counts MQLs that have a recycled event, whenever it was.
recycled_contacts as (

    select distinct contact_id
    from lifecycle_events
    where stage_value = 'recycled'
        and occurred_at <= {{ as_of() }}

),

deadlines as (

    select
        mql_entries.agreement,
        mql_entries.revision,
        mql_entries.period,
        mql_entries.contact_id,
        mql_entries.mql_entered_at,
        first_touches.first_touch_at,
        {{ funnelpact.handoff_deadline('mql_entries.mql_entered_at', 'revisions.first_touch_hours', 'hour') }}
            as first_touch_deadline,
        first_decisions.decided_at,
        first_decisions.decision,
        {{ funnelpact.handoff_deadline('mql_entries.mql_entered_at', 'revisions.decision_days', 'day') }}
            as decision_deadline,
        recycled_contacts.contact_id is not null as has_recycled_event

    from mql_entries
    inner join revisions
        on mql_entries.agreement = revisions.agreement
        and mql_entries.revision = revisions.revision
    left join first_touches
        on mql_entries.agreement = first_touches.agreement
        and mql_entries.revision = first_touches.revision
        and mql_entries.contact_id = first_touches.contact_id
    left join first_decisions
        on mql_entries.agreement = first_decisions.agreement
        and mql_entries.revision = first_decisions.revision
        and mql_entries.contact_id = first_decisions.contact_id
        and first_decisions.decision_rank = 1
    left join recycled_contacts
        on mql_entries.contact_id = recycled_contacts.contact_id

),

final as (

    select
        agreement,
        revision,
        period,
        contact_id,
        mql_entered_at,
        first_touch_at,
        first_touch_deadline,
        {{ funnelpact.handoff_status('first_touch_at', 'first_touch_deadline') }} as first_touch_status,
        decided_at,
        decision,
        decision_deadline,
        {{ funnelpact.handoff_status('decided_at', 'decision_deadline') }} as decision_status,
        has_recycled_event

    from deadlines

)

select * from final
