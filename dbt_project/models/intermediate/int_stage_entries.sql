-- Entry of a contact into each funnel stage, per revision's stage order (SPEC section 3):
-- the earliest occurred_at among the contact's events whose stage is S or any later stage.
-- So skipped stages get an implied entry, entries never decrease along the funnel, and a
-- re-entry (recycled, then qualified again) never creates a second entry.
-- Computed per revision because revisions may order or name stages differently, and each
-- maps lifecycle values onto its stages with its own vocabulary (stg_agreement__stage_values:
-- a renamed stage's old id may mean the new stage in one revision and itself in another).
--
-- Only for contacts with a stage event inside one of the revision's months (its window):
-- every entry is an event's time, so another contact has no entry inside the window, and
-- every mart takes the entries inside its revision's months. A contact in the window keeps
-- all its entries, before and after it (cohorts convert after their month). The model's
-- rows, and its aggregation, follow the contacts active in each revision's months, not the
-- length of the CRM's history (docs/performance.md).

with

lifecycle_events as (

    select * from {{ ref('stg_crm__lifecycle_events') }}

),

stages as (

    select * from {{ ref('stg_agreement__stages') }}

),

stage_values as (

    select * from {{ ref('stg_agreement__stage_values') }}

),

months as (

    select * from {{ ref('stg_agreement__months') }}

),

-- Each revision's effective window, its months end to end.
windows as (

    select
        agreement,
        revision,
        min(month_start_utc) as window_start,
        max(month_end_utc) as window_end

    from months
    group by agreement, revision

),

-- Each revision's values with the position of the stage they mean there: a few rows per
-- stage, so events are joined on one key, as they were on the stage id.
value_positions as (

    select
        stage_values.agreement,
        stage_values.revision,
        stage_values.stage_value,
        stages.stage_position

    from stage_values
    inner join stages
        on stage_values.agreement = stages.agreement
        and stage_values.revision = stages.revision
        and stage_values.stage_id = stages.stage_id

),

-- The contacts with a stage event inside one of the revision's months: the events inside
-- each window first (a range join on time: an event lies in at most one window of an
-- agreement), then the revision's vocabulary. recycled / disqualified, and values of other
-- revisions' vocabularies, match no stage of the revision: they count for none of its stages
-- (marts.unmapped_stage_events counts them).
contacts_in_window as (

    select distinct
        windows.agreement,
        windows.revision,
        lifecycle_events.contact_id

    from lifecycle_events
    inner join windows
        on lifecycle_events.occurred_at >= windows.window_start
        and lifecycle_events.occurred_at < windows.window_end
    inner join value_positions
        on windows.agreement = value_positions.agreement
        and windows.revision = value_positions.revision
        and lifecycle_events.stage_value = value_positions.stage_value

    where lifecycle_events.occurred_at <= {{ as_of() }}

),

-- Then every stage event of those contacts only, before and after the window, read with the
-- revision's vocabulary. Joining all events to every revision that knows their value first
-- made events x revisions rows: 16M for 300k contacts under 36 monthly revisions, where
-- these are 1.6M (docs/performance.md).
known_events as (

    select
        contacts_in_window.agreement,
        contacts_in_window.revision,
        contacts_in_window.contact_id,
        value_positions.stage_position,
        lifecycle_events.occurred_at

    from contacts_in_window
    inner join lifecycle_events
        on contacts_in_window.contact_id = lifecycle_events.contact_id
    inner join value_positions
        on contacts_in_window.agreement = value_positions.agreement
        and contacts_in_window.revision = value_positions.revision
        and lifecycle_events.stage_value = value_positions.stage_value

    where lifecycle_events.occurred_at <= {{ as_of() }}

),

first_event_per_stage as (

    select
        agreement,
        revision,
        contact_id,
        stage_position,
        min(occurred_at) as first_event_at

    from known_events
    group by agreement, revision, contact_id, stage_position

),

-- Every stage up to the furthest one reached (at most the number of stages per contact):
-- each event's first time counts for its own stage and every earlier one, and the entry is
-- the earliest of them - a minimum over this stage or any later one. One range join and one
-- aggregate; the former grid + window over it took 6.6 s where this takes 3.5 s on 3.3M
-- events (bench/, 2M contacts), with identical rows.
entries as (

    select
        first_event_per_stage.agreement,
        first_event_per_stage.revision,
        first_event_per_stage.contact_id,
        stages.stage_id,
        stages.stage_position,
        min(case
            when first_event_per_stage.stage_position = stages.stage_position
                then first_event_per_stage.first_event_at
        end) as first_event_at,
        min(first_event_per_stage.first_event_at) as entered_at

    from first_event_per_stage
    inner join stages
        on first_event_per_stage.agreement = stages.agreement
        and first_event_per_stage.revision = stages.revision
        and stages.stage_position <= first_event_per_stage.stage_position

    group by
        first_event_per_stage.agreement,
        first_event_per_stage.revision,
        first_event_per_stage.contact_id,
        stages.stage_id,
        stages.stage_position

),

final as (

    select
        agreement,
        revision,
        contact_id,
        stage_id,
        stage_position,
        entered_at,
        case
            when first_event_at is null then true
            when first_event_at > entered_at then true
            else false
        end as is_implied

    from entries

)

select * from final
