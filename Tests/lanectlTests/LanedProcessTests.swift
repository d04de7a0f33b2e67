import Foundation
import Synchronization
import TestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The laned executable as systemd and technicians meet it: its exit codes,
/// `--check`, the notify protocol, SIGHUP and SIGTERM, and lanectl talking
/// to it over its real control socket. Central is not running: the lane's
/// link stays down, which a lane must live with.
@Suite struct LanedProcessTests {
    /// A lane's directory: its key (from `clearanced lane add`), its config.
    struct LaneFiles {
        let directory: URL
        var config: URL { directory.appendingPathComponent("lane.yaml") }
        var socket: String { directory.appendingPathComponent("lane.sock").path }

        init(timeout: String = "2s", extra: String = "") async throws {
            directory = try Tool.scratch()
            let keys = directory.appendingPathComponent("keys")
            try FileManager.default.createDirectory(
                at: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let added = try await Tool.run(
                Tool.path("clearanced"),
                [
                    "lane", "add", "--db", directory.appendingPathComponent("central.db").path, "--id",
                    "LMC-IN-01", "--control-point", "LMC", "--direction", "import", "--keys-dir", keys.path,
                ])
            #expect(added.status == 0, "\(added)")
            try write(timeout: timeout, extra: extra)
        }

        func write(timeout: String, extra: String = "") throws {
            let yaml = """
                lane: {id: LMC-IN-01, control_point: LMC, direction: import}
                decision: {timeout: \(timeout)}
                link: {tcp: {host: 127.0.0.1, port: 9}, key_file: keys/LMC-IN-01.key}
                gpio: {backend: virtual}
                displays: {backend: headless}
                journal: {path: journal.sqlite}
                control: {socket: lane.sock, allow_virtual_inputs: true}
                \(extra)
                """
            try yaml.write(to: config, atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func aWrongConfigExits78NamingTheFileAndTheKey() async throws {
        let files = try await LaneFiles(timeout: "soon")
        defer { files.remove() }
        let run = try await Tool.run(Tool.path("laned"), ["--config", files.config.path])
        #expect(run.status == 78, "\(run)")
        #expect(run.stderr.contains("decision.timeout"), "\(run)")
        #expect(run.stderr.contains(files.config.path), "\(run)")
        #expect(run.stderr.contains("500ms"), "the message says what was expected: \(run)")
    }

    @Test func aKeyFileOthersCanReadIsRefusedWith78() async throws {
        let files = try await LaneFiles()
        defer { files.remove() }
        let key = files.directory.appendingPathComponent("keys/LMC-IN-01.key").path
        #expect(chmod(key, 0o644) == 0)
        let run = try await Tool.run(Tool.path("laned"), ["--config", files.config.path])
        #expect(run.status == 78, "\(run)")
        #expect(run.stderr.contains("link.key_file"), "\(run)")
    }

    @Test func checkPrintsTheConfigInUseWithItsDefaults() async throws {
        let files = try await LaneFiles()
        defer { files.remove() }
        let run = try await Tool.run(Tool.path("laned"), ["--config", files.config.path, "--check"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("decision.timeout: 2s"), "\(run)")
        #expect(run.stdout.contains("decision.unladen_grace: 20s"), "a default is shown too: \(run)")
        #expect(run.stdout.contains("offline.phase: full"), "\(run)")

        // The files it names are checked too: an installer learns before the first start.
        let key = files.directory.appendingPathComponent("keys/LMC-IN-01.key").path
        #expect(chmod(key, 0o644) == 0)
        let open = try await Tool.run(Tool.path("laned"), ["--config", files.config.path, "--check"])
        #expect(open.status == 78, "\(open)")
        #expect(open.stderr.contains("link.key_file"), "\(open)")
    }

    @Test func aLaneRunsTellsSystemdReloadsOnHangupAndStopsOnTerm() async throws {
        let files = try await LaneFiles()
        defer { files.remove() }
        let notify = try NotifySocket(path: files.directory.appendingPathComponent("notify").path)
        let out = files.directory.appendingPathComponent("stdout")
        let err = files.directory.appendingPathComponent("stderr")
        let laned = try Tool.start(
            Tool.path("laned"), ["--config", files.config.path],
            environment: [
                "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000", "SDL_VIDEODRIVER": "offscreen",
            ],
            stdout: out, stderr: err)
        defer { if laned.isRunning { laned.terminate() } }

        #expect(try await notify.wait(for: "READY=1"), "READY=1 once journal, boards and buttons are up")
        #expect(try await notify.wait(for: "WATCHDOG=1"), "the main loop feeds the watchdog")

        // lanectl against the real daemon.
        let open = try await Tool.lanectl(["open", "--socket", files.socket])
        #expect(open.status == 0, "\(open)")
        let arrive = try await Tool.lanectl(["arrive", "--socket", files.socket, "ab 1234"])
        #expect(arrive.status == 0, "\(arrive)")
        #expect(arrive.stdout.contains("AB1234"), "\(arrive)")
        let status = try await Tool.lanectl(["status", "--socket", files.socket])
        #expect(status.stdout.contains("STOP"), "\(status)")
        #expect(status.stdout.contains("link down"), "central is not there, and the lane says so: \(status)")
        let journal = try await Tool.lanectl(["journal", "--socket", files.socket])
        #expect(journal.stdout.contains("decision_requested"), "\(journal)")

        // SIGHUP: a reloadable key applies; the lane keeps running.
        try files.write(timeout: "5s")
        #expect(kill(laned.processIdentifier, SIGHUP) == 0)
        let log = try await Tool.wait(for: "config reloaded", in: err)
        #expect(log.contains("decision.timeout"), "the log names what was applied: \(log)")
        #expect(try await notify.wait(for: "RELOADING=1"))
        // A broken edit is refused and changes nothing.
        try files.write(timeout: "soon")
        #expect(kill(laned.processIdentifier, SIGHUP) == 0)
        _ = try await Tool.wait(for: "config not reloaded", in: err)
        #expect(try await Tool.lanectl(["status", "--socket", files.socket]).status == 0)

        laned.terminate()
        #expect(await Tool.exit(of: laned) == 0)
        #expect(try await notify.wait(for: "STOPPING=1"))
        #expect(!FileManager.default.fileExists(atPath: files.socket), "the socket file is removed on stop")
    }
}

/// systemd's side of the notify protocol: a Unix datagram socket that
/// collects what the service sends. A task drains it all the time, as
/// systemd does: the kernel queues only `net.unix.max_dgram_qlen` (often 10)
/// datagrams, five seconds of WATCHDOG=1 at this test's rate, and a test
/// slowed by a busy machine must not make the daemon's messages wait.
final class NotifySocket: Sendable {
    let path: String
    private let fd: Int32
    private let received = Received()
    private let draining: Task<Void, Never>

    private final class Received: Sendable {
        let messages = Mutex<[String]>([])
    }

    init(path: String) throws {
        self.path = path
        let fd = boundUnixSocket(path, type: Int32(SOCK_DGRAM.rawValue))
        guard fd >= 0 else { throw POSIXError(.EADDRINUSE) }
        // Non-blocking: the drain polls without holding a thread.
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        self.fd = fd
        let received = self.received
        draining = Task {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !Task.isCancelled {
                while true {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    guard n > 0 else { break }
                    let message = String(decoding: buffer[..<n], as: UTF8.self)
                    received.messages.withLock { $0.append(message) }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    deinit {
        draining.cancel()
        close(fd)
    }

    /// Waits up to 30 s for a datagram containing `text`, and consumes
    /// everything received up to it.
    func wait(for text: String) async throws -> Bool {
        await eventually(within: .seconds(30), every: .milliseconds(50)) {
            received.messages.withLock { messages in
                guard let index = messages.firstIndex(where: { $0.contains(text) }) else { return false }
                messages.removeFirst(index + 1)
                return true
            }
        }
    }
}
