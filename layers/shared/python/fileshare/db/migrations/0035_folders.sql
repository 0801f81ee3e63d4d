-- Folders: a tree per owner (the root is implicit: parent_id NULL), folder shares, and the
-- folder a file is in. A folder's own status is only 'active' | 'trashed' | 'deleting'; whether a
-- folder is visible also depends on its ancestors (a folder under a trashed one is hidden with it).
CREATE TABLE folders (
    folder_id    uuid PRIMARY KEY,
    owner_id     text NOT NULL REFERENCES users (user_id),
    parent_id    uuid REFERENCES folders (folder_id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'trashed', 'deleting')),
    -- The whole-folder operation still under way ('trash' | 'restore' | 'purge'): its batches
    -- continue on the next call or sweep until no file of the subtree is left to move.
    pending_op   text CHECK (pending_op IN ('trash', 'restore', 'purge')),
    trashed_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM folder_id)
);
-- Names are unique per parent, case-insensitively, among the folders that are not being deleted.
CREATE UNIQUE INDEX folders_name_per_parent ON folders
    (owner_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name))
    WHERE status <> 'deleting';
CREATE INDEX folders_parent ON folders (parent_id, lower(name), folder_id);
CREATE INDEX folders_pending_op ON folders (updated_at) WHERE pending_op IS NOT NULL;

CREATE TABLE folder_shares (
    share_id     uuid PRIMARY KEY,
    folder_id    uuid NOT NULL REFERENCES folders (folder_id) ON DELETE CASCADE,
    grantee_id   text NOT NULL REFERENCES users (user_id),
    permission   text NOT NULL CHECK (permission IN ('viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (folder_id, grantee_id)
);
CREATE INDEX folder_shares_grantee ON folder_shares (grantee_id, created_at DESC);

ALTER TABLE files ADD COLUMN folder_id uuid REFERENCES folders (folder_id) ON DELETE SET NULL;
-- Which folder trash moved this file to the trash (a folder restore brings back only those).
ALTER TABLE files ADD COLUMN trashed_with uuid;
CREATE INDEX files_folder ON files (folder_id, lower(name), file_id) WHERE folder_id IS NOT NULL;
-- File names are unique per folder, case-insensitively, among the files a listing shows (files
-- at the root keep their old rule: duplicates allowed).
CREATE UNIQUE INDEX files_name_per_folder ON files (folder_id, lower(name))
    WHERE folder_id IS NOT NULL AND status IN ('pending', 'ready', 'rejected');

-- A folder and its ancestors, nearest first (depth 0 is the folder itself). Moves keep the tree
-- acyclic and shallower than the API's limit; the depth bound here is a backstop only.
CREATE FUNCTION folder_ancestors(start uuid) RETURNS TABLE (folder_id uuid, parent_id uuid, owner_id text,
                                                            name text, status text, depth int)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up AS (
        SELECT f.folder_id, f.parent_id, f.owner_id, f.name, f.status, 0 AS depth
        FROM folders f WHERE f.folder_id = start
        UNION ALL
        SELECT p.folder_id, p.parent_id, p.owner_id, p.name, p.status, up.depth + 1
        FROM folders p JOIN up ON p.folder_id = up.parent_id WHERE up.depth < 64
    )
    SELECT * FROM up
$$;
