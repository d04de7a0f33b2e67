import PostgresSupport

/// The PostgreSQL store's schema: SQLite's final schema (``Schema``, v1 to
/// v5) in PostgreSQL's types, as one step `store/v1`. See docs/store.md,
/// "The PostgreSQL store".
///
/// Instants stay integer milliseconds (`bigint`) and days integer days, so
/// both stores map rows with the same code and a copied row means the same;
/// JSON documents are `jsonb`; ids are identities `BY DEFAULT`, so that
/// `clearanced store copy` keeps the SQLite ids and then moves the sequences
/// past them. Names that SQLite compares with `COLLATE NOCASE` are compared
/// with `lower()` here, through unique expression indexes.
enum PostgresSchema {
    static let migrations = PostgresMigrations(part: "store", steps: [.init("store/v1", v1)])

    /// Tables with an identity id, for the copy to move their sequences on.
    static let identityTables = [
        "crossings", "watch_list", "lane_events", "officer_actions", "console_journal", "help_calls",
        "help_call_steps", "offline_crossings",
    ]

    /// Every table of the store, parents before children (the copy's order).
    static let tables = [
        "issued_numbers", "accounts", "bundles", "consignments", "goods_items", "bundle_ccrns", "crossings",
        "watch_list", "lanes", "lane_events", "officer_actions", "cache_pushes", "officer_passwords",
        "console_sessions", "console_journal", "help_calls", "help_call_steps", "offline_crossings",
        "cache_changes",
    ]

