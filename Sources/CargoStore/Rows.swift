import ClearanceCore
import Foundation
import GRDB
import RoadCargo

/// Reads and writes domain values as rows. Everything here runs inside a
/// transaction the caller opened; nothing here checks a rule.
enum Rows {
    // MARK: Consignments

    static func consignment(_ db: Database, _ ccrn: CCRN) throws -> Consignment? {
        let stmt = try db.cachedStatement(sql: "SELECT * FROM consignments WHERE ccrn = ?")
        return try Row.fetchOne(stmt, arguments: [Column.number(ccrn)]).map(consignment(from:))
    }

    /// What a decision needs of a consignment, without decoding its
    /// submission: the validity day and the consignee's name (as stored,
    /// normalised as the watch list compares it).
    static func consignmentFacts(_ db: Database, _ ccrn: CCRN) throws -> ConsignmentFacts? {
        let stmt = try db.cachedStatement(
            sql: "SELECT valid_until, consignee_name FROM consignments WHERE ccrn = ?")
        return try Row.fetchOne(stmt, arguments: [Column.number(ccrn)]).map(RowMapping.consignmentFacts)
    }

    static func consignment(from row: Row) throws -> Consignment {
        try RowMapping.consignment(row)
    }

    static func insert(_ c: Consignment, _ db: Database, submissionJSON: String? = nil) throws {
        let stmt = try db.cachedStatement(
            sql: """
                INSERT INTO consignments(ccrn, direction, expected_day, status, submitted_by, submitted_at,
                    amended_at, valid_until, consignee_name, bundled_in, submission)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        try stmt.execute(arguments: [
            Column.number(c.ccrn), c.submission.direction.rawValue, c.submission.expectedDate.daysSinceEpoch,
            c.status.rawValue, c.submittedBy, Column.millis(c.submittedAt), c.amendedAt.map(Column.millis),
            c.validUntil.daysSinceEpoch, WatchTarget.normaliseName(c.submission.consignee.name),
            c.bundledIn.map(Column.number), try submissionJSON ?? Column.json(c.submission),
        ])
        try insertGoodsItems(c.ccrn, c.submission.goodsItems, db)
    }

    /// Rewrites the submission of an existing consignment (amendment).
    static func updateSubmission(
        _ ccrn: CCRN, _ s: ConsignmentSubmission, amendedAt: Date, _ db: Database
    ) throws {
        try db.execute(
            sql: """
                UPDATE consignments SET direction = ?, expected_day = ?, consignee_name = ?, submission = ?,
                    amended_at = ?
                WHERE ccrn = ?
                """,
            arguments: [
                s.direction.rawValue, s.expectedDate.daysSinceEpoch,
                WatchTarget.normaliseName(s.consignee.name),
                try Column.json(s), Column.millis(amendedAt), Column.number(ccrn),
            ])
        try db.execute(sql: "DELETE FROM goods_items WHERE ccrn = ?", arguments: [Column.number(ccrn)])
        try insertGoodsItems(ccrn, s.goodsItems, db)
    }

    static func setStatus(_ ccrn: CCRN, _ status: ConsignmentStatus, bundledIn: UBR?, _ db: Database) throws {
        let stmt = try db.cachedStatement(
            sql: "UPDATE consignments SET status = ?, bundled_in = ? WHERE ccrn = ?")
        try stmt.execute(arguments: [status.rawValue, bundledIn.map(Column.number), Column.number(ccrn)])
    }

    private static func insertGoodsItems(_ ccrn: CCRN, _ items: [GoodsItem], _ db: Database) throws {
        let stmt = try db.cachedStatement(
            sql: """
                INSERT INTO goods_items(ccrn, position, description, package_count, package_kind,
                    gross_weight, gross_weight_unit, gross_volume, gross_volume_unit,
                    net_quantity, net_quantity_unit, permits)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (i, item) in items.enumerated() {
            try stmt.execute(arguments: [
                Column.number(ccrn), i, item.description, item.packaging?.count, item.packaging?.kind,
                item.grossWeight?.value, item.grossWeight?.unit, item.grossVolume?.value,
                item.grossVolume?.unit, item.netQuantity?.value, item.netQuantity?.unit,
                try Column.json(item.permits),
            ])
        }
    }

    // MARK: Bundles

    static func bundle(_ db: Database, _ ubr: UBR) throws -> CargoBundle? {
        let stmt = try db.cachedStatement(sql: "SELECT * FROM bundles WHERE ubr = ?")
        guard let row = try Row.fetchOne(stmt, arguments: [Column.number(ubr)]) else { return nil }
        return try bundle(from: row, db)
    }

    static func activeBundle(_ db: Database, vrn: VRN, direction: Direction) throws -> CargoBundle? {
        let stmt = try db.cachedStatement(sql: Schema.activeBundleSQL)
        guard let row = try Row.fetchOne(stmt, arguments: [vrn.value, direction.rawValue]) else {
            return nil
        }
        return try bundle(from: row, db)
    }

    static func bundle(from row: Row, _ db: Database) throws -> CargoBundle {
        let stmt = try db.cachedStatement(
            sql: "SELECT ccrn FROM bundle_ccrns WHERE ubr = ? ORDER BY position")
        return try RowMapping.bundle(row, ccrns: try Int64.fetchAll(stmt, arguments: [row["ubr"] as Int64]))
    }

    static func insert(_ b: CargoBundle, _ db: Database) throws {
        let stmt = try db.cachedStatement(
            sql: """
                INSERT INTO bundles(ubr, vrn, direction, status, driver_name, driver_account,
                    expected_control_point, completed_at, earliest_crossing, ended_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let ubr = Column.number(b.ubr)
        try stmt.execute(arguments: [
            ubr, b.vrn.value, b.direction.rawValue, b.status.rawValue, b.driverName, b.driverAccount,
            b.expectedControlPoint?.rawValue, Column.millis(b.completedAt), Column.millis(b.earliestCrossing),
            b.endedAt.map(Column.millis),
        ])
        let link = try db.cachedStatement(
            sql: "INSERT INTO bundle_ccrns(ubr, position, ccrn) VALUES (?, ?, ?)")
        for (i, ccrn) in b.ccrns.enumerated() {
            try link.execute(arguments: [ubr, i, Column.number(ccrn)])
        }
    }

    static func endBundle(_ ubr: UBR, _ status: BundleStatus, at now: Date, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE bundles SET status = ?, ended_at = ? WHERE ubr = ?",
            arguments: [status.rawValue, Column.millis(now), Column.number(ubr)])
    }

    // MARK: Crossings

    static func crossing(_ db: Database, requestID: String) throws -> (Crossing, DecisionRequest)? {
        let stmt = try db.cachedStatement(sql: "SELECT * FROM crossings WHERE request_id = ?")
        return try Row.fetchOne(stmt, arguments: [requestID]).map(RowMapping.crossingAndRequest)
    }

    /// A stored enum value this build does not know means the file was
    /// written by something else: say where, rather than guess.
    static func decodeEnum<T: RawRepresentable>(_ type: T.Type, _ raw: String, _ column: String) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: raw) else {
            throw StoreError.incompatible("unknown value \"\(raw)\" in \(column)")
        }
        return value
    }
}
