import Foundation
import LinkCore
import RoadCargo

// Reading central's key directory is file I/O, so it lives here beside the
// key file reader; the keyring itself is a pure value in LinkCore.
extension LinkKeyring {
    /// Loads every `*.key` file in `directory` (central's key directory).
    /// A file must be named after the lane inside it (`LMC-IN-03.key`) so
    /// that a copied file cannot quietly stand in for another lane. A
    /// `LANE.previous.key` with its `LANE.previous.until` is the lane's
    /// previous key during a rotation (``rotate(to:previous:until:)``).
    public static func load(directory: String) throws(LinkKeyError) -> LinkKeyring {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .unreadable(path: directory, detail: "\(error.localizedDescription)")
        }
        var ring = LinkKeyring()
        let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        for name in names.sorted() where name.hasSuffix(".key") && !name.hasSuffix(previousSuffix) {
            let key = try LinkKey.load(from: path(name))
            guard name == "\(key.laneID.value).key" else {
                throw .conflict(
                    path: path(name), detail: "holds the key of lane \(key.laneID); name it \(key.laneID).key"
                )
            }
            ring.insert(key)
        }
        for name in names.sorted() where name.hasSuffix(previousSuffix) {
            let previous = try LinkKey.load(from: path(name))
            let lane = previous.laneID
            guard name == lane.value + previousSuffix, let current = ring[lane] else {
                throw .conflict(
                    path: path(name),
                    detail: "a previous key needs the lane's current key \(lane).key beside it, and this name"
                )
            }
            let expiryPath = path(lane.value + previousExpirySuffix)
            guard let text = try? String(contentsOfFile: expiryPath, encoding: .utf8),
                let until = ISO8601DateFormatter().date(
                    from: text.trimmingCharacters(in: .whitespacesAndNewlines))
            else {
                throw .malformed(
                    source: expiryPath, detail: "expected the previous key's expiry as an ISO 8601 time")
            }
            ring.rotate(to: current, previous: previous, until: until)
        }
        return ring
    }
}
