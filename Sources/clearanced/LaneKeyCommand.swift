import ArgumentParser
import CargoStore
import Foundation
import LaneLink
import RoadCargo

/// `clearanced lane key`: issues (or reissues) a lane's link key file.
///
/// Central loads every key in its key directory at start; the lane gets a
/// copy of its own file. Reissuing replaces the file, so the lane must get
/// the new copy too, and central must be restarted to load it.
struct LaneKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Issue a lane's link key file (mode 0600) and print its path.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Lane id, e.g. LMC-IN-01; the lane must exist (clearanced lane add).")
    var id: String

    @Option(name: .customLong("keys-dir"), help: "Central's key directory; the file is DIR/LANE-ID.key.")
    var keysDir: String

    @Flag(help: "Replace an existing key file (the lane keeps failing until it gets the new one).")
    var replace = false

    func validate() throws {
        do { _ = try LaneID(id) } catch { throw ValidationError("--id: \(error.issues[0].detail)") }
    }

    func run() async throws {
        let laneID = try LaneID(id)
        guard try await store.open().lane(laneID) != nil else {
            printError("clearanced: no lane \(laneID) is known; add it first with clearanced lane add")
            throw ExitCode(65)
        }
        try Self.issue(laneID, in: keysDir, replacing: replace)
    }

    /// Writes a fresh key for `lane` as `directory/LANE.key` and prints the path.
    static func issue(_ lane: LaneID, in directory: String, replacing: Bool) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            printError(
                "clearanced: the key directory \(directory) does not exist; create it (mode 0700) first")
            throw exitConfig
        }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("\(lane).key").path
        if replacing, FileManager.default.fileExists(atPath: path) {
            // The writer refuses to overwrite (O_EXCL) so that provisioning
            // never cuts a lane off by accident; --replace says it is meant.
            try FileManager.default.removeItem(atPath: path)
        }
        let key: LinkKey
        do {
            key = try LinkKey.generate(for: lane, writingTo: path)
        } catch {
            printError("clearanced: \(error)")
            throw ExitCode(73)
        }
        print("link key for \(lane) written to \(path) (fingerprint \(key.fingerprint))")
    }
}
