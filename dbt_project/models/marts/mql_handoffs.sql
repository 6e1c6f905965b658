-- Hand-offs per MQL, with the status of the first touch and of the decision as of the run.
-- first_touch_status is null when activities were absent from the load (no_data).

with

handoffs as (

    select * from {{ ref('int_mql_handoffs') }}

),

presence as (

    select * from {{ ref('int_source_presence') }}

),

final as (

    select
        handoffs.agreement,
        handoffs.revision,
        handoffs.period,
        handoffs.contact_id,
        handoffs.mql_entered_at,
        handoffs.first_touch_at,
        handoffs.first_touch_deadline,
        case when presence.has_activities then handoffs.first_touch_status end as first_touch_status,
        handoffs.decided_at,
        handoffs.decision,
        handoffs.decision_deadline,
        handoffs.decision_status,
        handoffs.has_recycled_event

    from handoffs
    cross join presence

)

select * from final
