import Crypto
import Foundation
import Synchronization

/// The door of console log-ins: the throttle (counted before the check),
/// the bounded hashing pool, and the device cookie that marks a browser
/// as a known console of one officer.
///
/// One gate serves one clearanced; its state lives in memory, so a restart
/// forgets failures (docs/console.md says why that is acceptable).
public final class LoginGate: Sendable {
    /// What the gate did, for tests and the log.
    public struct Counters: Sendable, Hashable {
        /// Passwords checked (scrypt run), known names and unknown alike.
        public var checks = 0
        /// Attempts refused by the throttle without a check.
        public var throttled = 0
        /// Attempts refused because the hashing queue was full.
        public var busy = 0
    }

    public static let deviceCookieName = "lk_device"
    /// How long a browser stays a known console after its last log-in.
    public static let deviceLifetime: TimeInterval = 90 * 24 * 3600

    public let pool: PasswordCheckPool
    private let throttle: Mutex<LoginThrottle>
    private let counters = Mutex(Counters())
    private let deviceKey: SymmetricKey

    /// - Parameter deviceSecret: device cookies are signed with a key derived
    ///   from it; the same secret across restarts keeps consoles known
    ///   (clearanced passes its selection key). Nil: a key for this run only.
    public init(
        pool: PasswordCheckPool = PasswordCheckPool(), limits: LoginThrottle.Limits = .init(),
        deviceSecret: Data? = nil
    ) {
        self.pool = pool
        self.throttle = Mutex(LoginThrottle(limits: limits))
        if let deviceSecret {
            let derived = HMAC<SHA256>.authenticationCode(
                for: Data("lanekiosk console device cookies".utf8), using: SymmetricKey(data: deviceSecret))
            deviceKey = SymmetricKey(data: Data(derived))
        } else {
            deviceKey = SymmetricKey(size: .bits256)
        }
    }

    public var counts: Counters { counters.withLock { $0 } }

    func admit(name: String, address: String, knownConsole: Bool, now: Date) -> LoginThrottle.Decision {
        let decision = throttle.withLock {
            $0.admit(name: name, address: address, knownConsole: knownConsole, now: now)
        }
        if case .refuse = decision { counters.withLock { $0.throttled += 1 } }
        return decision
    }

    func finish(_ ticket: LoginThrottle.Ticket, succeeded: Bool, now: Date) {
        throttle.withLock { $0.finish(ticket, succeeded: succeeded, now: now) }
    }

    func withdraw(_ ticket: LoginThrottle.Ticket) {
        throttle.withLock { $0.withdraw(ticket) }
    }

    /// Checks `password` against `stored` on the pool.
    /// - Throws: ``PasswordCheckPool/Busy`` when the queue is full, before hashing.
    func verify(_ password: String, against stored: String) async throws(PasswordCheckPool.Busy) -> Bool {
        do {
            let ok = try await pool.run { OfficerPasswords.verify(password, against: stored) }
            counters.withLock { $0.checks += 1 }
            return ok
        } catch {
            counters.withLock { $0.busy += 1 }
            throw error
        }
    }

    /// A device cookie value saying this browser logged in as `name` at `now`.
    func deviceToken(name: String, now: Date) -> String {
        let encoded = Data(LoginThrottle.key(name).utf8).base64URLEncoded()
        let issued = Int(now.timeIntervalSince1970)
        return "\(encoded).\(issued).\(signature(encoded, issued))"
    }

    /// Whether `token` is a live device cookie of `name`.
    func isKnownConsole(_ token: String?, name: String, now: Date) -> Bool {
        guard let token, token.utf8.count <= 256 else { return false }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let issued = Int(parts[1]) else { return false }
        let encoded = String(parts[0])
        guard
            OfficerPasswords.constantTimeEqual(
                Data(signature(encoded, issued).utf8), Data(String(parts[2]).utf8)),
            Data(base64URLEncoded: encoded).flatMap({ String(data: $0, encoding: .utf8) })
                == LoginThrottle.key(name)
        else { return false }
        let age = now.timeIntervalSince1970 - Double(issued)
        return age >= -300 && age < Self.deviceLifetime
    }

    /// The `Set-Cookie` value for a device cookie; only the log-in route sees it.
    static func setDeviceCookie(_ token: String) -> String {
        "\(deviceCookieName)=\(token); Path=/console/api/login; HttpOnly; SameSite=Strict; Max-Age=\(Int(deviceLifetime))"
    }

    private func signature(_ encoded: String, _ issued: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("lanekiosk-console-device|v1|\(encoded)|\(issued)".utf8), using: deviceKey)
        return Data(mac).base64URLEncoded()
    }
}

extension Data {
    fileprivate func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    fileprivate init?(base64URLEncoded text: String) {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        self.init(base64Encoded: s)
    }
}
