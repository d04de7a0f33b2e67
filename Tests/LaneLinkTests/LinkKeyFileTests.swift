import Foundation
import LinkCore
import RoadCargo
import Testing

@testable import LaneLink

@Suite("Link key files")
struct LinkKeyFileTests {
    static let laneA = try! LaneID("LMC-IN-03")
    static let laneB = try! LaneID("LMC-IN-04")

    /// A fresh directory per test, removed afterwards.
    static func withTempDir(_ body: (String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "linkkey-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    @Test("generate writes mode 0600; load reads the same key back")
    func generateAndLoad() throws {
        try Self.withTempDir { dir in
            let path = dir + "/LMC-IN-03.key"
            let key = try LinkKey.generate(for: Self.laneA, writingTo: path)
            #expect(try Self.mode(path) == 0o600)
            let loaded = try LinkKey.load(from: path)
            #expect(loaded.sameKey(as: key))
            #expect(!loaded.sameKey(as: LinkKey.generate(for: Self.laneA)))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix("lanekiosk-link-key v1 LMC-IN-03 ") && text.hasSuffix("\n"))
        }
    }

    @Test("a key file readable by group or others is refused with the chmod to run")
    func tooOpen() throws {
        try Self.withTempDir { dir in
            let path = dir + "/k.key"
            try LinkKey.generate(for: Self.laneA, writingTo: path)
            for mode in [0o640, 0o604, 0o644] {
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
                let error = #expect(throws: LinkKeyError.self) { try LinkKey.load(from: path) }
                #expect(error == .tooOpen(path: path, mode: UInt32(mode)))
                #expect(error?.description.contains("chmod 600 \(path)") == true)
            }
        }
    }

    @Test("an existing key file is never overwritten")
    func noOverwrite() throws {
        try Self.withTempDir { dir in
            let path = dir + "/k.key"
            let first = try LinkKey.generate(for: Self.laneA, writingTo: path)
            #expect(throws: LinkKeyError.exists(path: path)) {
                try LinkKey.generate(for: Self.laneA, writingTo: path)
            }
            #expect(try LinkKey.load(from: path).sameKey(as: first))
        }
    }

    @Test("a missing file and a directory are clear errors")
    func unreadable() throws {
        try Self.withTempDir { dir in
            #expect(throws: LinkKeyError.self) { try LinkKey.load(from: dir + "/none.key") }
            #expect(throws: LinkKeyError.notRegularFile(path: dir)) { try LinkKey.load(from: dir) }
        }
    }

    @Test("a keyring loads a directory and refuses a file named after another lane")
    func keyringDirectory() throws {
        try Self.withTempDir { dir in
            try LinkKey.generate(for: Self.laneA, writingTo: dir + "/LMC-IN-03.key")
            try LinkKey.generate(for: Self.laneB, writingTo: dir + "/LMC-IN-04.key")
            let ring = try LinkKeyring.load(directory: dir)
            #expect(ring.laneIDs == [Self.laneA, Self.laneB])
            try LinkKey.generate(for: Self.laneA, writingTo: dir + "/LMC-IN-05.key")
            #expect(throws: LinkKeyError.self) { try LinkKeyring.load(directory: dir) }
        }
    }
}
