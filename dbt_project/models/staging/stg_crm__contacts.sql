with

source as (

    select * from {{ source('crm', 'contacts') }}

),

final as (

    select
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(source as {{ dbt.type_string() }}) as source,
        cast(persona as {{ dbt.type_string() }}) as persona,
        cast(seniority as {{ dbt.type_string() }}) as seniority,
        cast(country as {{ dbt.type_string() }}) as country

    from source

)

select * from final
