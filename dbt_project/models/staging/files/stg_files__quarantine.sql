{#- Rows of platform exports the file importer could not accept (connectors/files), one per file row; a whole
    file it could not read is row_number 0. The shop comes from the file name (`<shop_id>__*.csv|xlsx`), as the
    importer takes it; null when the name has none (that is then the reason). -#}
with source as (
    select * from {{ raw_source('raw_files', 'quarantine') }}
),

renamed as (
    select
        source_file,
        file_sha256,
        coalesce(sheet, '') as sheet,
        cast(row_number as integer) as row_number,
        reason,
        cast(raw_row as varchar) as raw_row,
        cast(loaded_at as timestamptz) as loaded_at,
        case when strpos(source_file, '__') > 1 then split_part(source_file, '__', 1) end as shop_id
    from source
)

select * from renamed