    static let v1 = [
        """
        CREATE TABLE issued_numbers (
            number bigint PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('ccrn', 'ubr')),
            issued_at bigint NOT NULL)
        """,
        """
        CREATE TABLE accounts (
            name text NOT NULL PRIMARY KEY,
            role text NOT NULL CHECK (role IN ('shipper', 'agent', 'driver', 'officer', 'immigration')),
            control_point text,
            token_hash text NOT NULL UNIQUE)
        """,
        "CREATE UNIQUE INDEX accounts_by_name ON accounts (lower(name))",
        """
        CREATE TABLE bundles (
            ubr bigint PRIMARY KEY,
            vrn text NOT NULL,
            direction text NOT NULL CHECK (direction IN ('import', 'export')),
            status text NOT NULL CHECK (status IN ('active', 'claimed', 'debundled', 'used')),
            driver_name text NOT NULL,
            driver_account text NOT NULL,
            expected_control_point text,
            completed_at bigint NOT NULL,
            earliest_crossing bigint NOT NULL,
            ended_at bigint,
            claimed_by text,
            claimed_lane text,
            claimed_at bigint,
            CHECK ((status IN ('active', 'claimed')) = (ended_at IS NULL)),
            CHECK (status <> 'claimed'
                OR (claimed_by IS NOT NULL AND claimed_lane IS NOT NULL AND claimed_at IS NOT NULL)))
        """,
        """
        CREATE UNIQUE INDEX bundles_active_by_vrn ON bundles (vrn, direction)
            WHERE status IN ('active', 'claimed')
        """,
        "CREATE INDEX bundles_by_vrn ON bundles (vrn, completed_at)",
        "CREATE INDEX bundles_active_by_direction ON bundles (direction, ubr) WHERE status = 'active'",
        "CREATE INDEX bundles_by_claimant ON bundles (claimed_by) WHERE claimed_by IS NOT NULL",
        """
        CREATE TABLE consignments (
            ccrn bigint PRIMARY KEY,
            direction text NOT NULL CHECK (direction IN ('import', 'export')),
            expected_day bigint NOT NULL,
            status text NOT NULL CHECK (status IN ('active', 'bundled', 'withdrawn', 'spent')),
            submitted_by text NOT NULL,
            submitted_at bigint NOT NULL,
            amended_at bigint,
            valid_until bigint NOT NULL,
            consignee_name text NOT NULL,
            bundled_in bigint REFERENCES bundles (ubr),
            submission jsonb NOT NULL,
            CHECK ((status IN ('bundled', 'spent')) = (bundled_in IS NOT NULL)))
        """,
        "CREATE INDEX consignments_by_submitter ON consignments (submitted_by, submitted_at)",
        "CREATE INDEX consignments_by_consignee ON consignments (consignee_name)",
        "CREATE INDEX consignments_by_bundle ON consignments (bundled_in) WHERE bundled_in IS NOT NULL",
        """
        CREATE TABLE goods_items (
            ccrn bigint NOT NULL REFERENCES consignments (ccrn),
            position bigint NOT NULL,
            description text NOT NULL,
            package_count bigint,
            package_kind text,
            gross_weight double precision,
            gross_weight_unit text,
            gross_volume double precision,
            gross_volume_unit text,
            net_quantity double precision,
            net_quantity_unit text,
            permits jsonb NOT NULL,
            PRIMARY KEY (ccrn, position))
        """,
        """
        CREATE TABLE bundle_ccrns (
            ubr bigint NOT NULL REFERENCES bundles (ubr),
            position bigint NOT NULL,
            ccrn bigint NOT NULL REFERENCES consignments (ccrn),
            PRIMARY KEY (ubr, position))
        """,
        "CREATE INDEX bundle_ccrns_by_ccrn ON bundle_ccrns (ccrn)",
        """
        CREATE TABLE crossings (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            request_id text NOT NULL UNIQUE,
            lane_id text NOT NULL,
            control_point text NOT NULL,
            direction text NOT NULL,
            vrn text NOT NULL,
            arrived_at bigint NOT NULL,
            unladen boolean NOT NULL,
            instruction text NOT NULL,
            reason text NOT NULL,
            ubr bigint REFERENCES bundles (ubr),
            decision jsonb NOT NULL,
            decided_at bigint NOT NULL)
        """,
        "CREATE INDEX crossings_by_vrn ON crossings (vrn, id)",
        "CREATE INDEX crossings_by_ubr ON crossings (ubr) WHERE ubr IS NOT NULL",
        "CREATE INDEX crossings_by_lane ON crossings (lane_id, id)",
        """
        CREATE TABLE watch_list (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('vrn', 'ccrn', 'consignee')),
            value text NOT NULL,
            note text NOT NULL,
            added_by text NOT NULL,
            added_at bigint NOT NULL)
        """,
        "CREATE INDEX watch_list_by_target ON watch_list (kind, value)",
        """
        CREATE TABLE lanes (
            id text NOT NULL PRIMARY KEY,
            control_point text NOT NULL,
            direction text NOT NULL CHECK (direction IN ('import', 'export')))
        """,
        // The UNIQUE key makes a resent lane event a no-op on any node.
        """
        CREATE TABLE lane_events (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            lane_id text NOT NULL,
            occurred_at bigint NOT NULL,
            kind text NOT NULL,
            fields jsonb NOT NULL,
            received_at bigint NOT NULL,
            UNIQUE (lane_id, occurred_at, kind, fields))
        """,
        """
        CREATE TABLE officer_actions (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            lane_id text NOT NULL,
            officer text NOT NULL,
            command text NOT NULL CHECK (command IN ('open', 'close', 'offline', 'override')),
            details jsonb NOT NULL,
            requested_at bigint NOT NULL,
            message_id bigint)
        """,
        "CREATE INDEX officer_actions_by_lane ON officer_actions (lane_id, id)",
        """
        CREATE TABLE cache_pushes (
            generation bigint PRIMARY KEY,
            lane_id text NOT NULL,
            pushed_at bigint NOT NULL,
            cause text NOT NULL CHECK (cause IN ('session', 'officer', 'offline')),
            requested_by text,
            bundles bigint NOT NULL,
            watch_targets bigint NOT NULL,
            omitted bigint NOT NULL,
            chunks bigint NOT NULL)
        """,
        "CREATE INDEX cache_pushes_by_lane ON cache_pushes (lane_id, generation)",
        """
        CREATE TABLE officer_passwords (
            name text NOT NULL PRIMARY KEY REFERENCES accounts (name),
            hash text NOT NULL,
            changed_at bigint NOT NULL)
        """,
        """
        CREATE TABLE console_sessions (
            token_hash text NOT NULL PRIMARY KEY,
            officer text NOT NULL,
            csrf text NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            idle_until bigint NOT NULL,
            ended_at bigint)
        """,
        """
        CREATE TABLE console_journal (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            officer text NOT NULL,
            action text NOT NULL,
            target text NOT NULL,
            outcome text NOT NULL CHECK (outcome IN ('done', 'refused')),
            details jsonb NOT NULL,
            at bigint NOT NULL)
        """,
        "CREATE INDEX console_journal_by_officer ON console_journal (lower(officer), action, at)",
        """
        CREATE TABLE help_calls (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            lane_id text NOT NULL,
            control_point text NOT NULL,
            lane_call_id bigint NOT NULL,
            vrn text,
            state text NOT NULL CHECK (state IN ('ringing', 'answered', 'ended')),
            officer text,
            rang_at bigint NOT NULL,
            answered_at bigint,
            escalated_at bigint,
            ended_at bigint,
            ended_by text,
            messages jsonb NOT NULL,
            UNIQUE (lane_id, lane_call_id))
        """,
        "CREATE INDEX help_calls_open ON help_calls (state) WHERE state <> 'ended'",
        """
        CREATE TABLE help_call_steps (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            call_id bigint NOT NULL REFERENCES help_calls (id),
            step text NOT NULL,
            actor text NOT NULL,
            details jsonb NOT NULL,
            at bigint NOT NULL)
        """,
        "CREATE INDEX help_call_steps_by_call ON help_call_steps (call_id, id)",
        """
        CREATE TABLE offline_crossings (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            lane_id text NOT NULL,
            passage_id bigint NOT NULL,
            request_id bigint NOT NULL,
            vrn text NOT NULL,
            arrived_at bigint NOT NULL,
            unladen boolean NOT NULL,
            decided_at bigint NOT NULL,
            instruction text NOT NULL,
            reason text NOT NULL,
            ubr bigint,
            decision jsonb NOT NULL,
            cache_generation bigint,
            cache_sequence bigint,
            received_at bigint NOT NULL,
            outcome text NOT NULL CHECK (outcome IN ('applied', 'no_bundle', 'conflict')),
            conflict text,
            acknowledged_by text,
            acknowledged_at bigint,
            acknowledged_note text,
            UNIQUE (lane_id, request_id),
            CHECK ((outcome = 'conflict') = (conflict IS NOT NULL)),
            CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL)),
            CHECK (acknowledged_at IS NULL OR outcome = 'conflict'))
        """,
        "CREATE INDEX offline_crossings_by_lane ON offline_crossings (lane_id, id)",
        """
        CREATE INDEX offline_crossings_open ON offline_crossings (id)
            WHERE outcome = 'conflict' AND acknowledged_at IS NULL
        """,
        "CREATE INDEX offline_crossings_counts ON offline_crossings (lane_id, outcome, acknowledged_at)",
        // The cache feed. A sequence would hand out numbers in the order
        // transactions start, not the order they commit, and a reader could
        // then pass a change that commits later with a lower number. The one
        // row of cache_feed is the feed's head instead: every change updates
        // it in its own transaction, so writers of the feed commit one after
        // another and numbers follow commits; a snapshot's position is the
        // head it sees.
        """
        CREATE TABLE cache_feed (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            seq bigint NOT NULL)
        """,
        "INSERT INTO cache_feed (seq) VALUES (0)",
        """
        CREATE TABLE cache_changes (
            seq bigint PRIMARY KEY,
            direction text,
            ubr bigint)
        """,
        """
        CREATE FUNCTION cache_feed_note(change_direction text, change_ubr bigint) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE next bigint;
        BEGIN
            UPDATE cache_feed SET seq = seq + 1 RETURNING seq INTO next;
            INSERT INTO cache_changes (seq, direction, ubr) VALUES (next, change_direction, change_ubr);
        END $$
        """,
        """
        CREATE FUNCTION cache_changes_bundle() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status THEN
                PERFORM cache_feed_note(NEW.direction, NEW.ubr);
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER cache_changes_bundle AFTER INSERT OR UPDATE OF status ON bundles
            FOR EACH ROW EXECUTE FUNCTION cache_changes_bundle()
        """,
        """
        CREATE FUNCTION cache_changes_consignment() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM cache_feed_note(b.direction, b.ubr)
                FROM bundle_ccrns bc JOIN bundles b ON b.ubr = bc.ubr
                WHERE bc.ccrn = NEW.ccrn AND b.status IN ('active', 'claimed');
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER cache_changes_consignment AFTER UPDATE ON consignments
            FOR EACH ROW EXECUTE FUNCTION cache_changes_consignment()
        """,
        """
        CREATE FUNCTION cache_changes_watch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM cache_feed_note(NULL, NULL);
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER cache_changes_watch AFTER INSERT OR DELETE ON watch_list
            FOR EACH ROW EXECUTE FUNCTION cache_changes_watch()
        """,
    ]
}
