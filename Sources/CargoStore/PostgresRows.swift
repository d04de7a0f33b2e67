import ClearanceCore
import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import RoadCargo

/// A PostgresNIO row as ``StoredRow``: the same mapping as SQLite's rows.
struct PGRow: StoredRow, Sendable {
    let row: PostgresRandomAccessRow

    func int(_ column: String) throws -> Int64 { try row[column].decode(Int64.self) }
    func optionalInt(_ column: String) throws -> Int64? { try row[column].decode(Int64?.self) }
    func text(_ column: String) throws -> String { try row[column].decode(String.self) }
    func optionalText(_ column: String) throws -> String? { try row[column].decode(String?.self) }
    func bool(_ column: String) throws -> Bool { try row[column].decode(Bool.self) }
    func jsonText(_ column: String) throws -> String { try row[column].decode(String.self) }
}

extension PostgresConnection {
    /// Every row of one statement.
    @discardableResult
    func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [PGRow] {
        try requireOpen()
        var out: [PGRow] = []
        for try await row in try await self.query(query, logger: logger) {
            out.append(PGRow(row: row.makeRandomAccess()))
        }
        return out
    }
}

/// Reads and writes domain values as rows in PostgreSQL, inside a
/// transaction the caller opened: the counterpart of ``Rows``.
enum PGRows {
    static func consignment(_ db: PostgresConnection, _ ccrn: CCRN, _ logger: Logger) async throws
        -> Consignment?
    {
        try await db.rows("SELECT * FROM consignments WHERE ccrn = \(Column.number(ccrn))", logger).first
            .map(RowMapping.consignment)
    }

    /// As ``Rows/consignmentFacts(_:_:)``, for several CCRNs in one
    /// statement: no submission decoded. A CCRN with no row is absent.
    static func consignmentFacts(_ db: PostgresConnection, _ ccrns: [CCRN], _ logger: Logger) async throws
        -> [CCRN: ConsignmentFacts]
    {
        guard !ccrns.isEmpty else { return [:] }
        let numbers = ccrns.map(Column.number)
        var facts: [CCRN: ConsignmentFacts] = [:]
        for row in try await db.rows(
            "SELECT ccrn, valid_until, consignee_name FROM consignments WHERE ccrn = ANY(\(numbers))", logger)
        {
            facts[Column.ccrn(try row.int("ccrn"))] = try RowMapping.consignmentFacts(row)
        }
        return facts
    }

    /// Those of `candidates` on the watch list, in one statement.
    static func watched(_ candidates: [WatchTarget], _ db: PostgresConnection, _ logger: Logger) async throws
        -> [WatchTarget]
    {
        guard !candidates.isEmpty else { return [] }
        let kinds = candidates.map(\.kind)
        let values = candidates.map(\.value)
        var found: Set<[String]> = []
        for row in try await db.rows(
            """
            SELECT w.kind, w.value FROM unnest(\(kinds)::text[], \(values)::text[]) AS c(kind, value)
            JOIN watch_list w ON w.kind = c.kind AND w.value = c.value
            """, logger)
        {
            found.insert([try row.text("kind"), try row.text("value")])
        }
        return candidates.filter { found.contains([$0.kind, $0.value]) }
    }

    static func insert(
        _ c: Consignment, _ db: PostgresConnection, _ logger: Logger, submissionJSON: String? = nil
    ) async throws {
        let json = try submissionJSON ?? Column.json(c.submission)
        try await db.rows(
            """
            INSERT INTO consignments(ccrn, direction, expected_day, status, submitted_by, submitted_at,
                amended_at, valid_until, consignee_name, bundled_in, submission)
            VALUES (\(Column.number(c.ccrn)), \(c.submission.direction.rawValue),
                \(Int64(c.submission.expectedDate.daysSinceEpoch)), \(c.status.rawValue), \(c.submittedBy),
                \(Column.millis(c.submittedAt)), \(c.amendedAt.map(Column.millis)),
                \(Int64(c.validUntil.daysSinceEpoch)), \(WatchTarget.normaliseName(c.submission.consignee.name)),
                \(c.bundledIn.map(Column.number)), \(json)::jsonb)
            """, logger)
        try await insertGoodsItems(c.ccrn, c.submission.goodsItems, db, logger)
    }

    static func updateSubmission(
        _ ccrn: CCRN, _ s: ConsignmentSubmission, amendedAt: Date, _ db: PostgresConnection, _ logger: Logger
    ) async throws {
        let number = Column.number(ccrn)
        try await db.rows(
            """
            UPDATE consignments SET direction = \(s.direction.rawValue),
                expected_day = \(Int64(s.expectedDate.daysSinceEpoch)),
                consignee_name = \(WatchTarget.normaliseName(s.consignee.name)),
                submission = \(try Column.json(s))::jsonb, amended_at = \(Column.millis(amendedAt))
            WHERE ccrn = \(number)
            """, logger)
        try await db.rows("DELETE FROM goods_items WHERE ccrn = \(number)", logger)
        try await insertGoodsItems(ccrn, s.goodsItems, db, logger)
    }

    static func setStatus(
        _ ccrn: CCRN, _ status: ConsignmentStatus, bundledIn: UBR?, _ db: PostgresConnection, _ logger: Logger
    ) async throws {
        try await db.rows(
            """
            UPDATE consignments SET status = \(status.rawValue), bundled_in = \(bundledIn.map(Column.number))
            WHERE ccrn = \(Column.number(ccrn))
            """, logger)
    }

