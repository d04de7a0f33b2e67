import RoadCargo

/// One connection's encryption, as a pure value: the Noise NNpsk0 handshake
/// carried by the hello and the welcome (or refuse), then every frame in
/// both directions sealed with the split transport keys and an explicit
/// 64-bit counter as nonce (docs/link-protocol.md, sections 3 and 4).
///
/// The endpoint feeds it the session's packets to seal and the parsed frames
/// to open. It resends handshake messages itself, byte for byte: a Noise
/// message must never be written twice from one state (that would reuse a
/// nonce), and a lost welcome on a noisy line is answered by repeating the
/// stored one when the same hello comes again.
public struct LinkCipher: Sendable {
    /// Which end this is.
    public enum Role: Sendable {
        /// The lane: its key (the PSK) and the hello counter, strictly above
        /// every counter it used before. `ephemeral` is fixed only in tests.
        case initiator(key: LinkKey, helloCounter: UInt64, ephemeral: [UInt8]? = nil)
        /// Central: tries the keys the endpoint finds for the hello's key id.
        case responder(ephemeral: [UInt8]? = nil)
    }

    /// What an opened frame asks of the endpoint.
    public enum Opened: Sendable, Hashable {
        /// A packet for the session. `helloCounter` is set for a hello;
        /// `confirmed` for the first transport frame central decrypted from
        /// the lane: proof that the lane holds the handshake's ephemeral key.
        case packet(LinkPacket, helloCounter: UInt64?, confirmed: Bool)
        /// The same handshake message again: write these wire bytes again.
        case resend([UInt8])
        /// A repeated answer that changes nothing (a second welcome).
        case ignored
    }

    struct Transport: Sendable {
        var send: [UInt8]
        var receive: [UInt8]
        var nextSend: UInt64 = 0
        var lastReceived: UInt64?
        /// Responder: the hello body it answered, to spot the lane repeating it.
        var helloBody: [UInt8]?
        /// Responder: the welcome's wire bytes, repeated for a repeated hello.
        var answer: [UInt8]?
        var confirmed = false
    }

    enum Phase: Sendable {
        case initiatorReady(LinkKey, helloCounter: UInt64, ephemeral: [UInt8]?)
        case initiatorSent(NoiseInitiator, hello: [UInt8])
        case responderReady(ephemeral: [UInt8]?)
        case responderRead(NoiseResponder, helloBody: [UInt8], ephemeral: [UInt8]?)
        case transport(Transport)
        /// A refusal went out or came in; nothing more is sealed.
        case refused
    }

    /// The direction of the frames this end writes.
    public let sending: LinkDirection
    /// The lane: known from the start on the lane, from the hello on central.
    public internal(set) var lane: LaneID?
    /// The key that opened the hello (central); the lane's own key on the lane.
    public private(set) var key: LinkKey?
    var phase: Phase

    public init(role: Role) {
        switch role {
        case .initiator(let key, let counter, let ephemeral):
            sending = .laneToCentral
            lane = key.laneID
            self.key = key
            phase = .initiatorReady(key, helloCounter: counter, ephemeral: ephemeral)
        case .responder(let ephemeral):
            sending = .centralToLane
            phase = .responderReady(ephemeral: ephemeral)
        }
    }

    /// Whether transport keys exist (the handshake's second message passed).
    public var hasTransportKeys: Bool {
        if case .transport = phase { return true }
        return false
    }

    /// The Noise prologue: binds the cleartext key id into the handshake hash,
    /// so a hello moved to another key id fails to decrypt.
    public static func prologue(for lane: LaneID) -> [UInt8] {
        let id = Array(lane.value.utf8)
        return Array("lanekiosk-link/2".utf8) + [UInt8(id.count)] + id
    }

    /// Why a packet could not be sealed.
    public enum SealFailure: Error, Sendable, Hashable {
        /// No transport keys yet (a goodbye before the welcome), or after a refusal.
        case notReady
        /// Split the message (bundle-cache pushes come in chunks for this).
        case payloadTooLarge(count: Int, limit: Int)
    }

