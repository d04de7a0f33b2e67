import ClearanceCore
import Foundation
import RoadCargo

/// A watch-list entry as stored, with who put it there and why.
public struct WatchEntry: Sendable, Hashable, Codable {
    public var id: Int64
    public var target: WatchTarget
    public var note: String
    public var addedBy: String
    public var addedAt: Date

    public init(id: Int64, target: WatchTarget, note: String, addedBy: String, addedAt: Date) {
        self.id = id
        self.target = target
        self.note = note
        self.addedBy = addedBy
        self.addedAt = addedAt
    }
}

/// A vehicle's passage through a lane, as central recorded it.
public struct Crossing: Sendable, Hashable, Codable {
    public var id: Int64
    public var lane: LaneID
    public var vrn: VRN
    public var arrivedAt: Date
    public var unladenPressed: Bool
    public var decision: Decision
    public var decidedAt: Date

    public init(
        id: Int64, lane: LaneID, vrn: VRN, arrivedAt: Date, unladenPressed: Bool, decision: Decision,
        decidedAt: Date
    ) {
        self.id = id
        self.lane = lane
        self.vrn = vrn
        self.arrivedAt = arrivedAt
        self.unladenPressed = unladenPressed
        self.decision = decision
        self.decidedAt = decidedAt
    }
}

/// The result of one record of a batch upload: accepted with its
/// consignment, or refused with the reasons; records are independent.
public enum BatchRecordResult: Sendable {
    case accepted(Consignment)
    case refused([ValidationIssue])
}

/// Central's persistent state, behind one interface so that a deployment for
/// many control points can put a database server behind it instead of the
/// embedded SQLite file (``SQLiteCargoStore``).
///
/// Every mutating call runs the rules of ClearanceCore inside one write
/// transaction, so that check and change are atomic: a refused request leaves
/// the store exactly as it was. Refusals are thrown as `ValidationFailure`
/// (bad input), `RuleConflict` (the stored state forbids it), `AccessDenied`
/// (someone else's record) or ``StoreError/notFound(_:)``.
public protocol CargoRepository: ConsoleRepository {
    // MARK: Consignments
    /// Validates, allocates a fresh CCRN and stores the consignment.
    func submitConsignment(_ submission: ConsignmentSubmission, by account: Account, at now: Date)
        async throws
        -> Consignment
    /// Each record is validated and stored on its own; a refused record
    /// changes nothing.
    func submitBatch(_ submissions: [ConsignmentSubmission], by account: Account, at now: Date) async throws
        -> [BatchRecordResult]
    func consignment(_ ccrn: CCRN) async throws -> Consignment?
    /// Only the submitting account (or an officer) may amend or withdraw.
    func amendConsignment(
        _ ccrn: CCRN, to submission: ConsignmentSubmission, by account: Account, at now: Date
    )
        async throws -> Consignment
    func withdrawConsignment(_ ccrn: CCRN, by account: Account, at now: Date) async throws -> Consignment

    // MARK: Bundles
    /// Checks the bundling rules, allocates a fresh UBR, marks the CCRNs bundled.
    func createBundle(_ request: BundleRequest, by account: Account, at now: Date) async throws -> CargoBundle
    /// Ends an active bundle and frees its CCRNs.
    func debundle(_ ubr: UBR, by account: Account, at now: Date) async throws -> CargoBundle
    func bundle(_ ubr: UBR) async throws -> CargoBundle?
    /// All bundles ever made for a VRN, newest first.
    func bundles(vrn: VRN) async throws -> [CargoBundle]
    /// One index probe: the VRN's active bundle in that direction.
    func activeBundle(vrn: VRN, direction: Direction) async throws -> CargoBundle?

    // MARK: Decisions
    /// Loads what the decision core needs (bundle, its consignments, the
    /// matching watch-list entries) in one read transaction.
    func decisionCase(for request: DecisionRequest) async throws -> DecisionCase
    /// What a lane would be told now, recording and claiming nothing (the
    /// officers' dry run): the same read of the case as ``decideCrossing(requestID:claimant:request:policy:at:)``.
    func dryRunDecision(for request: DecisionRequest, policy: DecisionPolicy, at now: Date) async throws
        -> Decision
    /// Reads the VRN's bundle, decides, claims the bundle for `claimant` and
    /// records the crossing, in one write transaction: of any number of
    /// concurrent requests (lanes, central processes) on one bundle,
    /// exactly one decides on it; the others find no active bundle. A
    /// bundle claimed by `claimant` itself is decided on again. Idempotent
    /// by `requestID`: the same request again returns the first crossing.
    func decideCrossing(
        requestID: String, claimant: String, request: DecisionRequest, policy: DecisionPolicy, at now: Date
    ) async throws -> Crossing
    /// The vehicle decided about at `lane` left it: the bundle that lane's
    /// passage claimed becomes used and its CCRNs spent (bundling rule 5).
    func recordVehicleLeft(lane: LaneID, ubr: UBR, at now: Date) async throws -> VehicleLeftOutcome
    /// A passage's vehicle left lane `lane`: the bundle `claimant` (the
    /// passage) claimed becomes used; when it claimed none, the bundle `ubr`
    /// the lane named, as ``recordVehicleLeft(lane:ubr:at:)``.
    func recordVehicleLeft(lane: LaneID, claimant: String, ubr: UBR?, at now: Date) async throws
        -> VehicleLeftOutcome
    func crossings(vrn: VRN?, limit: Int) async throws -> [Crossing]

