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
        -- Wider than the loader's decimal(26,6) (pipelines/data/tables.py), so a month's
        -- sum of won amounts has 12 digits to spare; dbt's numeric is only (28,6).
        cast(amount as {{ api.Column.numeric_type('numeric', 38, 6) }}) as amount,
        cast(currency as {{ dbt.type_string() }}) as currency

    from source

)

select * from final
