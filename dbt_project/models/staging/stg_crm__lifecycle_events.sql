with

source as (

    select * from {{ source('crm', 'lifecycle_events') }}

),

final as (

    select
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(stage as {{ dbt.type_string() }}) as stage_value,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(reason as {{ dbt.type_string() }}) as reason

    from source

)

select * from final