    // MARK: Offline crossings (reconciliation)
    /// Applies a decision `lane` made offline, in one write transaction:
    /// claims its bundle for `claimant` (the passage) when the bundle is
    /// active and is the VRN's in the lane's direction (`applied`; already
    /// claimed by `claimant` counts too), records `no_bundle` for a decision
    /// on no bundle, and otherwise a `conflict` saying exactly what was
    /// wrong; and adds the crossing to the crossing history (request id
    /// `offline:<lane>:<request id>`). Idempotent by (lane, request id): a
    /// resend returns the first record and changes nothing.
    func applyOfflineCrossing(_ report: OfflineCrossing, lane: Lane, claimant: String, receivedAt: Date)
        async throws -> OfflineCrossingRecord
    /// Offline crossings, newest first.
    func offlineCrossings(_ filter: OfflineCrossingFilter, limit: Int) async throws -> [OfflineCrossingRecord]
    func offlineCrossing(id: Int64) async throws -> OfflineCrossingRecord?
    /// Per lane that ever sent one: received, applied, no bundle, conflicts, open conflicts.
    func offlineCrossingCounts() async throws -> [LaneID: OfflineCrossingCounts]
    /// Records that `officer` has seen a conflict and dealt with it; the
    /// record stays. Throws `RuleConflict` for a record that is not a
    /// conflict or was acknowledged already (naming who and when), and
    /// ``StoreError/notFound(_:)`` for an unknown id.
    func acknowledgeConflict(id: Int64, officer: String, at now: Date, note: String?) async throws
        -> OfflineCrossingRecord

    // MARK: Watch list
    func watchEntries() async throws -> [WatchEntry]
    func addWatch(_ target: WatchTarget, note: String, by officer: Account, at now: Date) async throws
        -> WatchEntry
    /// Returns false when no such entry existed.
    func removeWatch(id: Int64) async throws -> Bool

    // MARK: Lanes
    func lanes() async throws -> [Lane]
    func lane(_ id: LaneID) async throws -> Lane?
    func putLane(_ lane: Lane) async throws
    func removeLane(_ id: LaneID) async throws -> Bool

    // MARK: The lane link
    /// Stores a lane's report. Idempotent: the same event (lane, time to the
    /// millisecond, kind, fields) stored again returns the first record.
    func recordLaneEvent(_ event: LaneEventRecord) async throws -> LaneEventRecord
    /// A lane's reports, newest first (by when they happened).
    func laneEvents(lane: LaneID, limit: Int) async throws -> [LaneEventRecord]
    /// Records an officer's command before it is sent; returns it with its id.
    func recordOfficerAction(_ action: OfficerActionRecord) async throws -> OfficerActionRecord
    /// Notes the link message that carries a recorded command.
    func setOfficerActionMessage(id: Int64, messageID: UInt64) async throws
    /// Officers' commands, newest first; all lanes when `lane` is nil.
    func officerActions(lane: LaneID?, limit: Int) async throws -> [OfficerActionRecord]
    /// Active bundles of a direction with their CCRNs' facts, and the watch
    /// list: what a lane's offline cache is built from.
    func offlineCacheSource(direction: Direction) async throws -> OfflineCacheSource
    /// Records a cache push and gives it a generation above every earlier
    /// one and at least `floor` (callers pass the clock in microseconds, so
    /// generations also order by time while the clock behaves).
    func recordCachePush(
        lane: LaneID, floor: UInt64, cause: CachePushCause, requestedBy: String?, bundles: Int,
        watchTargets: Int, omitted: Int, chunks: Int, at now: Date
    ) async throws -> CachePushRecord
    /// A lane's cache pushes, newest first.
    func cachePushes(lane: LaneID, limit: Int) async throws -> [CachePushRecord]
    /// Up to `limit` changes of the cache feed after `position`, with each
    /// changed bundle's state now, read in one snapshot.
    func cacheChanges(after position: Int64, limit: Int) async throws -> CacheChangeBatch
    /// Deletes all but the newest `keeping` changes of the cache feed;
    /// returns how many went.
    func pruneCacheChanges(keeping: Int) async throws -> Int

    // MARK: Accounts
    /// Creates an account and returns its bearer token, shown once; only its
    /// SHA-256 hash is stored.
    func addAccount(_ account: Account) async throws -> String
    /// The account a bearer token belongs to, or nil.
    func account(forToken token: String) async throws -> Account?
    /// The account with this name (ignoring case), or nil.
    func account(named name: String) async throws -> Account?

    // MARK: Health
    /// One trivial query: the watchdog's probe that the store still answers.
    func ping() async throws
}

public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case notFound(String)
    case duplicate(String)
    /// The file is not a LaneKiosk store, or was written by a newer version.
    case incompatible(String)

    public var description: String {
        switch self {
        case .notFound(let what): "\(what) not found"
        case .duplicate(let what): "\(what) already exists"
        case .incompatible(let why): why
        }
    }
}
