import ClearanceCore
import Foundation
import Logging
import PostgresNIO
import RoadCargo

// Lane decisions in PostgreSQL: as SQLiteCargoStore+Decisions, with the
// same one-statement claim (docs/store.md, "Claims").
extension PostgresCargoStore {
    public func decisionCase(for request: DecisionRequest) async throws -> DecisionCase {
        try await read { db in
            try await Self.decisionCase(for: request, claimant: nil, at: request.arrivedAt, db, logger).case
        }
    }

    public func dryRunDecision(for request: DecisionRequest, policy: DecisionPolicy, at now: Date)
        async throws -> Decision
    {
        try await read { db in
            DecisionCore.decide(
                try await Self.decisionCase(for: request, claimant: nil, at: now, db, logger).case,
                policy: policy)
        }
    }

    public func decideCrossing(
        requestID: String, claimant: String, request: DecisionRequest, policy: DecisionPolicy, at now: Date
    ) async throws -> Crossing {
        let now = SQLiteCargoStore.normalised(now)
        return try await transaction(lockingFeed: true) { db in
            if let (first, firstRequest) = try await PGRows.crossing(db, requestID: requestID, logger) {
                try StoreRules.checkResend(requestID: requestID, first: firstRequest, again: request)
                return first
            }
            if let open = try await PGRows.activeBundle(
                db, vrn: request.vrn, direction: request.lane.direction, logger)
            {
                _ = try await Self.settleLapsedClaim(open, now: now, db, logger)
            }
            let (decisionCase, state) = try await Self.decisionCase(
                for: request, claimant: claimant, at: now, db, logger)
            let decision = DecisionCore.decide(decisionCase, policy: policy)
            if let ubr = decision.ubr, let state {
                let claim = BundleLife.Claim(claimant: claimant, lane: request.lane.id, at: now)
                switch BundleLife.apply(.claim(claim), to: state) {
                case .success(.moved(to: .claimed)):
                    // The claim: one conditional statement. Of concurrent
                    // transactions only one can change the row from active;
                    // the others are rolled back (40001) and run again, and
                    // then find it claimed.
                    let claimed = try await db.rows(
                        """
                        UPDATE bundles SET status = 'claimed', claimed_by = \(claimant),
                            claimed_lane = \(request.lane.id.value), claimed_at = \(Column.millis(now))
                        WHERE ubr = \(Column.number(ubr)) AND status = 'active' RETURNING ubr
                        """, logger)
                    guard claimed.count == 1 else { throw StoreRules.claimLost(ubr) }
                case .success:
                    break
                case .failure:
                    throw StoreRules.claimLost(ubr)
                }
            }
            try await db.rows(
                """
                INSERT INTO crossings(request_id, lane_id, control_point, direction, vrn, arrived_at,
                    unladen, instruction, reason, ubr, decision, decided_at)
                VALUES (\(requestID), \(request.lane.id.value), \(request.lane.controlPoint.rawValue),
                    \(request.lane.direction.rawValue), \(request.vrn.value), \(Column.millis(request.arrivedAt)),
                    \(request.unladenPressed), \(decision.instruction.rawValue), \(decision.reason.rawValue),
                    \(decision.ubr.map(Column.number)), \(try Column.json(decision))::jsonb, \(Column.millis(now)))
                """, logger)
            return try await PGRows.crossing(db, requestID: requestID, logger)!.0
        }
    }

    public func recordVehicleLeft(lane: LaneID, ubr: UBR, at now: Date) async throws -> VehicleLeftOutcome {
        let now = SQLiteCargoStore.normalised(now)
        return try await transaction(lockingFeed: true) { db in
            guard let bundle = try await PGRows.bundle(db, ubr, logger) else { return .unknownBundle }
            return try await Self.vehicleLeft(bundle, lane: lane, at: now, db, logger)
        }
    }

