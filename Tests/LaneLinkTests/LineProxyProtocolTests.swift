import AnyJSON
import LaneLink
import LinkTestSupport
import Testing

/// lineproxy's control protocol in process: what a request line means, what
/// a bad one is answered, and what `status` reports.
@Suite struct LineProxyProtocolTests {
    static let both = #""command":"impair","direction":"both""#

    /// Each bad line, the error code, and a piece of the message that names what is wrong.
    @Test(arguments: [
        ("not json", "bad_request", "not a JSON object"),
        ("[1, 2]", "bad_request", "not a JSON object"),
        ("{}", "bad_request", "field 'command'"),
        (#"{"command": 5}"#, "bad_request", "field 'command'"),
        (#"{"command":"frobnicate"}"#, "unknown_command", "'frobnicate'; commands: impair, clear, cut"),
        (#"{"command":"impair","model":{}}"#, "bad_request", "field 'direction'"),
        (#"{"command":"impair","direction":"up","model":{}}"#, "bad_request", #"not "up""#),
        ("{\(both)}", "bad_request", "field 'model' must be an object"),
        ("{\(both),\"model\":{\"drop\":1.5}}", "bad_request", "'model.drop' must be a probability"),
        ("{\(both),\"model\":{\"drop\":\"0.1\"}}", "bad_request", "'model.drop' must be a probability"),
        ("{\(both),\"model\":{\"reorder\":-0.1}}", "bad_request", "'model.reorder'"),
        ("{\(both),\"model\":{\"dorp\":0.1}}", "bad_request", "unknown field 'model.dorp'"),
        ("{\(both),\"model\":{\"delay_ms\":[30,1]}}", "bad_request", "'model.delay_ms' must be [low, high]"),
        ("{\(both),\"model\":{\"delay_ms\":[1]}}", "bad_request", "'model.delay_ms'"),
        ("{\(both),\"model\":{\"delay_ms\":[1,90000]}}", "bad_request", "<= 60000"),
        ("{\(both),\"model\":{\"chunk\":[0,64]}}", "bad_request", "'model.chunk' must be [low, high] bytes"),
        ("{\(both),\"model\":{\"chunk\":[1.5,64]}}", "bad_request", "'model.chunk' must hold whole numbers"),
        ("{\(both),\"model\":{\"garbage_bytes\":[0,8]}}", "bad_request", "'model.garbage_bytes'"),
        (
            #"{"command":"clear","model":{}}"#, "bad_request",
            "unknown field 'model': clear takes no other fields"
        ),
        (
            #"{"command":"impair","direction":"both","model":{},"seed":3}"#, "bad_request",
            "unknown field 'seed'"
        ),
    ])
    func aBadRequestIsRefusedNamingWhatIsWrong(line: String, code: String, fragment: String) {
        let (_, parsed) = LineProxyCommand.parse(Array(line.utf8))
        guard case .failure(let failure) = parsed else {
            Issue.record("'\(line)' was accepted")
            return
        }
        #expect(failure.code == code)
        #expect(failure.message.contains(fragment), "\(failure.message)")
    }

    @Test func anImpairRequestBecomesTheModel() throws {
        let line = """
            {"id":"a","command":"impair","direction":"lane_to_central","model":{"drop":0.01,"duplicate":0.02,\
            "reorder":0.03,"garbage":0.04,"bit_flip":0.001,"delay":0.05,"delay_ms":[1,30],"chunk":[1,64],\
            "garbage_bytes":[2,8]}}
            """
        let (id, parsed) = LineProxyCommand.parse(Array(line.utf8))
        #expect(id == .string("a"))
        let expected = LineImpairment(
            bitFlipPerByte: 0.001, dropChunk: 0.01, duplicateChunk: 0.02, garbageBeforeChunk: 0.04,
            garbageLength: 2...8, delayChunk: 0.05, delay: .milliseconds(1) ... .milliseconds(30),
            reorderChunk: 0.03, chunkSize: 1...64)
        #expect(try parsed.get() == .impair(directions: [.laneToCentral], model: expected))
        // Missing members are nothing at all: a perfect line.
        let empty = LineProxyCommand.parse(Array(#"{"command":"impair","direction":"both","model":{}}"#.utf8))
        #expect(try empty.1.get() == .impair(directions: [.laneToCentral, .centralToLane], model: .none))
        // What Swift sends reads back as the same command.
        let command = LineProxyCommand.impair(directions: [.centralToLane], model: expected)
        #expect(
            try LineProxyCommand.parse(Array(command.line(id: .integer(4)).utf8.dropLast())).1.get()
                == command)
    }

    @Test func everyAnswerIsTheStatusAfterTheCommand() async throws {
        let central = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let proxy = try await NoisyLineProxy(targetPort: central.port, seed: 1)
        func ask(_ line: String) async throws -> (JSONValue?, LineProxyStatus) {
            let answer = try #require(LineProxyResponse.parse(await proxy.respond(to: Array(line.utf8))))
            guard case .status(let id, let status) = answer else {
                Issue.record("'\(line)' was refused: \(answer)")
                throw CancellationError()
            }
            return (id, status)
        }
        let (id, impaired) = try await ask(
            #"{"id":12,"command":"impair","direction":"central_to_lane","model":{"drop":0.5,"delay_ms":[2,3]}}"#
        )
        #expect(id == .integer(12))
        #expect(impaired.centralToLane.model.drop == 0.5 && impaired.centralToLane.model.delayMs == [2, 3])
        #expect(impaired.laneToCentral.model == LineModelDescription(.none))
        #expect(impaired.state == "ok" && impaired.listen == "127.0.0.1:\(proxy.port)")
        #expect(impaired.target == "127.0.0.1:\(central.port)")

        #expect(try await ask(#"{"command":"blackhole"}"#).1.state == "blackhole")
        let cut = try await ask(#"{"command":"cut"}"#).1
        #expect(cut.state == "cut" && cut.cut && cut.blackhole)
        #expect(try await ask(#"{"command":"restore"}"#).1.state == "blackhole")
        #expect(try await ask(#"{"command":"heal"}"#).1.state == "ok")
        let cleared = try await ask(#"{"command":"clear"}"#).1
        #expect(cleared.centralToLane.model == LineModelDescription(.none))

        // A refusal echoes the id and changes nothing.
        let refused = try #require(
            LineProxyResponse.parse(await proxy.respond(to: Array(#"{"id":"x","command":"cutt"}"#.utf8))))
        guard case .failure(let refusedID, let failure) = refused else {
            Issue.record("a misspelt command was accepted")
            return
        }
        #expect(refusedID == .string("x") && failure.code == "unknown_command")
        await proxy.close()
        await central.close()
    }
}
