import ArgumentParser
import Central
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Options of `serve` bounding what strangers at the HTTP door may cost;
/// the defaults are tabled in docs/api.md ("Connection limits").
struct HTTPOptions: ParsableArguments {
    @Option(
        name: .customLong("http-max-request-line"), help: "Bytes of a request line; longer is answered 414.")
    var requestLine = HTTPLimits().requestLine

    @Option(
        name: .customLong("http-max-headers"),
        help: "Bytes of a request's header fields; more is answered 431.")
    var headers = HTTPLimits().headers

    @Option(
        name: .customLong("http-header-timeout"),
        help: "A request's line and headers must arrive within this long (e.g. 10s), else 408 and close.")
    var headerTimeout = "10s"

    @Option(
        name: .customLong("http-body-timeout"),
        help:
            "A request's body must arrive within this long of its headers (e.g. 120s), else the connection closes."
    )
    var bodyTimeout = "120s"

    @Option(
        name: .customLong("http-idle-timeout"),
        help: "A keep-alive connection idle this long is closed (e.g. 60s).")
    var idleTimeout = "60s"

    @Option(
        name: .customLong("http-max-connections"),
        help: "Open HTTP connections in all; more are answered 503.")
    var connections = HTTPLimits().connections

    @Option(
        name: .customLong("http-max-connections-per-peer"),
        help: "Open HTTP connections from one IP address; more are answered 503.")
    var connectionsPerPeer = HTTPLimits().connectionsPerPeer

    @Option(
        name: .customLong("login-threads"),
        help: "Threads that hash console passwords (scrypt); other cores stay free for lanes.")
    var loginThreads = 1

    @Option(
        name: .customLong("login-queue"),
        help: "Console log-ins checked or waiting at once; more are answered 503 before hashing.")
    var loginQueue = 8

    func validate() throws {
        for (name, value) in [
            ("--http-header-timeout", headerTimeout), ("--http-body-timeout", bodyTimeout),
            ("--http-idle-timeout", idleTimeout),
        ]
        where ConsoleOptions.duration(value) == nil {
            throw ValidationError("\(name) \(value): give a duration such as 10s or 2m")
        }
        for (name, value, least) in [
            ("--http-max-request-line", requestLine, 64), ("--http-max-headers", headers, 256),
            ("--http-max-connections", connections, 1),
            ("--http-max-connections-per-peer", connectionsPerPeer, 1),
            ("--login-threads", loginThreads, 1), ("--login-queue", loginQueue, 1),
        ] where value < least {
            throw ValidationError("\(name) \(value): use at least \(least)")
        }
        if loginQueue < loginThreads {
            throw ValidationError(
                "--login-queue \(loginQueue) is smaller than --login-threads \(loginThreads); the queue counts running checks too"
            )
        }
    }

    var limits: HTTPLimits {
        HTTPLimits(
            requestLine: requestLine, headers: headers,
            headerTimeout: ConsoleOptions.duration(headerTimeout)!,
            bodyTimeout: ConsoleOptions.duration(bodyTimeout)!,
            idleTimeout: ConsoleOptions.duration(idleTimeout)!, connectionsPerPeer: connectionsPerPeer,
            connections: connections)
    }

    /// The log-in gate: its own hashing threads, and device cookies signed
    /// with a key derived from the selection key (so consoles stay known
    /// across restarts when that key is in a file).
    func loginGate(selectionKey: Data) -> LoginGate {
        LoginGate(
            pool: PasswordCheckPool(threads: loginThreads, capacity: loginQueue), deviceSecret: selectionKey)
    }

    /// Raises the open-file limit to its hard ceiling: every HTTP connection
    /// and every lane's link is a descriptor, and the caps above are only
    /// worth something below it. Warns when the caps do not fit.
    func raiseOpenFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        // Room beyond HTTP for lanes' links, the store and the log.
        let needed = UInt64(connections) + 512
        if UInt64(limit.rlim_cur) < needed {
            logger.warning(
                "the open-file limit is below what the HTTP connection cap needs; lanes may fail to link under load",
                metadata: [
                    "limit": "\(limit.rlim_cur)", "needed": "\(needed)",
                    "fix": "raise LimitNOFILE or lower --http-max-connections",
                ])
        }
    }
}
