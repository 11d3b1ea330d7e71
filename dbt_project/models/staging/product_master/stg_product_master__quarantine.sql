{#- Rows of the product master workbook the importer could not accept: the sheet, the Excel row number and
    what to fix (connectors/files/product_master). -#}
with source as (
    select * from {{ raw_source('raw_product_master', 'quarantine') }}
),

renamed as (
    select
        source_file,
        file_sha256,
        coalesce(sheet, '') as sheet,
        cast(row_number as integer) as row_number,
        reason,
        cast(raw_row as varchar) as raw_row,
        cast(loaded_at as timestamptz) as loaded_at
    from source
)

select * from renamed
