import Foundation
import TestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built executables as a user would, and hands back what they
/// printed and how they exited.
enum Tool {
    /// The build's products directory: the test bundle sits beside lanectl
    /// and clearanced.
    static let products = BuiltProducts.directory

    static func path(_ name: String) -> String {
        products.appendingPathComponent(name).path
    }

    /// What a run printed and its exit status.
    struct Run: Sendable, CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String

        var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
    }

    /// The environment without the LANEKIOSK_ variables a developer may
    /// have set, so each test says exactly what lanectl sees.
    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LANEKIOSK_") }.merging(extra) { $1 }
    }

    /// Runs lanectl with these arguments to its end.
    static func lanectl(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
        try await run(path("lanectl"), arguments, environment: environment)
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:])
        async throws -> Run
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lanectl-run-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout")
        let err = directory.appendingPathComponent("stderr")
        let process = try start(executable, arguments, environment: environment, stdout: out, stderr: err)
        let status = await exit(of: process)
        return Run(
            status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Starts a process whose output goes to files, for runs that last.
    static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdout: URL,
        stderr: URL
    ) throws -> Process {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CocoaError(
                .fileNoSuchFile,
                userInfo: [NSLocalizedDescriptionKey: "\(executable) is not built; swift build builds it"])
        }
        for file in [stdout, stderr] {
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw CocoaError(
                    .fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot create \(file.path)"])
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = Self.environment(environment)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        return process
    }

    static func exit(of process: Process) async -> Int32 {
        await process.finish()
        return process.terminationStatus
    }

    /// Waits until `file` holds `text`, or fails after `seconds`: for a
    /// process's output that arrives while it runs. The limit only keeps a
    /// broken run from hanging the suite; nothing measures how long it took.
    static func wait(for text: String, in file: URL, seconds: Double = 30) async throws -> String {
        var content = ""
        let seen = await eventually(within: .seconds(seconds), every: .milliseconds(50)) {
            content = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            return content.contains(text)
        }
        guard seen else {
            throw CocoaError(
                .fileReadUnknown,
                userInfo: [
                    NSLocalizedDescriptionKey: "never saw '\(text)' in \(file.path); it holds:\n\(content)"
                ])
        }
        return content
    }

    /// A fresh directory for one test's files.
    static func scratch() throws -> URL {
        // Short: a Unix socket path must fit in 108 bytes.
        let url = URL(fileURLWithPath: "/tmp/lctl-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A Unix socket of `type` bound to `path`: its descriptor, or -1.
func boundUnixSocket(_ path: String, type: Int32) -> Int32 {
    let fd = socket(AF_UNIX, type, 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    guard bound == 0 else {
        close(fd)
        return -1
    }
    return fd
}
