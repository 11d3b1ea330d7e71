{#- Every version of every export file the importer read, for the Data status page's list of imported files:
    its shop, the mapping it was read with, what it holds, the rows it loaded and set aside (at the latest
    import for a version in the folder now, else at its first; the set-aside rows and their reasons are in
    quarantined_rows, by source_file and file_sha256), and whether it is current: in the folder at the latest
    import (stg_files__folder). A file deleted from the folder has no current version (its rows left the
    warehouse with it). A file the importer could not read at all (quarantined as row 0 at the latest import)
    is a current version too, refused: no mapping, nothing loaded. -#}
with imports as (
    select * from {{ ref('stg_files__imports') }}
),

quarantine as (
    select * from {{ ref('stg_files__quarantine') }}
),

folder as (
    select * from {{ ref('stg_files__folder') }}
),

refused as (
    select
        quarantine.source_file,
        quarantine.file_sha256,
        quarantine.shop_id,
        min(quarantine.loaded_at) as imported_at
    from quarantine
    left join imports
        on quarantine.source_file = imports.source_file
        and quarantine.file_sha256 = imports.file_sha256
    where quarantine.row_number = 0
        and imports.source_file is null
    group by quarantine.source_file, quarantine.file_sha256, quarantine.shop_id
),

versions as (
    select
        imports.source_file,
        imports.file_sha256,
        imports.shop_id,
        imports.mapping,
        imports.entity,
        coalesce(folder.rows_loaded, imports.rows_loaded) as rows_loaded,
        coalesce(folder.rows_set_aside, imports.rows_set_aside) as rows_set_aside,
        false as is_refused,
        folder.source_file is not null as is_current,
        imports.imported_at
    from imports
    left join folder
        on imports.source_file = folder.source_file
        and imports.file_sha256 = folder.file_sha256
    union all
    select
        source_file,
        file_sha256,
        shop_id,
        cast(null as varchar) as mapping,
        cast(null as varchar) as entity,
        0 as rows_loaded,
        1 as rows_set_aside,
        true as is_refused,
        true as is_current,
        imported_at
    from refused
),

final as (
    select
        source_file || '|' || file_sha256 as file_import_id,
        source_file,
        file_sha256,
        shop_id,
        mapping,
        entity,
        cast(rows_loaded as integer) as rows_loaded,
        cast(rows_set_aside as integer) as rows_set_aside,
        is_refused,
        cast(imported_at as timestamptz) as first_imported_at,
        is_current
    from versions
)

select * from final
