import GRDB

/// The store's schema and its migrations. See `docs/store.md` for the why
/// of each table and index.
enum Schema {
    /// `PRAGMA application_id`: "LKST". Lets `file(1)` and this code tell a
    /// LaneKiosk store from any other SQLite file.
    static let applicationID: Int32 = 0x4C4B_5354
    /// `PRAGMA user_version` after the last migration below. A file with a
    /// higher number was written by a newer LaneKiosk and is refused.
    static let version = 1

    /// The active-bundle lookup. `status = 'active'` must stay a literal:
    /// only then can SQLite prove that the partial index applies.
    static let activeBundleSQL =
        "SELECT * FROM bundles WHERE vrn = ? AND direction = ? AND status = 'active'"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        return migrator
    }

    private static let v1 = """
        -- Every CCRN and UBR ever issued, so none is issued twice.
        CREATE TABLE issued_numbers (
            number INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('ccrn', 'ubr')),
            issued_at INTEGER NOT NULL
        );

        CREATE TABLE accounts (
            name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
            role TEXT NOT NULL CHECK (role IN ('shipper', 'agent', 'driver', 'officer')),
            control_point TEXT,
            token_hash TEXT NOT NULL UNIQUE
        );

        CREATE TABLE bundles (
            ubr INTEGER PRIMARY KEY,
            vrn TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('import', 'export')),
            status TEXT NOT NULL CHECK (status IN ('active', 'debundled', 'used')),
            driver_name TEXT NOT NULL,
            driver_account TEXT NOT NULL,
            expected_control_point TEXT,
            completed_at INTEGER NOT NULL,
            earliest_crossing INTEGER NOT NULL,
            ended_at INTEGER,
            CHECK ((status = 'active') = (ended_at IS NULL))
        );
        -- Bundling rule 3 in the database, and the lane's one-probe lookup.
        CREATE UNIQUE INDEX bundles_active_by_vrn ON bundles(vrn, direction) WHERE status = 'active';
        CREATE INDEX bundles_by_vrn ON bundles(vrn, completed_at);

        CREATE TABLE consignments (
            ccrn INTEGER PRIMARY KEY,
            direction TEXT NOT NULL CHECK (direction IN ('import', 'export')),
            expected_day INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'bundled', 'withdrawn', 'spent')),
            submitted_by TEXT NOT NULL,
            submitted_at INTEGER NOT NULL,
            amended_at INTEGER,
            valid_until INTEGER NOT NULL,
            consignee_name TEXT NOT NULL,
            bundled_in INTEGER REFERENCES bundles(ubr),
            submission TEXT NOT NULL,
            CHECK ((status IN ('bundled', 'spent')) = (bundled_in IS NOT NULL))
        );
        CREATE INDEX consignments_by_submitter ON consignments(submitted_by, submitted_at);
        CREATE INDEX consignments_by_consignee ON consignments(consignee_name);
        CREATE INDEX consignments_by_bundle ON consignments(bundled_in) WHERE bundled_in IS NOT NULL;

        -- A projection of the submission's goods items for queries; the
        -- JSON in consignments.submission is what is read back.
        CREATE TABLE goods_items (
            ccrn INTEGER NOT NULL REFERENCES consignments(ccrn),
            position INTEGER NOT NULL,
            description TEXT NOT NULL,
            package_count INTEGER,
            package_kind TEXT,
            gross_weight REAL,
            gross_weight_unit TEXT,
            gross_volume REAL,
            gross_volume_unit TEXT,
            net_quantity REAL,
            net_quantity_unit TEXT,
            permits TEXT NOT NULL,
            PRIMARY KEY (ccrn, position)
        ) WITHOUT ROWID;

        -- Kept for debundled and used bundles too: the history of a CCRN.
        CREATE TABLE bundle_ccrns (
            ubr INTEGER NOT NULL REFERENCES bundles(ubr),
            position INTEGER NOT NULL,
            ccrn INTEGER NOT NULL REFERENCES consignments(ccrn),
            PRIMARY KEY (ubr, position)
        ) WITHOUT ROWID;
        CREATE INDEX bundle_ccrns_by_ccrn ON bundle_ccrns(ccrn);

        CREATE TABLE crossings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id TEXT NOT NULL UNIQUE,
            lane_id TEXT NOT NULL,
            control_point TEXT NOT NULL,
            direction TEXT NOT NULL,
            vrn TEXT NOT NULL,
            arrived_at INTEGER NOT NULL,
            unladen INTEGER NOT NULL CHECK (unladen IN (0, 1)),
            instruction TEXT NOT NULL,
            reason TEXT NOT NULL,
            ubr INTEGER REFERENCES bundles(ubr),
            decision TEXT NOT NULL,
            decided_at INTEGER NOT NULL
        );
        CREATE INDEX crossings_by_vrn ON crossings(vrn, id);
        CREATE INDEX crossings_by_ubr ON crossings(ubr) WHERE ubr IS NOT NULL;

        CREATE TABLE watch_list (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('vrn', 'ccrn', 'consignee')),
            value TEXT NOT NULL,
            note TEXT NOT NULL,
            added_by TEXT NOT NULL,
            added_at INTEGER NOT NULL
        );
        CREATE INDEX watch_list_by_target ON watch_list(kind, value);

        CREATE TABLE lanes (
            id TEXT NOT NULL PRIMARY KEY,
            control_point TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('import', 'export'))
        ) WITHOUT ROWID;
        """
}
