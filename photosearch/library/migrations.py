"""The library's schema, as the steps that build it: ``MIGRATIONS[i]`` upgrades a library from format ``i`` to
``i + 1`` (library/db.py runs them in one transaction and refuses libraries newer than ``SCHEMA_VERSION``)."""

from __future__ import annotations

SCHEMA_VERSION = 8

# Each entry upgrades the schema from version i to i + 1. Append, never edit a released entry.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE folders (path TEXT PRIMARY KEY, added_at REAL NOT NULL)",
        """CREATE TABLE photos (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            folder TEXT NOT NULL,          -- the library folder it was found under
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            hash TEXT NOT NULL,            -- content hash (see scan.content_hash): finds moved files
            width INTEGER,                 -- original size, after EXIF rotation
            height INTEGER,
            format TEXT,                   -- JPEG, PNG, ... as Pillow names it
            taken_at TEXT,                 -- ISO 8601 from EXIF, NULL if unknown
            indexed_at REAL NOT NULL
        )""",
        "CREATE INDEX photos_folder ON photos(folder)",
        "CREATE INDEX photos_hash ON photos(hash)",
        "CREATE INDEX photos_taken ON photos(taken_at)",
        """CREATE TABLE models (
            model_id TEXT PRIMARY KEY,
            dim INTEGER NOT NULL,
            dtype TEXT NOT NULL,           -- numpy dtype of the BLOBs ('<f2')
            first_used REAL NOT NULL
        )""",
        """CREATE TABLE embeddings (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: search caches load rows with seq > last seen
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL REFERENCES models(model_id),
            vector BLOB NOT NULL,
            indexed_at REAL NOT NULL,
            UNIQUE (model_id, photo_id)  -- also the covering index for 'which photos have vectors'
        )""",
        "CREATE INDEX embeddings_model ON embeddings(model_id, seq)",
        "CREATE INDEX embeddings_photo ON embeddings(photo_id)",  # ON DELETE CASCADE would scan without it
        """CREATE TABLE skipped (
            path TEXT PRIMARY KEY,
            folder TEXT NOT NULL,
            size INTEGER,
            mtime_ns INTEGER,              -- unchanged bad files are not retried on every run
            reason TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        # Search caches append new rows incrementally; any deletion invalidates them instead.
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('vector_deletions', '0')",
        """CREATE TRIGGER embeddings_deleted AFTER DELETE ON embeddings BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vector_deletions';
        END""",
    ],
    [
        # The device (st_dev) each folder was on when last indexed: an unmounted drive whose empty mount point
        # is still there is told from a folder whose photos were deleted.
        "ALTER TABLE folders ADD COLUMN device INTEGER",
        # Whose fault a skip is: the file's (not retried until it changes or the model does) or not
        # (permission, memory, the model: retried on the next run).
        "ALTER TABLE skipped ADD COLUMN file_fault INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE skipped ADD COLUMN model_id TEXT",
    ],
    # 3: words read in each photo (library/textindex.py), searchable with FTS5.
    [
        """CREATE TABLE photo_text (
            photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
            hash TEXT NOT NULL,            -- photos.hash when read: changed content is read again
            engine TEXT NOT NULL,          -- OcrSettings.engine_id(): other models/settings read again
            text TEXT NOT NULL,            -- the lines joined by newlines; '' = no text found
            lines TEXT NOT NULL,           -- JSON [{"text", "confidence", "box": [[x, y] x4]}], original pixels
            error TEXT,                    -- why the photo could not be read (then text is '')
            read_at REAL NOT NULL
        )""",
        """CREATE VIRTUAL TABLE photo_text_fts USING fts5(text, content='photo_text', content_rowid='photo_id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
        """CREATE TRIGGER photo_text_ai AFTER INSERT ON photo_text BEGIN
            INSERT INTO photo_text_fts (rowid, text) VALUES (new.photo_id, new.text);
        END""",
        """CREATE TRIGGER photo_text_ad AFTER DELETE ON photo_text BEGIN
            INSERT INTO photo_text_fts (photo_text_fts, rowid, text) VALUES ('delete', old.photo_id, old.text);
        END""",
        """CREATE TRIGGER photo_text_au AFTER UPDATE ON photo_text BEGIN
            INSERT INTO photo_text_fts (photo_text_fts, rowid, text) VALUES ('delete', old.photo_id, old.text);
            INSERT INTO photo_text_fts (rowid, text) VALUES (new.photo_id, new.text);
        END""",
    ],
    # 4: the sampled moments of videos (library/frames.py): a vector per moment, with its time.
    [
        """CREATE TABLE video_frames (
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            t REAL NOT NULL,               -- seconds from the start of the video
            vector BLOB NOT NULL,          -- as embeddings.vector
            PRIMARY KEY (model_id, photo_id, t)
        )""",
        "CREATE INDEX video_frames_photo ON video_frames(photo_id)",
    ],
    # 5: faces found in each photo and the people they are grouped into (photosearch/faces/); named things.
    [
        """CREATE TABLE face_scans (
            photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
            hash TEXT NOT NULL,            -- photos.hash when scanned: changed content is scanned again
            model TEXT NOT NULL,           -- FaceEngine.model_id: another model scans again
            faces INTEGER NOT NULL,        -- how many were found
            error TEXT,                    -- why the photo could not be scanned (the fault record)
            scanned_at REAL NOT NULL
        )""",
        """CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            name TEXT,                     -- NULL until the user names the group
            hidden INTEGER NOT NULL DEFAULT 0,
            cover_face INTEGER,            -- chosen by the user; NULL: the best face
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX people_name ON people(name COLLATE NOCASE)",
        """CREATE TABLE faces (
            id INTEGER PRIMARY KEY,
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,  -- photo pixels
            landmarks TEXT NOT NULL,       -- JSON [[x, y] x5]: right eye, left eye, nose, mouth corners
            score REAL NOT NULL,           -- detector confidence
            quality TEXT NOT NULL,         -- JSON {"size", "sharpness", "yaw", "quality"}
            usable INTEGER NOT NULL,       -- good enough to define a person
            embedding BLOB NOT NULL,       -- 128 float32, unit length
            person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
            user_set INTEGER NOT NULL DEFAULT 0  -- the user put it where it is: grouping never moves it
        )""",
        "CREATE INDEX faces_photo ON faces(photo_id)",
        "CREATE INDEX faces_person ON faces(person_id)",
        """CREATE TABLE face_rejections (   -- "not this person": never assigned there again
            face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            PRIMARY KEY (face_id, person_id)
        )""",
        # Named things beyond faces (library/things.py): a name for a few photos of a pet or an object.
        """CREATE TABLE things (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE thing_photos (
            thing_id INTEGER NOT NULL REFERENCES things(id) ON DELETE CASCADE,
            photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
            PRIMARY KEY (thing_id, photo_id)
        )""",
        "CREATE INDEX thing_photos_photo ON thing_photos(photo_id)",
    ],
    # 6: where, when and what (photosearch/meta/): EXIF, image kind, dominant colours and the place.
    [
        """CREATE TABLE photo_meta (
            photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
            hash TEXT NOT NULL,            -- photos.hash when read: changed content is read again
            taken_offset TEXT,             -- the camera's UTC offset ("+02:00") for photos.taken_at
            lat REAL, lon REAL,            -- degrees (south, west negative); NULL: no usable GPS
            altitude REAL, direction REAL, -- metres; degrees from north
            make TEXT, model TEXT, lens TEXT,
            focal_mm REAL, focal_35mm REAL, aperture REAL, exposure_s REAL, iso INTEGER,
            flash INTEGER,                 -- 1 fired, 0 did not, NULL unknown
            orientation INTEGER,
            kind TEXT NOT NULL,            -- photo | screenshot | scan | panorama | image
            colours TEXT NOT NULL,         -- dominant colour names, most first, comma separated
            colour_bits INTEGER NOT NULL,  -- meta/colours.py bit per name
            country_code TEXT, country TEXT, region TEXT, city TEXT,  -- from lat/lon (meta/places.py)
            place_km REAL,                 -- distance to that city; NULL: not looked up yet
            fault TEXT,                    -- what was wrong with the metadata (the photo is indexed anyway)
            read_at REAL NOT NULL
        )""",
        "CREATE INDEX photo_meta_place ON photo_meta(country, region, city)",
        "CREATE INDEX photo_meta_lookup ON photo_meta(place_km) WHERE lat IS NOT NULL",
        # Facet and filter columns in memory (meta/facets.py) reload when this count moves.
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('facet_changes', '0')",
        *[f"""CREATE TRIGGER {table}_facets_{op[0]} AFTER {op} ON {table} BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'facet_changes';
        END""" for table in ("photo_meta", "photo_text") for op in ("INSERT", "UPDATE", "DELETE")],
    ],
    # 7: the other files of a shot (library/pairs.py): a RAW beside its JPEG, a Live Photo's video beside its still;
    # a video's duration (shown on its tile).
    [
        """CREATE TABLE companions (
            path TEXT PRIMARY KEY,
            folder TEXT NOT NULL,          -- the library folder it was found under
            primary_path TEXT NOT NULL,    -- the shot's still, indexed for both (photos.path)
            role TEXT NOT NULL,            -- 'raw' | 'live'
            size INTEGER NOT NULL,         -- as scanned: unchanged pairs are not checked again
            mtime_ns INTEGER NOT NULL
        )""",
        "CREATE INDEX companions_primary ON companions(primary_path)",
        "ALTER TABLE photos ADD COLUMN duration_s REAL",  # a video's length in seconds; NULL: a photo, or unknown
    ],
    # 8: faces found in a video's moments (faces/facepass.py): the second of the frame each was found in.
    [
        "ALTER TABLE faces ADD COLUMN t REAL",  # NULL: a photo's face; two faces of one frame are never one person
        # Videos were scanned on their 256 px poster only: the faces pass looks at their moments again.
        "DELETE FROM face_scans WHERE photo_id IN (SELECT id FROM photos WHERE format LIKE 'VIDEO-%')",
    ],
]
assert len(MIGRATIONS) == SCHEMA_VERSION
