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
        /// Failed logins for one name within ``failureWindow`` before further
        /// tries are refused without checking.
        public var maxFailures: Int
        public var failureWindow: Duration
        public var cost: OfficerPasswords.Cost

        public init(
            idle: Duration = .seconds(30 * 60), absolute: Duration = .seconds(12 * 3600),
            maxFailures: Int = 5,
            failureWindow: Duration = .seconds(15 * 60), cost: OfficerPasswords.Cost = .standard
        ) {
            self.idle = idle
            self.absolute = absolute
            self.maxFailures = maxFailures
            self.failureWindow = failureWindow
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

    public init(repository: any CargoRepository, clock: any WallClock, settings: Settings = Settings()) {
        self.repository = repository
        self.clock = clock
        self.settings = settings
    }

    /// Checks the password and opens a session; returns it with the cookie value.
    /// Every refusal says the same about a wrong name and a wrong password.
    func logIn(name: String, password: String) async throws -> (officer: Officer, token: String) {
        let now = clock.now()
        let since = now.addingTimeInterval(-Self.seconds(settings.failureWindow))
        let failures = try await repository.consoleJournal(
            officer: name, action: "login_failed", since: since, limit: settings.maxFailures)
        if failures.count >= settings.maxFailures {
            try await refuseLogin(name, "throttled", now)
            let minutes = Int(Self.seconds(settings.failureWindow) / 60)
            throw Problem(
                .tooManyRequests,
                "\(settings.maxFailures) failed logins for \(name) within \(minutes) minutes; wait, or ask a supervisor to reset the password"
            )
        }
        guard let (account, hash) = try await repository.passwordHash(for: name) else {
            OfficerPasswords.burn(password, cost: settings.cost)
            try await refuseLogin(name, "wrong name or password", now)
            throw Self.wrongPassword
        }
        guard OfficerPasswords.verify(password, against: hash) else {
            try await refuseLogin(name, "wrong name or password", now)
            throw Self.wrongPassword
        }
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
        return (Officer(account: account, session: session), token)
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