    private static func insertGoodsItems(
        _ ccrn: CCRN, _ items: [GoodsItem], _ db: PostgresConnection, _ logger: Logger
    ) async throws {
        for (i, item) in items.enumerated() {
            try await db.rows(
                """
                INSERT INTO goods_items(ccrn, position, description, package_count, package_kind,
                    gross_weight, gross_weight_unit, gross_volume, gross_volume_unit,
                    net_quantity, net_quantity_unit, permits)
                VALUES (\(Column.number(ccrn)), \(Int64(i)), \(item.description),
                    \(item.packaging.map { Int64($0.count) }), \(item.packaging?.kind),
                    \(item.grossWeight?.value), \(item.grossWeight?.unit), \(item.grossVolume?.value),
                    \(item.grossVolume?.unit), \(item.netQuantity?.value), \(item.netQuantity?.unit),
                    \(try Column.json(item.permits))::jsonb)
                """, logger)
        }
    }

    // MARK: Bundles

    static func bundle(_ db: PostgresConnection, _ ubr: UBR, _ logger: Logger) async throws -> CargoBundle? {
        guard
            let row = try await db.rows("SELECT * FROM bundles WHERE ubr = \(Column.number(ubr))", logger)
                .first
        else { return nil }
        return try await bundle(from: row, db, logger)
    }

    /// The VRN's open bundle (active, or claimed by a passage), as
    /// ``Schema/activeBundleSQL`` in SQLite: the literals of the partial index.
    static func activeBundleRow(_ db: PostgresConnection, vrn: VRN, direction: Direction, _ logger: Logger)
        async throws -> PGRow?
    {
        try await db.rows(
            """
            SELECT * FROM bundles WHERE vrn = \(vrn.value) AND direction = \(direction.rawValue)
                AND status IN ('active', 'claimed')
            """, logger
        ).first
    }

    static func activeBundle(_ db: PostgresConnection, vrn: VRN, direction: Direction, _ logger: Logger)
        async throws -> CargoBundle?
    {
        guard let row = try await activeBundleRow(db, vrn: vrn, direction: direction, logger) else {
            return nil
        }
        return try await bundle(from: row, db, logger)
    }

    static func bundle(from row: PGRow, _ db: PostgresConnection, _ logger: Logger) async throws
        -> CargoBundle
    {
        try RowMapping.bundle(row, ccrns: try await ccrns(of: try row.int("ubr"), db, logger))
    }

    static func ccrns(of ubr: Int64, _ db: PostgresConnection, _ logger: Logger) async throws -> [Int64] {
        try await db.rows("SELECT ccrn FROM bundle_ccrns WHERE ubr = \(ubr) ORDER BY position", logger)
            .map { try $0.int("ccrn") }
    }

    static func insert(_ b: CargoBundle, _ db: PostgresConnection, _ logger: Logger) async throws {
        let ubr = Column.number(b.ubr)
        try await db.rows(
            """
            INSERT INTO bundles(ubr, vrn, direction, status, driver_name, driver_account,
                expected_control_point, completed_at, earliest_crossing, ended_at)
            VALUES (\(ubr), \(b.vrn.value), \(b.direction.rawValue), \(b.status.rawValue), \(b.driverName),
                \(b.driverAccount), \(b.expectedControlPoint?.rawValue), \(Column.millis(b.completedAt)),
                \(Column.millis(b.earliestCrossing)), \(b.endedAt.map(Column.millis)))
            """, logger)
        for (i, ccrn) in b.ccrns.enumerated() {
            try await db.rows(
                "INSERT INTO bundle_ccrns(ubr, position, ccrn) VALUES (\(ubr), \(Int64(i)), \(Column.number(ccrn)))",
                logger)
        }
    }

    /// The bundle's life state, from its row (claimed bundles hold their claim there).
    static func lifeState(_ bundle: CargoBundle, _ db: PostgresConnection, _ logger: Logger) async throws
        -> BundleLife.State
    {
        switch bundle.status {
        case .active: return .active
        case .debundled: return .debundled
        case .used: return .used
        case .claimed:
            let row = try await db.rows(
                "SELECT claimed_by, claimed_lane, claimed_at FROM bundles WHERE ubr = \(Column.number(bundle.ubr))",
                logger)[0]
            return .claimed(try RowMapping.claim(row))
        }
    }

    // MARK: Crossings

    static func crossing(_ db: PostgresConnection, requestID: String, _ logger: Logger) async throws
        -> (Crossing, DecisionRequest)?
    {
        try await db.rows("SELECT * FROM crossings WHERE request_id = \(requestID)", logger).first
            .map(RowMapping.crossingAndRequest)
    }
}

extension NumberAllocator {
    /// ``allocate(_:in:atMillis:)`` in a PostgreSQL transaction: the same
    /// draw, the same never-deleted `issued_numbers` table.
    static func allocate(_ kind: Kind, in db: PostgresConnection, atMillis issuedAt: Int64, _ logger: Logger)
        async throws -> Int64
    {
        var rng = SystemRandomNumberGenerator()
        return try await allocate(kind, in: db, atMillis: issuedAt, logger, using: &rng)
    }

    /// The same, drawing from `rng` (tests force clashes with it).
    static func allocate(
        _ kind: Kind, in db: PostgresConnection, atMillis issuedAt: Int64, _ logger: Logger,
        using rng: inout some RandomNumberGenerator
    ) async throws -> Int64 {
        for _ in 0..<maximumAttempts {
            let number = draw(using: &rng)
            let inserted = try await db.rows(
                """
                INSERT INTO issued_numbers(number, kind, issued_at) VALUES (\(number), \(kind.rawValue), \(issuedAt))
                ON CONFLICT (number) DO NOTHING RETURNING number
                """, logger)
            if !inserted.isEmpty { return number }
        }
        throw Exhausted()
    }
}
