import AnyJSON
import Foundation
import LaneControl
import Testing

/// Request lines in, the request or laned's refusal out: the replies laned
/// has always given, now from the types.
@Suite struct ControlRequestTests {
    static func parse(_ line: String) -> Result<ControlRequest, ControlRefusal> {
        switch ControlRequestLine.parse(Array(line.utf8)) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let envelope):
            do throws(ControlFailure) { return .success(try envelope.request()) } catch {
                return .failure(ControlRefusal(id: envelope.id, error))
            }
        }
    }

    static let accepted: [(String, ControlRequest)] = [
        (#"{"id":1,"command":"status"}"#, .status),
        (#"{"command":"press","button":"help"}"#, .press(button: .help, action: .click)),
        (
            #"{"command":"press","button":"unladen","action":"release"}"#,
            .press(button: .unladen, action: .release)
        ),
        // A non-string action clicks, as it always has.
        (#"{"command":"press","button":"help","action":5}"#, .press(button: .help, action: .click)),
        (#"{"command":"arrive","vrn":"ab 1234"}"#, .arrive(vrn: "ab 1234")),
        (#"{"command":"arrive","vrn":"AB1","wait_ms":null}"#, .arrive(vrn: "AB1")),
        (#"{"command":"arrive","vrn":"AB1","wait_ms":60000}"#, .arrive(vrn: "AB1", waitMilliseconds: 60_000)),
        (#"{"command":"arrive","vrn":"AB1","wait_ms":1.0}"#, .arrive(vrn: "AB1", waitMilliseconds: 1)),
        (#"{"command":"leave"}"#, .leave),
        (#"{"command":"open"}"#, .open(officer: nil)),
        (#"{"command":"close","officer":"Li Wai"}"#, .close(officer: "Li Wai")),
        (#"{"command":"journal"}"#, .journal(limit: nil, after: nil)),
        (#"{"command":"journal","limit":1000,"after":812}"#, .journal(limit: 1000, after: 812)),
        (#"{"command":"journal","limit":5.0,"after":7.9}"#, .journal(limit: 5, after: 7)),
        (#"{"command":"screenshot","board":"aiop"}"#, .screenshot(board: .aiop)),
        (#"{"command":"clock"}"#, .clock(offsetSeconds: nil)),
        (#"{"command":"clock","offset_seconds":null}"#, .clock(offsetSeconds: nil)),
        (#"{"command":"clock","offset_seconds":-3600}"#, .clock(offsetSeconds: -3600)),
        (#"{"command":"clock","offset_seconds":604800}"#, .clock(offsetSeconds: 604_800)),
        (#"{"command":"clock","offset_seconds":60.0}"#, .clock(offsetSeconds: 60)),
    ]

    @Test(arguments: accepted.indices)
    func aGoodRequestDecodes(index: Int) throws {
        let (line, expected) = Self.accepted[index]
        #expect(try Self.parse(line).get() == expected, "\(line)")
    }

    static let refused: [(line: String, id: JSONValue?, code: ControlErrorCode, message: String)] = [
        ("not json", nil, .badRequest, "not JSON: "),
        ("[1,2]", nil, .badRequest, "a request must be a JSON object"),
        (#"{"id":"a"}"#, .string("a"), .badRequest, "field 'command' is missing or not a string"),
        (#"{"id":2,"command":7}"#, .integer(2), .badRequest, "field 'command' is missing or not a string"),
        (
            #"{"id":3,"command":"explode"}"#, .integer(3), .unknownCommand,
            "unknown command 'explode'; commands: status, press, arrive, leave, open, close, journal, screenshot, clock"
        ),
        (#"{"id":4,"command":"press"}"#, .integer(4), .badRequest, "field 'button' must be unladen or help"),
        (
            #"{"id":5,"command":"press","button":"help","action":"hold"}"#, .integer(5), .badRequest,
            "field 'action' must be press, release or click, not 'hold'"
        ),
        (
            #"{"id":6,"command":"arrive","vrn":12}"#, .integer(6), .badRequest,
            "field 'vrn' is missing or not a string"
        ),
        (
            #"{"id":7,"command":"journal","limit":0}"#, .integer(7), .badRequest,
            "field 'limit' must be between 1 and 1000"
        ),
        (
            #"{"id":8,"command":"journal","limit":1001}"#, .integer(8), .badRequest,
            "field 'limit' must be between 1 and 1000"
        ),
        (
            #"{"id":9,"command":"screenshot","board":"both"}"#, .integer(9), .badRequest,
            "field 'board' must be xdb or aiop"
        ),
        (
            #"{"id":10,"command":"clock","offset_seconds":604801}"#, .integer(10), .badRequest,
            "field 'offset_seconds' must be a whole number of seconds from -604800 to 604800 (7 days), not 604801"
        ),
        (
            #"{"id":11,"command":"clock","offset_seconds":-604801}"#, .integer(11), .badRequest,
            "field 'offset_seconds' must be a whole number of seconds from -604800"
        ),
        (
            #"{"id":12,"command":"clock","offset_seconds":1.5}"#, .integer(12), .badRequest,
            "field 'offset_seconds' must be a whole number of seconds"
        ),
        (
            #"{"id":13,"command":"clock","offset_seconds":"3600"}"#, .integer(13), .badRequest,
            "field 'offset_seconds' must be a whole number of seconds"
        ),
        (
            #"{"id":14,"command":"arrive","vrn":"AB1","wait_ms":0}"#, .integer(14), .badRequest,
            "field 'wait_ms' must be a whole number of milliseconds from 1 to 60000, not 0"
        ),
        (
            #"{"id":15,"command":"arrive","vrn":"AB1","wait_ms":60001}"#, .integer(15), .badRequest,
            "field 'wait_ms' must be a whole number of milliseconds from 1 to 60000, not 60001"
        ),
        (
            #"{"id":16,"command":"arrive","vrn":"AB1","wait_ms":"soon"}"#, .integer(16), .badRequest,
            "field 'wait_ms' must be a whole number of milliseconds"
        ),
    ]

    /// Stepping the clock is a virtual input; reading it is not. Decided
    /// from the envelope, before the fields are checked, as for `arrive`.
    @Test func onlyAClockStepNeedsVirtualInputs() throws {
        func needs(_ line: String) throws -> Bool {
            try ControlRequestLine.parse(Array(line.utf8)).get().needsVirtualInputs
        }
        #expect(try needs(#"{"command":"clock","offset_seconds":60}"#))
        #expect(try needs(#"{"command":"clock","offset_seconds":"junk"}"#))
        #expect(try !needs(#"{"command":"clock"}"#))
        #expect(try !needs(#"{"command":"clock","offset_seconds":null}"#))
        #expect(try needs(#"{"command":"arrive","vrn":"AB1"}"#))
        #expect(try !needs(#"{"command":"status"}"#))
        #expect(ControlRequest.clock(offsetSeconds: 0).isVirtualInput)
        #expect(!ControlRequest.clock().isVirtualInput)
    }

    @Test(arguments: refused.indices)
    func aBadRequestIsRefusedWithItsIDAndTheFieldNamed(index: Int) {
        let (line, id, code, message) = Self.refused[index]
        guard case .failure(let refusal) = Self.parse(line) else {
            Issue.record("\(line) was accepted")
            return
        }
        #expect(refusal.id == id, "\(line)")
        #expect(refusal.failure.known == code, "\(line)")
        #expect(refusal.failure.message.hasPrefix(message), "\(line): \(refusal.failure.message)")
    }

    /// What lanectl sends reads back as the same request.
    @Test(arguments: accepted.map(\.1))
    func aRequestLineRoundTrips(request: ControlRequest) throws {
        let line = request.line(id: .integer(42))
        #expect(line.hasSuffix("\n"))
        let envelope = try ControlRequestLine.parse(Array(line.utf8.dropLast())).get()
        #expect(envelope.id == .integer(42))
        #expect(try envelope.request() == request)
    }

    @Test func responseLinesAreAsDocumented() throws {
        let ok = try ControlResponse.success(id: .integer(1), result: ControlEmptyResult())
        #expect(String(decoding: ok, as: UTF8.self) == #"{"id":1,"ok":true,"result":{}}"#)
        let refused = ControlResponse.failure(id: nil, ControlFailure(.laneState, "the lane is already open"))
        #expect(
            String(decoding: refused, as: UTF8.self)
                == #"{"error":{"code":"lane_state","message":"the lane is already open"},"id":null,"ok":false}"#
        )
        guard case .refused(let id, let failure) = ControlResponse.read(refused) else {
            Issue.record("a refusal read back as something else")
            return
        }
        #expect(id == .null)
        #expect(failure.known == .laneState)
        guard case .result(_, let result) = ControlResponse.read(ok) else {
            Issue.record("a success read back as something else")
            return
        }
        #expect(result == .object([:]))
    }

    /// Before the types, laned answered through JSONSerialization: the
    /// bytes must not change (slashes escaped, keys sorted, ids as sent).
    @Test func theBytesAreWhatJSONSerializationWrote() throws {
        let message =
            "virtual inputs are off: set control.allow_virtual_inputs: true in /etc/lanekiosk/L.yaml"
        let old = try JSONSerialization.data(
            withJSONObject: [
                "id": "x/1", "ok": false, "error": ["code": "not_allowed", "message": message],
            ] as [String: Any], options: [.sortedKeys])
        let new = ControlResponse.failure(id: .string("x/1"), ControlFailure(.notAllowed, message))
        #expect(String(decoding: new, as: UTF8.self) == String(decoding: old, as: UTF8.self))

        let png = Data((0..<200).map { UInt8($0) })
        let oldShot = try JSONSerialization.data(
            withJSONObject: [
                "id": 1_790_000_000_000_017, "ok": true, "result": ["png_base64": png.base64EncodedString()],
            ]
                as [String: Any], options: [.sortedKeys])
        let newShot = try ControlResponse.success(
            id: .integer(1_790_000_000_000_017), result: ControlScreenshotResult(png: png))
        #expect(String(decoding: newShot, as: UTF8.self) == String(decoding: oldShot, as: UTF8.self))
    }

    @Test(arguments: ["not json", "{", #"{"a":}"#, "", "5", #""status""#, "[1]"])
    func notJSONSaysWhatItAlwaysSaid(line: String) throws {
        var said = "a request must be a JSON object"
        do { _ = try JSONSerialization.jsonObject(with: Data(line.utf8)) } catch {
            said = "not JSON: \(error.localizedDescription)"
        }
        guard case .failure(let refusal) = ControlRequestLine.parse(Array(line.utf8)) else {
            Issue.record("'\(line)' was accepted")
            return
        }
        #expect(refusal.failure.message == said)
        #expect(refusal.id == nil)
    }
}
