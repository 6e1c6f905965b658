with

source as (

    select * from {{ source('web', 'web_sessions') }}

),

final as (

    select
        cast({{ adapter.quote('date') }} as date) as session_date,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(sessions as {{ dbt.type_bigint() }}) as sessions

    from source

)

select * from final
