-- Lifecycle events a revision counts for none of its stages: per revision month started by
-- as_of, the events in the month whose value the revision does not know, neither as a stage
-- nor in its ignored_crm_values (the loader keeps every value some revision knows; recycled
-- and disqualified mean the same everywhere and are left out). Such an event is another
-- revision's or another agreement's vocabulary: a renamed stage whose old id the new revision
-- does not list, say, loses those events from its volumes. mapped_by names the other
-- revisions of the same agreement that map the value, the likely slip that the run and the
-- report warn about; a value only other agreements know is most often simply not part of
-- this funnel.

with

months as (

    select * from {{ ref('int_agreement_months_as_of') }}

),

lifecycle_events as (

    select * from {{ ref('stg_crm__lifecycle_events') }}

),

stage_values as (

    select * from {{ ref('stg_agreement__stage_values') }}

),

ignored_values as (

    select * from {{ ref('stg_agreement__ignored_values') }}

),

revisions as (

    select * from {{ ref('stg_agreement__revisions') }}

),

-- What each revision knows: the values of its stages, and those it lists as none of its
-- stages (known, not forgotten).
known_values as (

    select agreement, revision, stage_value from stage_values
    union all
    select agreement, revision, stage_value from ignored_values

),

-- The few distinct values first: events are then matched on the values a revision does not
-- know only, so revisions sharing one vocabulary (the usual case) read no event a second time.
event_values as (

    select distinct stage_value
    from lifecycle_events

),

unknown_values as (

    select
        revisions.agreement,
        revisions.revision,
        event_values.stage_value

    from revisions
    cross join event_values

    where event_values.stage_value not in ('recycled', 'disqualified')
        and not exists (
            select 1
            from known_values
            where known_values.agreement = revisions.agreement
                and known_values.revision = revisions.revision
                and known_values.stage_value = event_values.stage_value
        )

),

unmapped_events as (

    select
        months.agreement,
        months.revision,
        months.period,
        lifecycle_events.stage_value,
        count(*) as events

    from lifecycle_events
    inner join unknown_values
        on lifecycle_events.stage_value = unknown_values.stage_value
    inner join months
        on unknown_values.agreement = months.agreement
        and unknown_values.revision = months.revision
        and {{ funnelpact.in_month('lifecycle_events.occurred_at', 'months') }}

    where lifecycle_events.occurred_at <= months.as_of

    group by months.agreement, months.revision, months.period, lifecycle_events.stage_value

),

other_revisions as (

    select
        unknown_values.agreement,
        unknown_values.revision,
        unknown_values.stage_value,
        {{ dbt.listagg('stage_values.revision', "', '", 'order by stage_values.revision') }} as mapped_by

    from unknown_values
    inner join stage_values
        on unknown_values.agreement = stage_values.agreement
        and unknown_values.stage_value = stage_values.stage_value

    group by unknown_values.agreement, unknown_values.revision, unknown_values.stage_value

),

final as (

    select
        unmapped_events.agreement,
        unmapped_events.revision,
        unmapped_events.period,
        unmapped_events.stage_value,
        unmapped_events.events,
        other_revisions.mapped_by

    from unmapped_events
    left join other_revisions
        on unmapped_events.agreement = other_revisions.agreement
        and unmapped_events.revision = other_revisions.revision
        and unmapped_events.stage_value = other_revisions.stage_value

)

select * from final
