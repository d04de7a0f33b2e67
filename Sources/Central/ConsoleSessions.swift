import CargoStore
import Foundation
import HTTPTypes
import Hummingbird
import RoadCargo

/// Officers' console log-ins: password check, sessions in an HttpOnly,
/// SameSite=Strict cookie, a per-session CSRF token, expiry, throttling.
///
/// Sessions run on their own clock, normally the system's: an officer who
/// advances a simulated business clock by a day must not be logged out by it.
public struct ConsoleSessions: Sendable {
    public struct Settings: Sendable, Hashable {
        /// A session ends after this long without a request.
        public var idle: Duration
        /// And after this long in any case (a shift).
        public var absolute: Duration
        /// The cost of the stand-in hash checked for names that have none:
        /// the same as stored hashes, so a refusal takes as long either way.
        public var cost: OfficerPasswords.Cost

        public init(
            idle: Duration = .seconds(30 * 60), absolute: Duration = .seconds(12 * 3600),
            cost: OfficerPasswords.Cost = .standard
        ) {
            self.idle = idle
            self.absolute = absolute
            self.cost = cost
        }
    }

    /// An officer's live session.
    public struct Officer: Sendable, Hashable {
        public var account: Account
        public var session: ConsoleSession
    }

    public static let cookieName = "lk_console"
    public static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    public let repository: any CargoRepository
    public let clock: any WallClock
    public let settings: Settings
    /// The throttle, the hashing pool and known consoles.
    public let gate: LoginGate

    public init(
        repository: any CargoRepository, clock: any WallClock, settings: Settings = Settings(),
        gate: LoginGate = LoginGate()
    ) {
        self.repository = repository
        self.clock = clock
        self.settings = settings
        self.gate = gate
    }

    /// Checks the password and opens a session; returns it with the cookie
    /// value and a fresh device cookie. Every refusal says the same about a
    /// wrong name and a wrong password, and takes as long.
    /// - Parameters:
    ///   - address: the peer's IP address, for the per-address limit.
    ///   - device: the request's device cookie, if any.
    /// - Throws: 429 with `Retry-After` when the throttle refuses, 503 with
    ///   `Retry-After` when the hashing queue is full (both before hashing).
    func logIn(name: String, password: String, address: String, device: String?) async throws
        -> (officer: Officer, token: String, device: String)
    {
        let now = clock.now()
        let known = gate.isKnownConsole(device, name: name, now: now)
        let ticket: LoginThrottle.Ticket
        switch gate.admit(name: name, address: address, knownConsole: known, now: now) {
        case .check(let admitted):
            ticket = admitted
        case .refuse(let why, let retryAfter):
            throw Self.throttled(why, name: name, retryAfter: retryAfter)
        }
        let stored = try await repository.passwordHash(for: name)
        let matches: Bool
        do {
            matches = try await gate.verify(password, against: stored?.1 ?? Self.standIn(settings.cost))
        } catch {
            gate.withdraw(ticket)
            throw Problem(
                .unavailable, "too many log-ins are being checked at once; try again in a few seconds",
                headers: [.retryAfter: "2"])
        }
        guard let (account, _) = stored, matches else {
            gate.finish(ticket, succeeded: false, now: now)
            try await refuseLogin(name, "wrong name or password", now)
            throw Self.wrongPassword
        }
        gate.finish(ticket, succeeded: true, now: now)
        guard account.role == .officer else {
            try await refuseLogin(name, "not an officer", now)
            throw Problem(
                .forbidden,
                "\(account.name) is a \(account.role.rawValue) account; the console is for officers")
        }
        let token = Self.randomToken()
        let session = ConsoleSession(
            tokenHash: Self.hash(token), officer: account.name, csrf: Self.randomToken(), createdAt: now,
            expiresAt: now.addingTimeInterval(Self.seconds(settings.absolute)),
            idleUntil: now.addingTimeInterval(Self.seconds(settings.idle)))
        try await repository.createSession(session)
        try await repository.journal(
            ConsoleJournalEntry(
                officer: account.name, action: "login", target: "console", outcome: .done, at: now))
        return (
            Officer(account: account, session: session), token, gate.deviceToken(name: account.name, now: now)
        )
    }

    /// A stored form no password matches, at `cost`: checking it spends what
    /// checking a real one spends, so unknown names answer as slowly.
    static func standIn(_ cost: OfficerPasswords.Cost) -> String {
        [
            "scrypt", "\(cost.rounds)", "\(cost.blockSize)", "\(cost.parallelism)",
            Data(count: 16).base64EncodedString(), Data(count: 32).base64EncodedString(),
        ].joined(separator: "$")
    }

