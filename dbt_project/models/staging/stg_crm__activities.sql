with

source as (

    select * from {{ source('crm', 'activities') }}

),

final as (

    select
        cast(activity_id as {{ dbt.type_string() }}) as activity_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(team as {{ dbt.type_string() }}) as team,
        cast(type as {{ dbt.type_string() }}) as activity_type

    from source

)

select * from final
