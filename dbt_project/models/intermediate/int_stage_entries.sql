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

windows as (

    select
        agreement,
        revision,
        min(month_start_utc) as window_start,
        max(month_end_utc) as window_end

    from {{ ref('stg_agreement__months') }}
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

-- recycled / disqualified, and values of other revisions' vocabularies, match no stage of
-- the revision: they count for none of its stages (marts.unmapped_stage_events counts them).
known_events as (

    select
        value_positions.agreement,
        value_positions.revision,
        lifecycle_events.contact_id,
        value_positions.stage_position,
        lifecycle_events.occurred_at,
        windows.window_start,
        windows.window_end

    from lifecycle_events
    inner join value_positions
        on lifecycle_events.stage_value = value_positions.stage_value
    inner join windows
        on value_positions.agreement = windows.agreement
        and value_positions.revision = windows.revision

    where lifecycle_events.occurred_at <= {{ as_of() }}

),

contacts_in_window as (

    select distinct
        agreement,
        revision,
        contact_id

    from known_events
    where occurred_at >= window_start
        and occurred_at < window_end

),

first_event_per_stage as (

    select
        known_events.agreement,
        known_events.revision,
        known_events.contact_id,
        known_events.stage_position,
        min(known_events.occurred_at) as first_event_at

    from known_events
    inner join contacts_in_window
        on known_events.agreement = contacts_in_window.agreement
        and known_events.revision = contacts_in_window.revision
        and known_events.contact_id = contacts_in_window.contact_id

    group by
        known_events.agreement,
        known_events.revision,
        known_events.contact_id,
        known_events.stage_position

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