    static func throttled(_ why: LoginThrottle.Refusal, name: String, retryAfter: TimeInterval) -> Problem {
        let seconds = max(1, Int(retryAfter.rounded(.up)))
        let wait = seconds >= 120 ? "\(seconds / 60) minutes" : "\(seconds) s"
        let detail: String
        switch why {
        case .addressLocked:
            detail = "too many failed log-ins from this address; try again in \(wait)"
        case .nameLocked:
            detail =
                "too many failed log-ins for \(name.prefix(64)); log in from a console that has logged in as \(name.prefix(64)) before, or try again in \(wait)"
        case .backoff:
            detail = "wait \(wait) before the next log-in for \(name.prefix(64))"
        }
        return Problem(.tooManyRequests, detail, headers: [.retryAfter: "\(seconds)"])
    }

    static let wrongPassword = Problem(.unauthorized, "wrong name or password")

    private func refuseLogin(_ name: String, _ why: String, _ now: Date) async throws {
        try await repository.journal(
            ConsoleJournalEntry(
                officer: String(name.prefix(64)), action: "login_failed", target: "console",
                outcome: .refused,
                details: ["why": why], at: now))
    }

    /// The officer behind the request's session cookie; each use keeps an
    /// idle session alive.
    /// - Throws: 401 when there is no cookie, or its session ended or expired.
    func officer(for fields: HTTPFields) async throws -> Officer {
        guard let token = Self.cookie(Self.cookieName, in: fields), token.utf8.count <= 128 else {
            throw Problem(.unauthorized, "log in to the console first")
        }
        let now = clock.now()
        guard let (session, account) = try await repository.session(tokenHash: Self.hash(token)) else {
            throw Problem(.unauthorized, "this console session is not known; log in again")
        }
        guard session.isLive(at: now) else {
            throw Problem(.unauthorized, "your console session has expired; log in again")
        }
        var touched = session
        touched.idleUntil = min(session.expiresAt, now.addingTimeInterval(Self.seconds(settings.idle)))
        try await repository.touchSession(tokenHash: session.tokenHash, idleUntil: touched.idleUntil)
        return Officer(account: account, session: touched)
    }

    /// Whether the session is still live; while it is, an open live socket
    /// keeps it from going idle. A console that officers watch for help
    /// calls must not log itself out between calls; the absolute limit (a
    /// shift) and logging out still end it, and a closed page stops this.
    func keepAlive(_ officer: Officer) async throws -> Bool {
        guard let (session, _) = try await repository.session(tokenHash: officer.session.tokenHash) else {
            return false
        }
        let now = clock.now()
        guard session.isLive(at: now) else { return false }
        let idleUntil = min(session.expiresAt, now.addingTimeInterval(Self.seconds(settings.idle)))
        // At most about once a minute: the socket wakes every few seconds.
        if idleUntil.timeIntervalSince(session.idleUntil) >= 60 {
            try await repository.touchSession(tokenHash: session.tokenHash, idleUntil: idleUntil)
        }
        return true
    }

    func logOut(_ officer: Officer) async throws {
        let now = clock.now()
        try await repository.endSession(tokenHash: officer.session.tokenHash, at: now)
        try await repository.journal(
            ConsoleJournalEntry(
                officer: officer.account.name, action: "logout", target: "console", outcome: .done, at: now))
    }

    /// Refuses a change that does not carry the session's CSRF token, or
    /// comes from a page of another origin.
    /// - Parameter authority: the request's host and port (HTTP/1's `Host`).
    static func requireSameOrigin(_ fields: HTTPFields, authority: String?, csrf: String?) throws {
        // Browsers always send one true Origin on these requests; a client
        // that is no browser may send none (nothing to forge for it) or, as
        // some WebSocket clients do, its own beside the one it was given.
        let origins = fields[values: .origin].filter { !$0.isEmpty }
        if !origins.isEmpty {
            let host = authority ?? ""
            guard origins.contains(where: { $0 == "http://\(host)" || $0 == "https://\(host)" }) else {
                throw Problem(.forbidden, "the request came from \(origins[0]), not from this console")
            }
        }
        guard let csrf else { return }
        guard let sent = fields[csrfHeader],
            OfficerPasswords.constantTimeEqual(Data(sent.utf8), Data(csrf.utf8))
        else {
            throw Problem(
                .forbidden, "the request lacks this session's X-CSRF-Token; reload the console and try again")
        }
    }

    /// The `Set-Cookie` value for a new session, or for clearing it.
    static func setCookie(_ token: String?) -> String {
        guard let token else {
            return "\(cookieName)=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"
        }
        return "\(cookieName)=\(token); Path=/console; HttpOnly; SameSite=Strict"
    }

    static func cookie(_ name: String, in fields: HTTPFields) -> String? {
        for header in fields[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// Session cookies and CSRF tokens: 256 random bits, base64url.
    static func randomToken() -> String { Tokens.generate(prefix: "") }

    static func hash(_ token: String) -> String { Tokens.hash(token) }

    static func seconds(_ d: Duration) -> TimeInterval {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
