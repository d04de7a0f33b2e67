import Foundation

/// A real clearanced process on loopback with a fresh store, an account per
/// role, and a simulated clock at 2026-11-26 09:00 Hong Kong time with
/// random selection off, started the way scripts/api-fuzz.sh starts it.
final class Clearanced: Sendable {
    let url: String
    let shipper: String
    let driver: String
    let officer: String
    private let process: Process
    private let directory: URL

    init() async throws {
        directory = try Tool.scratch()
        let db = directory.appendingPathComponent("central.sqlite").path
        let binary = Tool.path("clearanced")
        func account(_ name: String, _ role: String) async throws -> String {
            let run = try await Tool.run(
                binary, ["account", "add", "--db", db, "--name", name, "--role", role])
            guard run.status == 0, let token = run.stdout.split(separator: "\n").last else {
                throw CocoaError(
                    .executableLoad, userInfo: [NSLocalizedDescriptionKey: "account add: \(run)"])
            }
            return String(token)
        }
        shipper = try await account("test-shipper", "shipper")
        driver = try await account("test-driver", "driver")
        officer = try await account("test-officer", "officer")
        let out = directory.appendingPathComponent("stdout")
        process = try Tool.start(
            binary,
            [
                "serve", "--db", db, "--host", "127.0.0.1", "--port", "0", "--simulated-clock", "--start",
                "2026-11-26T09:00:00+08:00", "--laden-rate", "0", "--unladen-rate", "0",
            ], stdout: out, stderr: directory.appendingPathComponent("stderr"))
        let printed = try await Tool.wait(for: "listening on ", in: out)
        let address = printed.split(separator: "\n").first { $0.hasPrefix("listening on ") }!
            .dropFirst("listening on ".count)
        url = "http://\(address)"
    }

    /// Ends the server and removes its store.
    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs lanectl against this server with a role's token in LANEKIOSK_TOKEN.
    func lanectl(_ arguments: [String], token: String) async throws -> Tool.Run {
        try await Tool.lanectl(arguments + ["--server", url], environment: ["LANEKIOSK_TOKEN": token])
    }
}
