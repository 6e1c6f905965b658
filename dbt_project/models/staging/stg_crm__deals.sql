with

source as (

    select * from {{ source('crm', 'deals') }}

),

final as (

    select
        cast(deal_id as {{ dbt.type_string() }}) as deal_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        cast(currency as {{ dbt.type_string() }}) as currency

    from source

)

select * from final