    public func recordVehicleLeft(lane: LaneID, claimant: String, ubr: UBR?, at now: Date) async throws
        -> VehicleLeftOutcome
    {
        let now = SQLiteCargoStore.normalised(now)
        return try await transaction(lockingFeed: true) { db in
            // As in SQLite: the passage's open claim first, else its latest.
            if let claimed = try await db.rows(
                """
                SELECT ubr FROM bundles WHERE claimed_by = \(claimant)
                ORDER BY status = 'claimed' DESC, ubr DESC LIMIT 1
                """, logger
            ).first,
                let bundle = try await PGRows.bundle(db, Column.ubr(try claimed.int("ubr")), logger)
            {
                return try await Self.vehicleLeft(bundle, lane: lane, at: now, db, logger)
            }
            guard let ubr else { return .nothingClaimed }
            guard let bundle = try await PGRows.bundle(db, ubr, logger) else { return .unknownBundle }
            return try await Self.vehicleLeft(bundle, lane: lane, at: now, db, logger)
        }
    }

    private static func vehicleLeft(
        _ bundle: CargoBundle, lane: LaneID, at now: Date, _ db: PostgresConnection, _ logger: Logger
    ) async throws -> VehicleLeftOutcome {
        let state = try await PGRows.lifeState(bundle, db, logger)
        switch BundleLife.apply(.vehicleLeft(lane: lane), to: state) {
        case .success(.moved(to: .used)):
            try await use(bundle, at: now, db, logger)
            return .used
        case .success:
            return .alreadyUsed
        case .failure(let refusal):
            return .refused(refusal)
        }
    }

    /// As ``SQLiteCargoStore``'s: the VRN's open bundle judged for
    /// `claimant`, and only the watch entries that could match.
    static func decisionCase(
        for request: DecisionRequest, claimant: String?, at now: Date, _ db: PostgresConnection,
        _ logger: Logger
    ) async throws -> (case: DecisionCase, state: BundleLife.State?) {
        let found = try await PGRows.activeBundle(
            db, vrn: request.vrn, direction: request.lane.direction, logger)
        var life: BundleLife.State?
        if let found { life = try await PGRows.lifeState(found, db, logger) }
        let (bundle, state) = StoreRules.judgeOpenBundle(found, life: life, claimant: claimant, at: now)
        // Two round trips whatever the bundle holds: its consignments' facts
        // in one statement, then every watch-list entry that could match
        // (the VRN, each CCRN, each consignee) in another.
        let facts = try await PGRows.consignmentFacts(db, bundle?.ccrns ?? [], logger)
        var candidates: [WatchTarget] = [.vrn(request.vrn)]
        for ccrn in bundle?.ccrns ?? [] {
            guard let fact = facts[ccrn] else { continue }
            candidates.append(.ccrn(ccrn))
            if let name = fact.consignee { candidates.append(.consignee(name)) }
        }
        let targets = try await PGRows.watched(candidates, db, logger)
        return (
            DecisionCase(request: request, bundle: bundle, facts: facts, watchList: WatchList(targets)),
            state
        )
    }

    /// A claimed bundle whose claim lapsed becomes used; any other is returned as it is.
    static func settleLapsedClaim(
        _ bundle: CargoBundle, now: Date, _ db: PostgresConnection, _ logger: Logger
    ) async throws -> CargoBundle {
        guard bundle.status == .claimed else { return bundle }
        guard
            case .success(.moved(to: .used)) = BundleLife.apply(
                .tick(now: now), to: try await PGRows.lifeState(bundle, db, logger))
        else { return bundle }
        try await use(bundle, at: now, db, logger)
        return try await PGRows.bundle(db, bundle.ubr, logger)!
    }

    /// Bundling rule 5: the bundle is used, its CCRNs spent.
    static func use(_ bundle: CargoBundle, at now: Date, _ db: PostgresConnection, _ logger: Logger)
        async throws
    {
        let used = try await db.rows(
            """
            UPDATE bundles SET status = 'used', ended_at = \(Column.millis(now))
            WHERE ubr = \(Column.number(bundle.ubr)) AND status = 'claimed' RETURNING ubr
            """, logger)
        guard used.count == 1 else { throw StoreRules.claimLost(bundle.ubr) }
        for ccrn in bundle.ccrns {
            try await PGRows.setStatus(ccrn, .spent, bundledIn: bundle.ubr, db, logger)
        }
    }
}