    /// The wire bytes (0x00, COBS(frame), 0x00) of `packet`.
    public mutating func seal(_ packet: LinkPacket) -> Result<[UInt8], SealFailure> {
        guard packet.payload.count <= FrameFormat.maxPayload else {
            return .failure(.payloadTooLarge(count: packet.payload.count, limit: FrameFormat.maxPayload))
        }
        switch (packet.kind, phase) {
        case (.hello, .initiatorReady(let key, let counter, let ephemeral)):
            var plaintext = WireWriter(capacity: 8)
            plaintext.u64(counter)
            let (message, state) = NoiseInitiator.writeMessage1(
                psk: key.secret, prologue: Self.prologue(for: key.laneID),
                ephemeral: ephemeral ?? Noise.generateEphemeral(),
                payload: plaintext.bytes + FrameFormat.inner(packet))
            let wire = frame(.hello, lane: key.laneID, counter: 0, body: message)
            phase = .initiatorSent(state, hello: wire)
            return .success(wire)
        case (.hello, .initiatorSent(_, let hello)):
            return .success(hello)
        case (.welcome, .responderRead(let state, let helloBody, let ephemeral)),
            (.refuse, .responderRead(let state, let helloBody, let ephemeral)):
            guard let lane,
                let (message, keys) = try? state.writeMessage2(
                    ephemeral: ephemeral ?? Noise.generateEphemeral(), payload: FrameFormat.inner(packet))
            else { return .failure(.notReady) }
            let wire = frame(packet.kind, lane: lane, counter: 0, body: message)
            if packet.kind == .refuse {
                phase = .refused
            } else {
                phase = .transport(
                    Transport(
                        send: keys.responderToInitiator, receive: keys.initiatorToResponder,
                        helloBody: helloBody, answer: wire))
            }
            return .success(wire)
        case (.welcome, .transport(let t)):
            // The session welcomes a repeated hello again: same bytes as before.
            return t.answer.map { .success($0) } ?? .failure(.notReady)
        case (.data, .transport(var t)), (.ack, .transport(var t)), (.heartbeat, .transport(var t)),
            (.goodbye, .transport(var t)):
            guard let lane else { return .failure(.notReady) }
            let counter = t.nextSend
            t.nextSend += 1
            phase = .transport(t)
            let inner = FrameFormat.inner(packet)
            let header = FrameFormat.header(
                kind: packet.kind, direction: sending, keyID: lane, counter: counter,
                bodyCount: inner.count + Noise.tagLength)
            let body = Noise.seal(key: t.send, nonce: counter, ad: header, plaintext: inner)
            return .success(FrameFormat.wire(FrameFormat.frame(header: header, body: body)))
        default:
            return .failure(.notReady)
        }
    }

    private func frame(_ kind: PacketKind, lane: LaneID, counter: UInt64, body: [UInt8]) -> [UInt8] {
        let header = FrameFormat.header(
            kind: kind, direction: sending, keyID: lane, counter: counter, bodyCount: body.count)
        return FrameFormat.wire(FrameFormat.frame(header: header, body: body))
    }

    /// Decrypts one parsed frame. `keys` gives the keys to try for a hello's
    /// key id (central: the lane's current key, then a previous one still in
    /// its rotation window). Nothing changes for a frame that fails.
    public mutating func open(_ frame: WireFrame, keys: (LaneID) -> [LinkKey]) -> Result<
        Opened, FrameDropCause
    > {
        guard frame.direction == sending.reversed else { return .failure(.wrongDirection) }
        switch frame.kind {
        case .hello:
            return openHello(frame, keys: keys)
        case .welcome, .refuse:
            guard frame.counter == 0 else { return .failure(.malformed) }
            switch phase {
            case .initiatorSent(let state, _):
                guard let (plaintext, k) = try? state.readMessage2(frame.body) else {
                    return .failure(.badTag)
                }
                guard let packet = FrameFormat.packet(inner: plaintext, kind: frame.kind) else {
                    return .failure(.malformed)
                }
                phase =
                    frame.kind == .refuse
                    ? .refused
                    : .transport(Transport(send: k.initiatorToResponder, receive: k.responderToInitiator))
                return .success(.packet(packet, helloCounter: nil, confirmed: false))
            case .transport:
                return .success(.ignored)
            default:
                return .failure(.replay)
            }
        case .data, .ack, .heartbeat, .goodbye:
            guard case .transport(var t) = phase else { return .failure(.early) }
            if let last = t.lastReceived, frame.counter <= last { return .failure(.replay) }
            guard
                let inner = try? Noise.open(
                    key: t.receive, nonce: frame.counter, ad: frame.header, ciphertext: frame.body)
            else { return .failure(.badTag) }
            guard let packet = FrameFormat.packet(inner: inner, kind: frame.kind) else {
                return .failure(.malformed)
            }
            t.lastReceived = frame.counter
            let confirmed = sending == .centralToLane && !t.confirmed
            t.confirmed = true
            phase = .transport(t)
            return .success(.packet(packet, helloCounter: nil, confirmed: confirmed))
        }
    }

    private mutating func openHello(_ frame: WireFrame, keys: (LaneID) -> [LinkKey]) -> Result<
        Opened, FrameDropCause
    > {
        guard frame.counter == 0 else { return .failure(.malformed) }
        switch phase {
        case .responderReady(let ephemeral):
            let candidates = keys(frame.keyID)
            guard !candidates.isEmpty else { return .failure(.unknownKey) }
            for candidate in candidates {
                guard
                    let (plaintext, state) = try? NoiseResponder.readMessage1(
                        psk: candidate.secret, prologue: Self.prologue(for: frame.keyID), message: frame.body)
                else { continue }
                guard plaintext.count >= 8,
                    let packet = FrameFormat.packet(inner: Array(plaintext[8...]), kind: .hello)
                else { return .failure(.malformed) }
                let counter = plaintext[..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                lane = frame.keyID
                key = candidate
                phase = .responderRead(state, helloBody: frame.body, ephemeral: ephemeral)
                return .success(.packet(packet, helloCounter: counter, confirmed: false))
            }
            return .failure(.badTag)
        case .responderRead(_, let helloBody, _) where helloBody == frame.body:
            // Still deciding: one answer will do.
            return .success(.ignored)
        case .transport(let t) where t.helloBody == frame.body:
            return t.answer.map { .success(.resend($0)) } ?? .success(.ignored)
        default:
            return .failure(.replay)
        }
    }
}
