import Foundation
import RoadCargo

/// The keys a receiver accepts, by key id (lane id).
///
/// Central holds every lane's key; a lane holds only its own. A frame whose
/// key id is not here is dropped as "unknown key" before any HMAC is computed.
public struct LinkKeyring: Sendable {
    private var keys: [LaneID: LinkKey]

    /// A keyring holding `keys`; a later key for the same lane replaces an earlier one.
    public init(_ keys: [LinkKey] = []) {
        self.keys = [:]
        for k in keys { self.keys[k.laneID] = k }
    }

    /// The key for `laneID`, if known.
    public subscript(laneID: LaneID) -> LinkKey? { keys[laneID] }

    /// Adds or replaces a lane's key (a lane added while central runs).
    public mutating func insert(_ key: LinkKey) { keys[key.laneID] = key }

    /// Withdraws a lane's key: its frames are dropped from then on.
    public mutating func remove(_ laneID: LaneID) { keys[laneID] = nil }

    /// Every lane with a key, sorted.
    public var laneIDs: [LaneID] { keys.keys.sorted() }

    /// How many lanes have a key.
    public var count: Int { keys.count }

    /// Loads every `*.key` file in `directory` (central's key directory).
    /// A file must be named after the lane inside it (`LMC-IN-03.key`) so
    /// that a copied file cannot quietly stand in for another lane.
    public static func load(directory: String) throws(LinkKeyError) -> LinkKeyring {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .unreadable(path: directory, detail: "\(error.localizedDescription)")
        }
        var ring = LinkKeyring()
        for name in names.sorted() where name.hasSuffix(".key") {
            let path = (directory as NSString).appendingPathComponent(name)
            let key = try LinkKey.load(from: path)
            guard name == "\(key.laneID.value).key" else {
                throw .conflict(
                    path: path, detail: "holds the key of lane \(key.laneID); name it \(key.laneID).key")
            }
            ring.insert(key)
        }
        return ring
    }
}
