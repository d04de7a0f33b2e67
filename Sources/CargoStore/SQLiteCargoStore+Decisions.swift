import ClearanceCore
import Foundation
import GRDB
import RoadCargo

// Lane decisions: reading a VRN's bundle, deciding and claiming the bundle
// in one write transaction, and the bundle's life after that (docs/store.md,
// "Claims").
extension SQLiteCargoStore {
    public func decisionCase(for request: DecisionRequest) async throws -> DecisionCase {
        try await writer.read { db in try Self.decisionCase(for: request, db) }
    }

    /// The case as an outsider sees it now: a bundle claimed by a passage is
    /// no one else's active bundle.
    package static func decisionCase(for request: DecisionRequest, _ db: Database) throws -> DecisionCase {
        try decisionCase(for: request, claimant: nil, at: request.arrivedAt, db).case
    }

    public func dryRunDecision(for request: DecisionRequest, policy: DecisionPolicy, at now: Date)
        async throws -> Decision
    {
        try await writer.read { db in
            DecisionCore.decide(
                try Self.decisionCase(for: request, claimant: nil, at: now, db).case, policy: policy)
        }
    }

    public func decideCrossing(
        requestID: String, claimant: String, request: DecisionRequest, policy: DecisionPolicy, at now: Date
    ) async throws -> Crossing {
        let now = Self.normalised(now)
        return try await transaction { db in
            if let (first, firstRequest) = try Rows.crossing(db, requestID: requestID) {
                try StoreRules.checkResend(requestID: requestID, first: firstRequest, again: request)
                return first
            }
            // Lapsed claims are settled first, so the case is read as it stands now.
            if let open = try Rows.activeBundle(db, vrn: request.vrn, direction: request.lane.direction) {
                _ = try Self.settleLapsedClaim(open, now: now, db)
            }
            let (decisionCase, state) = try Self.decisionCase(for: request, claimant: claimant, at: now, db)
            let decision = DecisionCore.decide(decisionCase, policy: policy)
            if let ubr = decision.ubr, let state {
                // Any decision on a bundle claims it (CLEARED or INSPECT: the
                // vehicle leaves the lane on it either way, rule 1).
                let claim = BundleLife.Claim(claimant: claimant, lane: request.lane.id, at: now)
                switch BundleLife.apply(.claim(claim), to: state) {
                case .success(.moved(to: .claimed)):
                    try db.execute(
                        sql: """
                            UPDATE bundles SET status = 'claimed', claimed_by = ?, claimed_lane = ?, claimed_at = ?
                            WHERE ubr = ? AND status = 'active'
                            """,
                        arguments: [claimant, request.lane.id.value, Column.millis(now), Column.number(ubr)])
                    // The transaction holds the write lock, so this cannot
                    // miss; if it ever did, no CLEARED may leave this call.
                    guard db.changesCount == 1 else { throw StoreRules.claimLost(ubr) }
                case .success:
                    break  // this claimant's own claim, re-read
                case .failure:
                    throw StoreRules.claimLost(ubr)
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO crossings(request_id, lane_id, control_point, direction, vrn, arrived_at,
                        unladen, instruction, reason, ubr, decision, decided_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    requestID, request.lane.id.value, request.lane.controlPoint.rawValue,
                    request.lane.direction.rawValue, request.vrn.value, Column.millis(request.arrivedAt),
                    request.unladenPressed, decision.instruction.rawValue, decision.reason.rawValue,
                    decision.ubr.map(Column.number), try Column.json(decision), Column.millis(now),
                ])
            return try Rows.crossing(db, requestID: requestID)!.0
        }
    }

    public func recordVehicleLeft(lane: LaneID, ubr: UBR, at now: Date) async throws -> VehicleLeftOutcome {
        let now = Self.normalised(now)
        return try await transaction { db in
            guard let bundle = try Rows.bundle(db, ubr) else { return .unknownBundle }
            return try Self.vehicleLeft(bundle, lane: lane, at: now, db)
        }
    }

    public func recordVehicleLeft(lane: LaneID, claimant: String, ubr: UBR?, at now: Date) async throws
        -> VehicleLeftOutcome
    {
        let now = Self.normalised(now)
        return try await transaction { db in
            // The bundle this passage claimed, whatever the lane showed: rule 1,
            // "in every case the bundle becomes used once the vehicle leaves",
            // also when the answer never reached the boards.
            // Its open claim first: a passage whose claim lapsed (used) may
            // have claimed the plate's next bundle since; the leaving is
            // about that one.
            if let claimed = try Int64.fetchOne(
                db,
                sql: """
                    SELECT ubr FROM bundles WHERE claimed_by = ?
                    ORDER BY status = 'claimed' DESC, ubr DESC LIMIT 1
                    """,
                arguments: [claimant]),
                let bundle = try Rows.bundle(db, Column.ubr(claimed))
            {
                return try Self.vehicleLeft(bundle, lane: lane, at: now, db)
            }
            guard let ubr else { return .nothingClaimed }
            guard let bundle = try Rows.bundle(db, ubr) else { return .unknownBundle }
            return try Self.vehicleLeft(bundle, lane: lane, at: now, db)
        }
    }

    private static func vehicleLeft(_ bundle: CargoBundle, lane: LaneID, at now: Date, _ db: Database) throws
        -> VehicleLeftOutcome
    {
        let state = try Self.lifeState(bundle, db)
        switch BundleLife.apply(.vehicleLeft(lane: lane), to: state) {
        case .success(.moved(to: .used)):
            try Self.use(bundle, at: now, db)
            return .used
        case .success:
            return .alreadyUsed
        case .failure(let refusal):
            return .refused(refusal)
        }
    }

    /// The VRN's open bundle, its state, and the case built with it. A
    /// bundle claimed by another claimant (or whose claim lapsed by `now`)
    /// is left out: rule 1 asks for an active bundle, and that one is not.
    /// One claimed by `claimant` itself is this passage's, and is decided on
    /// as active.
    static func decisionCase(
        for request: DecisionRequest, claimant: String?, at now: Date, _ db: Database
    ) throws -> (case: DecisionCase, state: BundleLife.State?) {
        let found = try Rows.activeBundle(db, vrn: request.vrn, direction: request.lane.direction)
        let (bundle, state) = StoreRules.judgeOpenBundle(
            found, life: try found.map { try lifeState($0, db) }, claimant: claimant, at: now)
        let watched = try db.cachedStatement(
            sql: "SELECT 1 FROM watch_list WHERE kind = ? AND value = ? LIMIT 1")
        func isWatched(_ target: WatchTarget) throws -> Bool {
            try Bool.fetchOne(watched, arguments: [target.kind, target.value]) ?? false
        }
        // Only the watch-list entries that could match this vehicle are
        // loaded (its VRN, its CCRNs, its consignees), each by one index
        // probe, so the cost of a decision does not grow with the watch list.
        var targets: [WatchTarget] = []
        if try isWatched(.vrn(request.vrn)) { targets.append(.vrn(request.vrn)) }
        var facts: [CCRN: ConsignmentFacts] = [:]
        if let bundle {
            for ccrn in bundle.ccrns {
                guard let fact = try Rows.consignmentFacts(db, ccrn) else { continue }
                facts[ccrn] = fact
                if try isWatched(.ccrn(ccrn)) { targets.append(.ccrn(ccrn)) }
                if let name = fact.consignee, try isWatched(.consignee(name)) {
                    targets.append(.consignee(name))
                }
            }
        }
        return (
            DecisionCase(request: request, bundle: bundle, facts: facts, watchList: WatchList(targets)),
            state
        )
    }

    /// A claimed bundle whose claim lapsed becomes used (its vehicle has
    /// long left); any other bundle is returned as it is.
    static func settleLapsedClaim(_ bundle: CargoBundle, now: Date, _ db: Database) throws -> CargoBundle {
        guard bundle.status == .claimed else { return bundle }
        guard
            case .success(.moved(to: .used)) = BundleLife.apply(
                .tick(now: now), to: try lifeState(bundle, db))
        else { return bundle }
        try use(bundle, at: now, db)
        return try Rows.bundle(db, bundle.ubr)!
    }

    /// Bundling rule 5: the bundle is used, its CCRNs spent.
    static func use(_ bundle: CargoBundle, at now: Date, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE bundles SET status = 'used', ended_at = ? WHERE ubr = ? AND status = 'claimed'",
            arguments: [Column.millis(now), Column.number(bundle.ubr)])
        guard db.changesCount == 1 else { throw StoreRules.claimLost(bundle.ubr) }
        for ccrn in bundle.ccrns {
            try Rows.setStatus(ccrn, .spent, bundledIn: bundle.ubr, db)
        }
    }

    static func lifeState(_ bundle: CargoBundle, _ db: Database) throws -> BundleLife.State {
        switch bundle.status {
        case .active: return .active
        case .debundled: return .debundled
        case .used: return .used
        case .claimed:
            let row = try Row.fetchOne(
                db, sql: "SELECT claimed_by, claimed_lane, claimed_at FROM bundles WHERE ubr = ?",
                arguments: [Column.number(bundle.ubr)])!
            return .claimed(try RowMapping.claim(row))
        }
    }
}

/// What a vehicle's leaving did to the bundle it was decided on.
public enum VehicleLeftOutcome: Sendable, Hashable {
    /// The lane's claim became used; its CCRNs are spent.
    case used
    /// It was used already (the lane reported the leaving again).
    case alreadyUsed
    /// The bundle was not claimed at that lane (see the refusal): nothing changed.
    case refused(BundleLife.Refusal)
    /// No bundle has that UBR.
    case unknownBundle
    /// The passage claimed no bundle and the lane named none (an unladen
    /// truck, a vehicle with no bundle).
    case nothingClaimed
}
