-- Volume(S, P) per revision month: contacts whose entry into S falls in the month; for the
-- stage `visit`, the sum of web sessions over the month's local dates that have begun.
-- weighted_volume: sum of the contacts' lead values (product of the seniority and persona
-- weights, each 1 when the agreement names none), summed as decimals so an exact hit is not
-- judged a miss; the scorecard uses it for mql.

with

months as (

    select * from {{ ref('int_agreement_months_as_of') }}

),

stages as (

    select * from {{ ref('stg_agreement__stages') }}

),

stage_entries as (

    select * from {{ ref('int_stage_entries') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

lead_weights as (

    select * from {{ ref('stg_agreement__lead_weights') }}

),

web_sessions as (

    select * from {{ ref('stg_web__sessions') }}

),

days as (

    select * from {{ ref('stg_agreement__days') }}

),

presence as (

    select * from {{ ref('int_source_presence') }}

),

-- Weights match a contact's value in any case and either Unicode form: an export from macOS
-- may write "ä" as "a" + a combining accent, which looks the same (agreement.validate refuses
-- two keys that compare equal).
seniority_weights as (

    select agreement, revision, lower(nfc_normalize(trim(dimension_value))) as dimension_value, weight
    from lead_weights
    where dimension = 'seniority'

),

persona_weights as (

    select agreement, revision, lower(nfc_normalize(trim(dimension_value))) as dimension_value, weight
    from lead_weights
    where dimension = 'persona'

),

contact_volumes as (

    select
        months.agreement,
        months.revision,
        months.period,
        stage_entries.stage_id,
        count(*) as volume,
        sum(coalesce(seniority_weights.weight, 1) * coalesce(persona_weights.weight, 1))
            as weighted_volume

    from stage_entries
    inner join months
        on stage_entries.agreement = months.agreement
        and stage_entries.revision = months.revision
        and {{ funnelpact.in_month('stage_entries.entered_at', 'months') }}
    left join contacts
        on stage_entries.contact_id = contacts.contact_id
    left join seniority_weights
        on stage_entries.agreement = seniority_weights.agreement
        and stage_entries.revision = seniority_weights.revision
        and lower(nfc_normalize(contacts.seniority)) = seniority_weights.dimension_value
    left join persona_weights
        on stage_entries.agreement = persona_weights.agreement
        and stage_entries.revision = persona_weights.revision
        and lower(nfc_normalize(contacts.persona)) = persona_weights.dimension_value

    group by months.agreement, months.revision, months.period, stage_entries.stage_id

),

-- A local date counts once it has begun as of the run (its first instant, from Python's
-- timezone database: after a DST change the day starts an hour earlier or later in UTC).
visit_volumes as (

    select
        months.agreement,
        months.revision,
        months.period,
        sum(web_sessions.sessions) as volume

    from months
    inner join days
        on months.agreement = days.agreement
        and months.revision = days.revision
        and months.period = days.period
    inner join web_sessions
        on web_sessions.session_date = days.local_date

    where days.day_start_utc <= months.as_of

    group by months.agreement, months.revision, months.period

),

-- Every stage of every started month, with whether the tables its volume needs were loaded.
stage_months as (

    select
        months.agreement,
        months.revision,
        months.period,
        stages.stage_id,
        stages.stage_position,
        stages.stage_owner,
        case
            when stages.stage_id = 'visit' then presence.has_web_sessions
            else presence.has_funnel_data
        end as has_data

    from months
    inner join stages
        on months.agreement = stages.agreement
        and months.revision = stages.revision
    cross join presence

),

final as (

    select
        stage_months.agreement,
        stage_months.revision,
        stage_months.period,
        stage_months.stage_id,
        stage_months.stage_position,
        stage_months.stage_owner,
        case
            when not stage_months.has_data then null
            when stage_months.stage_id = 'visit' then coalesce(visit_volumes.volume, 0)
            else coalesce(contact_volumes.volume, 0)
        end as volume,
        case
            when stage_months.has_data and stage_months.stage_id <> 'visit'
                then coalesce(contact_volumes.weighted_volume, 0)
        end as weighted_volume,
        stage_months.has_data

    from stage_months
    left join contact_volumes
        on stage_months.agreement = contact_volumes.agreement
        and stage_months.revision = contact_volumes.revision
        and stage_months.period = contact_volumes.period
        and stage_months.stage_id = contact_volumes.stage_id
    left join visit_volumes
        on stage_months.agreement = visit_volumes.agreement
        and stage_months.revision = visit_volumes.revision
        and stage_months.period = visit_volumes.period

)

select * from final
