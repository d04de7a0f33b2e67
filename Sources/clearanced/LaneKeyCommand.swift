import ArgumentParser
import CargoStore
import Foundation
import LaneLink
import LinkCore
import RoadCargo

/// `clearanced lane key`: issues (or reissues) a lane's link key file.
///
/// Central loads every key in its key directory at start; the lane gets a
/// copy of its own file. Reissuing replaces the file, so the lane must get
/// the new copy too, and central loads it on SIGHUP (`systemctl reload
/// clearanced`) or at its next start.
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

/// `clearanced lane rotate-key`: a new key for a lane without cutting it off.
///
/// The current `LANE.key` becomes `LANE.previous.key`, accepted until
/// `LANE.previous.until` (now + the window); a new `LANE.key` is written.
/// Central loads both on SIGHUP (`systemctl reload clearanced`) or at its
/// next start; the lane keeps linking on its old
/// key until a technician installs the new file (docs/link-operations.md).
struct RotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Issue a lane's next link key; its current key stays valid for a window.")

    @Option(help: "Lane id, e.g. LMC-IN-01.")
    var id: String

    @Option(name: .customLong("keys-dir"), help: "Central's key directory, holding DIR/LANE-ID.key.")
    var keysDir: String

    @Option(name: .customLong("window-hours"), help: "How long the current key stays accepted (hours).")
    var windowHours: Double = 24

    func validate() throws {
        do { _ = try LaneID(id) } catch { throw ValidationError("--id: \(error.issues[0].detail)") }
        guard windowHours > 0, windowHours <= 24 * 30 else {
            throw ValidationError(
                "--window-hours must be above 0 and at most 720 (30 days), not \(windowHours)")
        }
    }

    func run() async throws {
        let lane = try LaneID(id)
        let dir = URL(fileURLWithPath: keysDir)
        let current = dir.appendingPathComponent("\(lane).key").path
        let previous = dir.appendingPathComponent(lane.value + LinkKeyring.previousSuffix).path
        let expiry = dir.appendingPathComponent(lane.value + LinkKeyring.previousExpirySuffix).path
        let old: LinkKey
        do { old = try LinkKey.load(from: current) } catch {
            printError("clearanced: cannot rotate: \(error); issue a first key with clearanced lane key")
            throw exitConfig
        }
        let until = Date().addingTimeInterval(windowHours * 3600)
        do {
            // A rotation within the window of the last one retires the older key now.
            try? FileManager.default.removeItem(atPath: previous)
            try FileManager.default.moveItem(atPath: current, toPath: previous)
            try (ISO8601DateFormatter().string(from: until) + "\n").write(
                toFile: expiry, atomically: true, encoding: .utf8)
            let new = try LinkKey.generate(for: lane, writingTo: current)
            print("link key for \(lane) rotated: new \(new.fingerprint) in \(current)")
            print(
                "previous key \(old.fingerprint) accepted until \(ISO8601DateFormatter().string(from: until))"
            )
            print(
                "reload clearanced (systemctl reload clearanced, or SIGHUP) to load both, then install \(current) on the lane and restart laned"
            )
        } catch {
            printError("clearanced: cannot rotate the key of \(lane): \(error)")
            throw ExitCode(73)
        }
    }
}
