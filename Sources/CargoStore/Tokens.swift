import Crypto
import Foundation

/// Bearer tokens for API accounts.
///
/// A token is `lk_` and 32 random bytes in unpadded base64url (256 bits, so
/// guessing is hopeless). The prefix lets secret scanners and people tell a
/// LaneKiosk token from other secrets. Only the SHA-256 of the whole token is
/// stored: a copy of the database does not hand out working tokens, and
/// because the token is random a plain (unsalted, fast) hash is enough.
public enum Tokens {
    public static let prefix = "lk_"

    /// 32 random bytes in unpadded base64url after `prefix`.
    public static func generate(prefix: String = Tokens.prefix) -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = rng.next() }
        let b64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + b64
    }

    /// Lower-case hex SHA-256 of the token's UTF-8 bytes.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
