import Crypto
import Foundation

/// `Noise_NNpsk0_25519_ChaChaPoly_SHA256` (the Noise Protocol Framework,
/// revision 34), the one handshake the lane link speaks, as pure values:
///
/// ```
/// NNpsk0:
///   -> psk, e
///   <- e, ee
/// ```
///
/// The lane's 32-byte link key is the PSK. Message 1 (the lane's hello) can
/// only be made by a holder of the PSK, but anybody can replay it; message 2
/// mixes a fresh responder ephemeral, so only the holder of message 1's
/// ephemeral private key can derive the transport keys. Hence central trusts
/// a lane only after the lane's first transport frame decrypts (key
/// confirmation), see `docs/link-protocol.md`.
///
/// Built only from swift-crypto primitives: X25519 (`Curve25519.KeyAgreement`),
/// `ChaChaPoly`, `SHA256` and `HMAC<SHA256>` for the HKDF of the spec.
public enum Noise {
    /// The protocol name, hashed into the initial handshake hash.
    public static let protocolName = "Noise_NNpsk0_25519_ChaChaPoly_SHA256"
    /// X25519 public key length.
    public static let dhLength = 32
    /// Poly1305 tag length.
    public static let tagLength = 16

    /// Why a handshake message or a transport frame was refused.
    public enum Failure: Error, Sendable, Hashable {
        /// Too short to hold its public key and tag.
        case truncated
        /// The AEAD tag did not verify: wrong key, tampered, or replayed into the wrong state.
        case decryptionFailed
        /// A public key X25519 refuses (a low-order point).
        case badPublicKey
    }

    /// ChaChaPoly with the spec's nonce: 4 zero bytes, then `n` little-endian.
    public static func seal(key: [UInt8], nonce: UInt64, ad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        // Sealing cannot fail with a 32-byte key and a 12-byte nonce.
        let box = try! ChaChaPoly.seal(
            plaintext, using: SymmetricKey(data: key), nonce: chachaNonce(nonce), authenticating: ad)
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// Opens what ``seal(key:nonce:ad:plaintext:)`` made.
    public static func open(key: [UInt8], nonce: UInt64, ad: [UInt8], ciphertext: some Collection<UInt8>)
        throws(Failure) -> [UInt8]
    {
        let bytes = Array(ciphertext)
        guard bytes.count >= tagLength else { throw .truncated }
        do {
            let box = try ChaChaPoly.SealedBox(
                nonce: chachaNonce(nonce), ciphertext: bytes[..<(bytes.count - tagLength)],
                tag: bytes[(bytes.count - tagLength)...])
            return Array(try ChaChaPoly.open(box, using: SymmetricKey(data: key), authenticating: ad))
        } catch {
            throw .decryptionFailed
        }
    }

    static func chachaNonce(_ n: UInt64) -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { bytes[4 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
        return try! ChaChaPoly.Nonce(data: bytes)
    }

    static func hmac(_ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    /// The spec's HKDF(chaining_key, input_key_material, num_outputs).
    static func hkdf(_ chainingKey: [UInt8], _ ikm: [UInt8], outputs: Int) -> [[UInt8]] {
        let temp = hmac(chainingKey, ikm)
        var out: [[UInt8]] = []
        var previous: [UInt8] = []
        for i in 1...outputs {
            previous = hmac(temp, previous + [UInt8(i)])
            out.append(previous)
        }
        return out
    }

    static func dh(_ privateKey: [UInt8], _ publicKey: [UInt8]) throws(Failure) -> [UInt8] {
        do {
            let mine = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey)
            let theirs = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey)
            return try mine.sharedSecretFromKeyAgreement(with: theirs).withUnsafeBytes { Array($0) }
        } catch {
            throw .badPublicKey
        }
    }

    static func publicKey(_ privateKey: [UInt8]) -> [UInt8] {
        // Any 32 bytes are a valid X25519 private key (they are clamped).
        Array(
            try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey).publicKey.rawRepresentation
        )
    }

    /// A fresh ephemeral private key from the system's generator.
    public static func generateEphemeral() -> [UInt8] {
        Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation)
    }
}

/// The spec's SymmetricState with its CipherState folded in.
struct NoiseSymmetricState: Sendable, Hashable {
    var ck: [UInt8]
    var h: [UInt8]
    var k: [UInt8]?
    var n: UInt64 = 0

    init(prologue: [UInt8]) {
        let name = Array(Noise.protocolName.utf8)
        h =
            name.count <= 32
            ? name + [UInt8](repeating: 0, count: 32 - name.count) : Array(SHA256.hash(data: name))
        ck = h
        mixHash(prologue)
    }

    mutating func mixHash(_ data: [UInt8]) { h = Array(SHA256.hash(data: h + data)) }

