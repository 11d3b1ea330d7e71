{#- Every version of every export file the importer read (connectors/files): one row per file name and content
    hash, kept when the file changes or leaves the folder (raw_files.imports is history, insert-only), with the
    mapping it was read with, the rows it loaded and set aside, and when that version was first imported. The
    shop is the one its rows carry, else the file name's (`<shop_id>__*`, as stg_files__quarantine takes it). -#}
with source as (
    select * from {{ raw_source('raw_files', 'imports') }}
),

renamed as (
    select
        source_file,
        file_sha256,
        coalesce(
            shop_id,
            case when strpos(source_file, '__') > 1 then split_part(source_file, '__', 1) end
        ) as shop_id,
        mapping,
        entity,
        cast(coalesce(rows_loaded, 0) as integer) as rows_loaded,
        cast(coalesce(rows_set_aside, 0) as integer) as rows_set_aside,
        cast(imported_at as timestamptz) as imported_at
    from source
)

select * from renamed
