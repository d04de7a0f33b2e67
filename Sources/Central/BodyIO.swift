import AnyJSON
import Foundation
import Hummingbird
import RoadCargo

/// Reading request bodies and writing JSON responses, in one place so that
/// every route refuses the same way: 415 for a foreign content type, 413
/// past the size limit, 400 for bytes that are not JSON, 422 naming the
/// field for JSON of the wrong shape.
enum JSONBody {
    /// Sorted keys make responses byte-stable, which helps tests and diffs.
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Collects at most `limit` bytes of body; more is refused with 413
    /// before anything is parsed.
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        try await request.body.collect(upTo: limit)
    }

    /// Reads and strictly decodes a JSON request body.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        try requireMediaType(request, accepted: ["application/json"], suffix: "+json")
        let buffer = try await collect(request, limit: limit)
        guard buffer.readableBytes > 0 else {
            throw Problem(.malformed, "the request body is empty; send a JSON object")
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw Problem(.malformed, "the request body is not valid JSON: \(describe(error))")
        }
        return try StrictJSONDecoder.decode(type, from: value)
    }

    /// A missing Content-Type is taken as the route's own type (curl users
    /// forget it); a different one is refused rather than guessed at.
    static func requireMediaType(_ request: Request, accepted: Set<String>, suffix: String?) throws {
        guard let raw = request.headers[.contentType] else { return }
        let media =
            raw.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
        if accepted.contains(media) { return }
        if let suffix, media.hasSuffix(suffix) { return }
        throw Problem(
            .unsupportedMediaType,
            "this route takes \(accepted.sorted().joined(separator: " or ")); the request says \(raw)")
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let ctx) = error {
            if let underlying = ctx.underlyingError as NSError?,
                let reason = underlying.userInfo[NSDebugDescriptionErrorKey] as? String
            {
                return reason
            }
            return ctx.debugDescription
        }
        return "unreadable"
    }
}

/// Response body for a list of things, with room to grow (paging) without
/// breaking clients.
struct ListBody<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
}
