import Foundation

/// A driver's request to bundle CCRNs with a vehicle.
public struct BundleRequest: Sendable, Hashable, Codable {
    public var driverName: String
    public var vrn: VRN
    public var direction: Direction
    public var expectedControlPoint: ControlPoint?
    public var ccrns: [CCRN]

    public init(
        driverName: String, vrn: VRN, direction: Direction, expectedControlPoint: ControlPoint? = nil,
        ccrns: [CCRN]
    ) {
        self.driverName = driverName
        self.vrn = vrn
        self.direction = direction
        self.expectedControlPoint = expectedControlPoint
        self.ccrns = ccrns
    }
}

public enum BundleStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Completed and waiting for its vehicle.
    case active
    /// A lane decided about its vehicle on it: no other passage can clear on
    /// it, and it cannot be debundled; it becomes used when that vehicle
    /// leaves the lane (`docs/rules.md`, "A bundle's life").
    case claimed
    /// Ended by debundling; its CCRNs were freed.
    case debundled
    /// Its vehicle left a lane on it; its CCRNs are spent.
    case used
}

/// A completed bundle.
public struct CargoBundle: Sendable, Hashable, Codable {
    public var ubr: UBR
    public var driverName: String
    /// The driver account that made it: only it may debundle.
    public var driverAccount: String
    public var vrn: VRN
    public var direction: Direction
    public var expectedControlPoint: ControlPoint?
    public var ccrns: [CCRN]
    public var completedAt: Date
    /// completedAt + 30 minutes (bundling rule 2).
    public var earliestCrossing: Date
    public var status: BundleStatus
    public var endedAt: Date?

    public init(
        ubr: UBR, driverName: String, driverAccount: String, vrn: VRN, direction: Direction,
        expectedControlPoint: ControlPoint?, ccrns: [CCRN], completedAt: Date, earliestCrossing: Date,
        status: BundleStatus = .active, endedAt: Date? = nil
    ) {
        self.ubr = ubr
        self.driverName = driverName
        self.driverAccount = driverAccount
        self.vrn = vrn
        self.direction = direction
        self.expectedControlPoint = expectedControlPoint
        self.ccrns = ccrns
        self.completedAt = completedAt
        self.earliestCrossing = earliestCrossing
        self.status = status
        self.endedAt = endedAt
    }
}
