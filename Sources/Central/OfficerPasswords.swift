import Crypto
import Foundation
import _CryptoExtras

/// Console passwords, hashed with scrypt: memory-hard, so a stolen copy of
/// the store cannot be searched fast on GPUs or ASICs.
///
/// The stored text is `scrypt$N$r$p$salt$hash` (salt and hash in base64), so
/// the cost can be raised later: a login checks with the stored parameters.
public enum OfficerPasswords {
    /// The work factor: N = 2^15 with r = 8 takes 32 MiB and about 0.1 s per
    /// check on one core of a small server, tolerable at login, ruinous
    /// for guessing.
    public struct Cost: Sendable, Hashable {
        public var rounds: Int
        public var blockSize: Int
        public var parallelism: Int

        public static let standard = Cost(rounds: 1 << 15, blockSize: 8, parallelism: 1)
        /// For tests that log in many times; never for stored passwords.
        public static let cheap = Cost(rounds: 1 << 10, blockSize: 8, parallelism: 1)
    }

    /// Passwords shorter than this are refused when set.
    public static let minimumLength = 10
    /// Longer input is refused before hashing, so a huge body costs nothing.
    public static let maximumLength = 256

    /// Why a new password is refused.
    public static func problem(with password: String) -> String? {
        if password.count < minimumLength {
            return "a console password has at least \(minimumLength) characters"
        }
        if password.utf8.count > maximumLength {
            return "a console password has at most \(maximumLength) bytes"
        }
        return nil
    }

    /// The stored form of `password`, with a fresh random salt.
    public static func hash(_ password: String, cost: Cost = .standard) throws -> String {
        var rng = SystemRandomNumberGenerator()
        let salt = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let derived = try derive(password, salt: salt, cost: cost)
        return [
            "scrypt", "\(cost.rounds)", "\(cost.blockSize)", "\(cost.parallelism)",
            salt.base64EncodedString(), derived.base64EncodedString(),
        ].joined(separator: "$")
    }

    /// Whether `password` matches the stored form; false for a malformed one.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]),
            let p = Int(parts[3]), let salt = Data(base64Encoded: String(parts[4])),
            let expected = Data(base64Encoded: String(parts[5])), password.utf8.count <= maximumLength,
            let derived = try? derive(
                password, salt: salt, cost: Cost(rounds: n, blockSize: r, parallelism: p))
        else { return false }
        return constantTimeEqual(derived, expected)
    }

    /// Spends what a real check spends, for a name with no password, so that
    /// the time a refusal takes does not tell which names exist.
    public static func burn(_ password: String, cost: Cost = .standard) {
        _ = try? derive(password, salt: Data(count: 16), cost: cost)
    }

    private static func derive(_ password: String, salt: Data, cost: Cost) throws -> Data {
        let key = try KDF.Scrypt.deriveKey(
            from: Data(password.utf8), salt: salt, outputByteCount: 32, rounds: cost.rounds,
            blockSize: cost.blockSize, parallelism: cost.parallelism)
        return key.withUnsafeBytes { Data($0) }
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
