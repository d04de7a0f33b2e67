import GRDB

/// The store's schema and its migrations. See `docs/store.md` for the why
/// of each table and index.
enum Schema {
    /// `PRAGMA application_id`: "LKST". Lets `file(1)` and this code tell a
    /// LaneKiosk store from any other SQLite file.
    static let applicationID: Int32 = 0x4C4B_5354
    /// `PRAGMA user_version` after the last migration below. A file with a
    /// higher number was written by a newer LaneKiosk and is refused.
    static let version = 5

    /// The VRN's open bundle (active, or claimed by a passage): at most one
    /// per direction (bundling rule 3). The status list must stay these
    /// literals, exactly as in the index: only then can SQLite prove that
    /// the partial index applies.
    static let activeBundleSQL =
        "SELECT * FROM bundles WHERE vrn = ? AND direction = ? AND status IN ('active', 'claimed')"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: v2)
            try db.execute(sql: "PRAGMA user_version = 2")
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: v3)
            try db.execute(sql: "PRAGMA user_version = 3")
        }
        migrator.registerMigration("v4") { db in
            try db.execute(sql: v4)
            try db.execute(sql: "PRAGMA user_version = 4")
        }
        migrator.registerMigration("v5") { db in
            try db.execute(sql: v5)
            try db.execute(sql: "PRAGMA user_version = 5")
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
    /// The lane link's records at central, and the immigration role.
    private static let v2 = """
        -- SQLite cannot change a CHECK constraint in place: the table is
        -- rebuilt with the new role, keeping every row and token hash.
        CREATE TABLE accounts_v2 (
            name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
            role TEXT NOT NULL CHECK (role IN ('shipper', 'agent', 'driver', 'officer', 'immigration')),
            control_point TEXT,
            token_hash TEXT NOT NULL UNIQUE
        );
        INSERT INTO accounts_v2(name, role, control_point, token_hash)
            SELECT name, role, control_point, token_hash FROM accounts;
        DROP TABLE accounts;
        ALTER TABLE accounts_v2 RENAME TO accounts;

        -- A lane's offline cache holds every active bundle of its direction:
        -- read through this index rather than by scanning every bundle ever made.
        CREATE INDEX bundles_active_by_direction ON bundles(direction, ubr) WHERE status = 'active';

        -- What lanes report over the link. No CHECK on kind: a newer lane
        -- may report kinds this build does not know, and they are kept.
        -- The UNIQUE key makes a resent event (central crashed between
        -- storing it and recording the link message as applied) a no-op,
        -- and its prefix serves the newest-first listing per lane.
        CREATE TABLE lane_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            lane_id TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            fields TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            UNIQUE (lane_id, occurred_at, kind, fields)
        );

        -- Officers' commands to lanes, recorded before they are sent;
        -- message_id is the link message that carries it, once queued.
        CREATE TABLE officer_actions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            lane_id TEXT NOT NULL,
            officer TEXT NOT NULL,
            command TEXT NOT NULL CHECK (command IN ('open', 'close', 'offline', 'override')),
            details TEXT NOT NULL,
            requested_at INTEGER NOT NULL,
            message_id INTEGER
        );
        CREATE INDEX officer_actions_by_lane ON officer_actions(lane_id, id);

        -- Every offline bundle cache built for a lane. The generation is the
        -- primary key so that it never repeats, whatever the clock does.
        CREATE TABLE cache_pushes (
            generation INTEGER PRIMARY KEY,
            lane_id TEXT NOT NULL,
            pushed_at INTEGER NOT NULL,
            cause TEXT NOT NULL CHECK (cause IN ('session', 'officer', 'offline')),
            requested_by TEXT,
            bundles INTEGER NOT NULL,
            watch_targets INTEGER NOT NULL,
            omitted INTEGER NOT NULL,
            chunks INTEGER NOT NULL
        );
        CREATE INDEX cache_pushes_by_lane ON cache_pushes(lane_id, generation);
        """

    /// The officers' console and help calls.
    private static let v3 = """
        -- Console passwords, apart from API tokens: an officer may have both.
        -- The hash is scrypt's, with its parameters and salt in the text.
        CREATE TABLE officer_passwords (
            name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE REFERENCES accounts(name),
            hash TEXT NOT NULL,
            changed_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- Console sessions by the SHA-256 of their cookie, so a copy of the
        -- database opens no session. A session ends at idle_until or
        -- expires_at, whichever comes first, or when ended_at is set.
        CREATE TABLE console_sessions (
            token_hash TEXT NOT NULL PRIMARY KEY,
            officer TEXT NOT NULL,
            csrf TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            idle_until INTEGER NOT NULL,
            ended_at INTEGER
        ) WITHOUT ROWID;

        -- Everything an officer did through the console, refusals included:
        -- logins (and failed ones, which also throttle guessing), help-call
        -- steps, lane commands and watch-list changes.
        CREATE TABLE console_journal (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            officer TEXT NOT NULL COLLATE NOCASE,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('done', 'refused')),
            details TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX console_journal_by_officer ON console_journal(officer, action, at);

        -- Help calls. The lane picks its own call id; (lane, lane call id) is
        -- unique, so a ring the lane resends after a link flap is the same call.
        CREATE TABLE help_calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            lane_id TEXT NOT NULL,
            control_point TEXT NOT NULL,
            lane_call_id INTEGER NOT NULL,
            vrn TEXT,
            state TEXT NOT NULL CHECK (state IN ('ringing', 'answered', 'ended')),
            officer TEXT,
            rang_at INTEGER NOT NULL,
            answered_at INTEGER,
            escalated_at INTEGER,
            ended_at INTEGER,
            ended_by TEXT,
            messages TEXT NOT NULL,
            UNIQUE (lane_id, lane_call_id)
        );
        CREATE INDEX help_calls_open ON help_calls(state) WHERE state != 'ended';

        -- Every step of every call, with who took it and when.
        CREATE TABLE help_call_steps (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            call_id INTEGER NOT NULL REFERENCES help_calls(id),
            step TEXT NOT NULL,
            actor TEXT NOT NULL,
            details TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX help_call_steps_by_call ON help_call_steps(call_id, id);
        """

    /// Claims (a bundle's life: active, claimed, used) and whole-second
    /// bundle times.
    private static let v4 = """
        -- SQLite cannot change a CHECK constraint in place: the table is
        -- rebuilt with the claimed state and who claimed it. claimed_by is
        -- kept once the bundle is used: which passage used it.
        CREATE TABLE bundles_v4 (
            ubr INTEGER PRIMARY KEY,
            vrn TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('import', 'export')),
            status TEXT NOT NULL CHECK (status IN ('active', 'claimed', 'debundled', 'used')),
            driver_name TEXT NOT NULL,
            driver_account TEXT NOT NULL,
            expected_control_point TEXT,
            completed_at INTEGER NOT NULL,
            earliest_crossing INTEGER NOT NULL,
            ended_at INTEGER,
            claimed_by TEXT,
            claimed_lane TEXT,
            claimed_at INTEGER,
            CHECK ((status IN ('active', 'claimed')) = (ended_at IS NULL)),
            CHECK (status != 'claimed'
                OR (claimed_by IS NOT NULL AND claimed_lane IS NOT NULL AND claimed_at IS NOT NULL))
        );
        -- Whole seconds: completion down to its second, the earliest
        -- crossing up to the next one (never earlier than the rule allows).
        INSERT INTO bundles_v4(ubr, vrn, direction, status, driver_name, driver_account,
                expected_control_point, completed_at, earliest_crossing, ended_at)
            SELECT ubr, vrn, direction, status, driver_name, driver_account, expected_control_point,
                completed_at - (completed_at % 1000),
                earliest_crossing + ((1000 - earliest_crossing % 1000) % 1000), ended_at
            FROM bundles;
        DROP TABLE bundles;
        ALTER TABLE bundles_v4 RENAME TO bundles;
        -- Bundling rule 3 and the lane's one-probe lookup, now over open
        -- bundles: a claimed bundle still blocks a second one for its VRN.
        CREATE UNIQUE INDEX bundles_active_by_vrn ON bundles(vrn, direction)
            WHERE status IN ('active', 'claimed');
        CREATE INDEX bundles_by_vrn ON bundles(vrn, completed_at);
        CREATE INDEX bundles_active_by_direction ON bundles(direction, ubr) WHERE status = 'active';
        """

    /// Passages, offline crossings and the change feed behind lanes' live
    /// caches (docs/store.md, "Passages and reconciliation", "Cache feed").
    private static let v5 = """
        -- A lane's leaving finds the bundle its passage claimed by one probe.
        CREATE INDEX bundles_by_claimant ON bundles(claimed_by) WHERE claimed_by IS NOT NULL;

        -- Decisions lanes made offline (clearance rule 4), each applied once:
        -- the UNIQUE key makes a resend a no-op. outcome says what central
        -- did: applied (the bundle claimed for the passage), no_bundle (the
        -- decision was on no bundle), conflict (the bundle had ended or was
        -- another passage's: raised to officers until one acknowledges it,
        -- which records who, when and their note, and deletes nothing).
        CREATE TABLE offline_crossings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            lane_id TEXT NOT NULL,
            passage_id INTEGER NOT NULL,
            request_id INTEGER NOT NULL,
            vrn TEXT NOT NULL,
            arrived_at INTEGER NOT NULL,
            unladen INTEGER NOT NULL CHECK (unladen IN (0, 1)),
            decided_at INTEGER NOT NULL,
            instruction TEXT NOT NULL,
            reason TEXT NOT NULL,
            ubr INTEGER,
            decision TEXT NOT NULL,
            cache_generation INTEGER,
            cache_sequence INTEGER,
            received_at INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'no_bundle', 'conflict')),
            conflict TEXT,
            acknowledged_by TEXT,
            acknowledged_at INTEGER,
            acknowledged_note TEXT,
            UNIQUE (lane_id, request_id),
            CHECK ((outcome = 'conflict') = (conflict IS NOT NULL)),
            CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL)),
            CHECK (acknowledged_at IS NULL OR outcome = 'conflict')
        );
        CREATE INDEX offline_crossings_by_lane ON offline_crossings(lane_id, id);
        CREATE INDEX offline_crossings_open ON offline_crossings(id)
            WHERE outcome = 'conflict' AND acknowledged_at IS NULL;
        -- The per-lane counts every console snapshot shows, read from this
        -- index alone (25 ms instead of 370 ms over 200,000 rows).
        CREATE INDEX offline_crossings_counts ON offline_crossings(lane_id, outcome, acknowledged_at);

        -- What changed that lanes cache, written by triggers in the same
        -- transaction as the change, so no write path can forget it and
        -- every central process sharing the store sees every change. A row
        -- names a bundle (direction and UBR) whose cached form may differ
        -- now, or (both NULL) says the watch list changed.
        CREATE TABLE cache_changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            direction TEXT,
            ubr INTEGER
        );
        CREATE TRIGGER cache_changes_bundle_new AFTER INSERT ON bundles BEGIN
            INSERT INTO cache_changes(direction, ubr) VALUES (NEW.direction, NEW.ubr);
        END;
        CREATE TRIGGER cache_changes_bundle_status AFTER UPDATE OF status ON bundles
        WHEN OLD.status IS NOT NEW.status BEGIN
            INSERT INTO cache_changes(direction, ubr) VALUES (NEW.direction, NEW.ubr);
        END;
        CREATE TRIGGER cache_changes_consignment AFTER UPDATE ON consignments BEGIN
            INSERT INTO cache_changes(direction, ubr)
                SELECT b.direction, b.ubr FROM bundle_ccrns bc JOIN bundles b ON b.ubr = bc.ubr
                WHERE bc.ccrn = NEW.ccrn AND b.status IN ('active', 'claimed');
        END;
        CREATE TRIGGER cache_changes_watch_new AFTER INSERT ON watch_list BEGIN
            INSERT INTO cache_changes(direction, ubr) VALUES (NULL, NULL);
        END;
        CREATE TRIGGER cache_changes_watch_gone AFTER DELETE ON watch_list BEGIN
            INSERT INTO cache_changes(direction, ubr) VALUES (NULL, NULL);
        END;
        """
}
