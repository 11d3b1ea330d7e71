{#- Rows of the product master workbook the importer could not accept: the sheet, the Excel row number and
    what to fix (connectors/files/product_master). -#}
with source as (
    select * from {{ raw_source('raw_product_master', 'quarantine') }}
),

renamed as (
    select
        {{ quarantine_columns() }}
    from source
)

select * from renamed
