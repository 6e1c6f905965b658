-- Entry of a contact into each funnel stage, per revision's stage order (SPEC section 3):
-- the earliest occurred_at among the contact's events whose stage is S or any later stage.
-- So skipped stages get an implied entry, entries never decrease along the funnel, and a
-- re-entry (recycled, then qualified again) never creates a second entry.
-- Computed per revision because revisions may order or name stages differently.

with

lifecycle_events as (

    select * from {{ ref('stg_crm__lifecycle_events') }}

),

stages as (

    select * from {{ ref('stg_agreement__stages') }}

),

-- recycled / disqualified (and unknown ids) match no stage: they are not funnel stages.
known_events as (

    select
        stages.agreement,
        stages.revision,
        lifecycle_events.contact_id,
        stages.stage_position,
        lifecycle_events.occurred_at

    from lifecycle_events
    inner join stages
        on lifecycle_events.stage = stages.stage_id

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

furthest_stage as (

    select
        agreement,
        revision,
        contact_id,
        max(stage_position) as furthest_position

    from first_event_per_stage
    group by agreement, revision, contact_id

),

-- Every stage up to the furthest one reached: at most (number of stages) rows per contact.
stage_grid as (

    select
        furthest_stage.agreement,
        furthest_stage.revision,
        furthest_stage.contact_id,
        stages.stage_id,
        stages.stage_position

    from furthest_stage
    inner join stages
        on furthest_stage.agreement = stages.agreement
        and furthest_stage.revision = stages.revision
        and stages.stage_position <= furthest_stage.furthest_position

),

entries as (

    select
        stage_grid.agreement,
        stage_grid.revision,
        stage_grid.contact_id,
        stage_grid.stage_id,
        stage_grid.stage_position,
        first_event_per_stage.first_event_at,
        -- running minimum from the bottom of the funnel up: this stage or any later one
        min(first_event_per_stage.first_event_at) over (
            partition by stage_grid.agreement, stage_grid.revision, stage_grid.contact_id
            order by stage_grid.stage_position desc
            rows between unbounded preceding and current row
        ) as entered_at

    from stage_grid
    left join first_event_per_stage
        on stage_grid.agreement = first_event_per_stage.agreement
        and stage_grid.revision = first_event_per_stage.revision
        and stage_grid.contact_id = first_event_per_stage.contact_id
        and stage_grid.stage_position = first_event_per_stage.stage_position

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