    mutating func mixKey(_ ikm: [UInt8]) {
        let out = Noise.hkdf(ck, ikm, outputs: 2)
        ck = out[0]
        k = out[1]
        n = 0
    }

    mutating func mixKeyAndHash(_ ikm: [UInt8]) {
        let out = Noise.hkdf(ck, ikm, outputs: 3)
        ck = out[0]
        mixHash(out[1])
        k = out[2]
        n = 0
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) -> [UInt8] {
        guard let k else {
            mixHash(plaintext)
            return plaintext
        }
        let c = Noise.seal(key: k, nonce: n, ad: h, plaintext: plaintext)
        n += 1
        mixHash(c)
        return c
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(Noise.Failure) -> [UInt8] {
        guard let k else {
            mixHash(ciphertext)
            return ciphertext
        }
        let p = try Noise.open(key: k, nonce: n, ad: h, ciphertext: ciphertext)
        n += 1
        mixHash(ciphertext)
        return p
    }

    /// The two transport keys: initiator to responder, responder to initiator.
    func split() -> NoiseTransportKeys {
        let out = Noise.hkdf(ck, [], outputs: 2)
        return NoiseTransportKeys(
            initiatorToResponder: out[0], responderToInitiator: out[1], handshakeHash: h)
    }
}

/// What a finished handshake yields.
public struct NoiseTransportKeys: Sendable, Hashable {
    /// Encrypts the lane's (initiator's) frames to central.
    public var initiatorToResponder: [UInt8]
    /// Encrypts central's (responder's) frames to the lane.
    public var responderToInitiator: [UInt8]
    /// The final handshake hash (channel binding; test vectors compare it).
    public var handshakeHash: [UInt8]
}

/// The initiator's half of NNpsk0.
public struct NoiseInitiator: Sendable, Hashable {
    var symmetric: NoiseSymmetricState
    let ephemeral: [UInt8]

    /// Writes message 1 (`psk, e`, then the encrypted payload): e.pub (32) ‖ ciphertext+tag.
    public static func writeMessage1(
        psk: [UInt8], prologue: [UInt8], ephemeral: [UInt8], payload: [UInt8]
    ) -> (message: [UInt8], state: NoiseInitiator) {
        var s = NoiseSymmetricState(prologue: prologue)
        s.mixKeyAndHash(psk)
        let e = Noise.publicKey(ephemeral)
        s.mixHash(e)
        s.mixKey(e)  // psk modes mix e into the key as well
        let c = s.encryptAndHash(payload)
        return (e + c, NoiseInitiator(symmetric: s, ephemeral: ephemeral))
    }

    /// Reads message 2 (`e, ee`, then the payload); returns its payload and the transport keys.
    public func readMessage2(_ message: [UInt8]) throws(Noise.Failure) -> (
        payload: [UInt8], keys: NoiseTransportKeys
    ) {
        guard message.count >= Noise.dhLength + Noise.tagLength else { throw .truncated }
        var s = symmetric
        let re = Array(message[..<Noise.dhLength])
        s.mixHash(re)
        s.mixKey(re)
        s.mixKey(try Noise.dh(ephemeral, re))
        let payload = try s.decryptAndHash(Array(message[Noise.dhLength...]))
        return (payload, s.split())
    }
}

/// The responder's half of NNpsk0, after reading message 1.
public struct NoiseResponder: Sendable, Hashable {
    var symmetric: NoiseSymmetricState
    let remoteEphemeral: [UInt8]

    /// Reads message 1 with `psk`; throws ``Noise/Failure/decryptionFailed`` when
    /// the PSK is not the one it was made with.
    public static func readMessage1(psk: [UInt8], prologue: [UInt8], message: [UInt8]) throws(Noise.Failure)
        -> (payload: [UInt8], state: NoiseResponder)
    {
        guard message.count >= Noise.dhLength + Noise.tagLength else { throw .truncated }
        var s = NoiseSymmetricState(prologue: prologue)
        s.mixKeyAndHash(psk)
        let re = Array(message[..<Noise.dhLength])
        s.mixHash(re)
        s.mixKey(re)
        let payload = try s.decryptAndHash(Array(message[Noise.dhLength...]))
        return (payload, NoiseResponder(symmetric: s, remoteEphemeral: re))
    }

    /// Writes message 2 with a fresh (or, in tests, fixed) ephemeral.
    public func writeMessage2(ephemeral: [UInt8], payload: [UInt8]) throws(Noise.Failure) -> (
        message: [UInt8], keys: NoiseTransportKeys
    ) {
        var s = symmetric
        let e = Noise.publicKey(ephemeral)
        s.mixHash(e)
        s.mixKey(e)
        s.mixKey(try Noise.dh(ephemeral, remoteEphemeral))
        let c = s.encryptAndHash(payload)
        return (e + c, s.split())
    }
}
