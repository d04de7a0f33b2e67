import Crypto
import Foundation
import RoadCargo

/// One lane's 32-byte link key: both ends sign and verify every frame of
/// that lane's link with it, in both directions.
///
/// One key per lane rather than one for the site so that a lane cabinet
/// opened with a screwdriver gives away one lane, not the fleet, and central
/// can withdraw that lane alone. The key's id on the wire is the lane id.
public struct LinkKey: Sendable, CustomStringConvertible {
    /// The lane this key belongs to; frames carry it as their key id.
    public let laneID: LaneID
    /// HMAC state with the key already absorbed: copied per frame (copy on
    /// write), so the key schedule is not redone for every frame.
    let hmac: HMAC<SHA256>
    /// The raw key, kept only to write the key file and to compare keys.
    let secret: [UInt8]

    /// Key length in bytes: the HMAC-SHA256 block size's natural key size.
    public static let byteCount = 32

    /// A key from its 32 raw bytes.
    public init(laneID: LaneID, bytes: some Collection<UInt8>) throws(LinkKeyError) {
        guard bytes.count == Self.byteCount else {
            throw .malformed(
                source: laneID.value, detail: "a link key is \(Self.byteCount) bytes, not \(bytes.count)")
        }
        self.laneID = laneID
        self.secret = Array(bytes)
        self.hmac = HMAC<SHA256>(key: SymmetricKey(data: secret))
    }

    /// A fresh random key from the system's cryptographic generator.
    public static func generate(for laneID: LaneID) -> LinkKey {
        let random = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        // 32 bytes by construction: this cannot fail.
        return try! LinkKey(laneID: laneID, bytes: random)
    }

    /// The first 8 bytes of SHA-256 of the key, in hex: lets two people
    /// confirm that a lane and central hold the same key without showing it.
    public var fingerprint: String {
        SHA256.hash(data: secret).prefix(8).map { String($0, radix: 16).leftPadded2 }.joined()
    }

    /// Never prints the key itself, so that logging a key is harmless.
    public var description: String { "LinkKey(\(laneID), fingerprint \(fingerprint))" }

    /// True when both are the same lane's same key; constant time in the key.
    public func sameKey(as other: LinkKey) -> Bool {
        laneID == other.laneID && Signing.constantTimeEqual(secret[...], other.secret[...])
    }

    // MARK: File format

    /// The first word of every key file; with the version, it lets a reader
    /// refuse a file that is not a link key before looking further.
    public static let fileMagic = "lanekiosk-link-key"

    /// The key file's contents: one line,
    /// `lanekiosk-link-key v1 LANE-ID BASE64-OF-32-BYTES`, newline-terminated.
    public var fileContents: String {
        "\(Self.fileMagic) v1 \(laneID.value) \(Data(secret).base64EncodedString())\n"
    }

    /// Parses a key file's contents; `source` names the file in errors.
    public init(fileContents: String, source: String) throws(LinkKeyError) {
        var text = Substring(fileContents)
        // "\r\n" is one Character in Swift, so one dropLast removes either ending.
        if text.hasSuffix("\r\n") || text.hasSuffix("\n") { text = text.dropLast() }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 4, words[0] == Self.fileMagic else {
            throw .malformed(
                source: source,
                detail: "expected one line \"\(Self.fileMagic) v1 LANE-ID BASE64\"")
        }
        guard words[1] == "v1" else {
            throw .malformed(source: source, detail: "key file version \"\(words[1])\" is not v1")
        }
        let lane: LaneID
        do { lane = try LaneID(String(words[2])) } catch {
            throw .malformed(source: source, detail: error.description)
        }
        guard let raw = Data(base64Encoded: String(words[3])) else {
            throw .malformed(source: source, detail: "the key is not valid base64")
        }
        guard raw.count == Self.byteCount else {
            throw .malformed(source: source, detail: "the key is \(raw.count) bytes, not \(Self.byteCount)")
        }
        try self.init(laneID: lane, bytes: Array(raw))
    }
}

extension String {
    fileprivate var leftPadded2: String { count == 1 ? "0" + self : self }
}

/// Why a link key could not be read, parsed or written; each case names the
/// file and says what to do.
public enum LinkKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(path: String, detail: String)
    /// Group or others may read the file: whoever can read it can forge frames.
    case tooOpen(path: String, mode: UInt32)
    case notRegularFile(path: String)
    case malformed(source: String, detail: String)
    /// Refusing to overwrite: replacing a key silently would cut a lane off.
    case exists(path: String)
    case writeFailed(path: String, detail: String)
    /// A key file found under another lane's name, or two files for one lane.
    case conflict(path: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let detail): "cannot read link key \(path): \(detail)"
        case .tooOpen(let path, let mode):
            "link key \(path) has mode \(String(mode, radix: 8)), readable by group or others; "
                + "run chmod 600 \(path)"
        case .notRegularFile(let path): "link key \(path) is not a regular file"
        case .malformed(let source, let detail): "link key \(source) is malformed: \(detail)"
        case .exists(let path): "link key \(path) already exists; remove it first to replace the key"
        case .writeFailed(let path, let detail): "cannot write link key \(path): \(detail)"
        case .conflict(let path, let detail): "link key \(path): \(detail)"
        }
    }
}
