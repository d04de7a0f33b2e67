import Foundation
import RoadCargo

/// The keys a receiver accepts, by key id (lane id), with an optional
/// previous key per lane during a rotation.
///
/// Central holds every lane's key; a lane holds only its own. During a
/// rotation central holds the lane's new key and its previous one, which it
/// still accepts until a deadline, so that the lane keeps linking with the
/// old key until a technician installs the new one (docs/link-operations.md).
public struct LinkKeyring: Sendable {
    struct Entry: Sendable {
        var current: LinkKey
        var previous: LinkKey?
        var previousUntil: Date?
    }

    private var keys: [LaneID: Entry]

    /// A keyring holding `keys`; a later key for the same lane replaces an earlier one.
    public init(_ keys: [LinkKey] = []) {
        self.keys = [:]
        for k in keys { self.keys[k.laneID] = Entry(current: k) }
    }

    /// The current key for `laneID`, if known.
    public subscript(laneID: LaneID) -> LinkKey? { keys[laneID]?.current }

    /// The keys to try for a hello from `laneID` at `now`: the current key,
    /// then the previous one while its window lasts.
    public func candidates(for laneID: LaneID, now: Date) -> [LinkKey] {
        guard let entry = keys[laneID] else { return [] }
        var out = [entry.current]
        if let previous = entry.previous, let until = entry.previousUntil, now < until {
            out.append(previous)
        }
        return out
    }

    /// Adds or replaces a lane's key (a lane added while central runs); any
    /// previous key is forgotten.
    public mutating func insert(_ key: LinkKey) { keys[key.laneID] = Entry(current: key) }

    /// Installs `key` as the lane's current key and keeps `previous` (the
    /// key until now) acceptable until `until`.
    public mutating func rotate(to key: LinkKey, previous: LinkKey, until: Date) {
        precondition(key.laneID == previous.laneID, "a rotation stays within one lane")
        keys[key.laneID] = Entry(current: key, previous: previous, previousUntil: until)
    }

    /// When the lane's previous key stops being accepted, if it has one.
    public func previousKeyExpiry(for laneID: LaneID) -> Date? { keys[laneID]?.previousUntil }

    /// Withdraws a lane's key: its frames are dropped from then on.
    public mutating func remove(_ laneID: LaneID) { keys[laneID] = nil }

    /// Every lane with a key, sorted.
    public var laneIDs: [LaneID] { keys.keys.sorted() }

    /// How many lanes have a key.
    public var count: Int { keys.count }

    /// The suffix of a lane's previous key file (`LMC-IN-03.previous.key`).
    public static let previousSuffix = ".previous.key"
    /// The suffix of the file holding that key's expiry, an ISO 8601 time.
    public static let previousExpirySuffix = ".previous.until"
}
