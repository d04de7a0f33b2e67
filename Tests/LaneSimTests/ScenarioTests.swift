import BoardLayout
import Displays
import Foundation
import LaneSim
import Testing

@Suite struct ScenarioFileTests {
    static let header = """
        lanes:
          - {id: LMC-IN-01, control_point: LMC, direction: import}
        steps:

        """

    func error(_ yaml: String) -> String {
        do {
            _ = try Scenario.parse(yaml, file: "bad.yaml")
            return "accepted"
        } catch {
            return error.description
        }
    }

    @Test func anUnknownStepNamesItsLineAndTheStepsThereAre() {
        let message = error(Self.header + "  - arive: {lane: LMC-IN-01, vrn: AB1234}\n")
        #expect(message.hasPrefix("bad.yaml:4: unknown step 'arive'"), "\(message)")
        #expect(message.contains("arrive"), "the known steps are listed: \(message)")
    }

    @Test func aNameNoEarlierStepGaveIsRefused() {
        let message = error(
            Self.header + "  - bundle: {name: b, vrn: AB1234, direction: import, consignments: [nothing]}\n")
        #expect(message.hasPrefix("bad.yaml:4:"), "\(message)")
        #expect(message.contains("'nothing' is not named by an earlier step"), "\(message)")
    }

    @Test func aLaneNotInTheScenarioAndABadPlateAreNamed() {
        let lane = error(Self.header + "  - leave: LMC-IN-09\n")
        #expect(lane.contains("no lane LMC-IN-09 in `lanes` (LMC-IN-01)"), "\(lane)")
        let plate = error(Self.header + "  - arrive: {lane: LMC-IN-01, vrn: \"!!\"}\n")
        #expect(plate.hasPrefix("bad.yaml:4: vrn: '!!' is refused: a VRN holds only letters"), "\(plate)")
        let key = error(Self.header + "  - expect: {lane: LMC-IN-01, colour: red}\n")
        #expect(key.contains("unknown key 'colour'"), "\(key)")
    }

    @Test func aCacheExpectationNamesWhatItHoldsAndRefusesAnythingElse() throws {
        let scenario = try Scenario.parse(
            Self.header + "  - expect: {lane: LMC-IN-01, cache: {vrn: \"db 1234\", bundle: none}}\n",
            file: "ok.yaml")
        guard case .expect(let expectation) = scenario.steps.first?.action else {
            Issue.record("not an expectation")
            return
        }
        #expect(expectation.cache?.vrn.value == "DB1234")
        #expect(expectation.cache?.bundle == "none")
        let bad = error(Self.header + "  - expect: {lane: LMC-IN-01, cache: {vrn: DB1234, bundle: used}}\n")
        #expect(bad.contains("cache: bundle: expected active or none, got 'used'"), "\(bad)")
    }

    @Test func everyScenarioInTheRepositoryLoads() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scenarios").standardized.path
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
            $0.hasSuffix(".yaml")
        }
        #expect(files.count >= 10)
        for file in files {
            #expect(throws: Never.self, "\(file)") { try Scenario.load(path: "\(directory)/\(file)") }
        }
    }
}

@Suite struct ScenarioRunnerTests {
    @Test func aCacheExpectationReadsTheLanesOfflineCache() async throws {
        let scenario = try Scenario.parse(
            """
            lanes:
              - {id: LMC-IN-01, control_point: LMC, direction: import}
            steps:
              - submit: {name: toys, direction: import}
              - bundle: {name: b, vrn: AB1234, direction: import, consignments: [toys]}
              - offline: {lane: LMC-IN-01, on: true}
              - expect: {lane: LMC-IN-01, cache: {vrn: AB1234, bundle: active}}
              - expect: {lane: LMC-IN-01, cache: {vrn: CD5678, bundle: active}, within: 300ms}
            """, file: "cache.yaml")
        let result = await ScenarioRunner().run(scenario)
        #expect(result.failures.map(\.line) == [8], "the bundled VRN is cached, the other is not")
        #expect(result.failures.first?.differences == ["cache: CD5678: expected active, held none"])
    }

    @Test func anOutboxExpectationHoldsOnlyOnceTheLaneHasDeliveredEverything() async throws {
        let scenario = try Scenario.parse(
            """
            lanes:
              - {id: LMC-IN-01, control_point: LMC, direction: import}
            steps:
              - open: {lane: LMC-IN-01}
              - link: {lane: LMC-IN-01, up: false}
              - expect: {lane: LMC-IN-01, link: down}
              - arrive: {lane: LMC-IN-01, vrn: AB1234}
              - expect: {lane: LMC-IN-01, outbox_pending: 0, within: 300ms}
              - link: {lane: LMC-IN-01, up: true}
              - expect: {lane: LMC-IN-01, link: up, outbox_pending: 0}
            """, file: "outbox.yaml")
        let result = await ScenarioRunner().run(scenario)
        #expect(result.failures.map(\.line) == [8], "the request waits in the outbox while the cable is out")
        let failure = try #require(result.failures.first)
        #expect(
            failure.differences.contains { $0.hasPrefix("outbox_pending: expected 0, shown ") },
            "\(failure.differences)")
    }

    @Test func aWrongExpectationIsADiffWithItsLineAndTheLaneAsItWas() async throws {
        let scenario = try Scenario.parse(
            """
            timing: {decision_timeout: 30s}
            lanes:
              - {id: LMC-IN-01, control_point: LMC, direction: import}
            steps:
              - open: {lane: LMC-IN-01}
              - arrive: {lane: LMC-IN-01, vrn: AB1234}
              - advance: 20s
              - expect: {lane: LMC-IN-01, xdb: CLEARED, reason: BUNDLE_OK, within: 500ms}
              - expect: {lane: LMC-IN-01, xdb: INSPECT, reason: NO_BUNDLE}
            """, file: "wrong.yaml")
        let result = await ScenarioRunner().run(scenario)
        #expect(!result.passed)
        #expect(result.expectations == 2)
        let failure = try #require(result.failures.first)
        #expect(result.failures.count == 1, "the later, right expectation still ran and passed")
        #expect(failure.line == 8)
        #expect(
            failure.differences == [
                "xdb: expected CLEARED, shown INSPECT", "reason: expected BUNDLE_OK, shown NO_BUNDLE",
            ])
        #expect(failure.context.first?.contains("vrn AB1234") == true, "\(failure.context)")
        // The lane's last journal entries follow (which ones depends on link chatter under load).
        #expect(failure.context.count > 1, "\(failure.context)")
        #expect(failure.context.dropFirst().allSatisfy { $0.hasPrefix("journal ") }, "\(failure.context)")

        let junit = ScenarioRunner.Result.junit([result])
        #expect(junit.contains("<testcase classname=\"lanesim\" name=\"wrong.yaml\""))
        #expect(junit.contains("<failure message=\"xdb: expected CLEARED, shown INSPECT\">"))
    }
}

@Suite struct ScenarioWindowTests {
    @Test func aScenarioShowsEveryLaneInTheWindowAsItRuns() async throws {
        setenv("SDL_VIDEODRIVER", "offscreen", 0)
        _ = WindowTestSDL.context
        let scenario = try Scenario.parse(
            """
            lanes:
              - {id: LMC-IN-01, control_point: LMC, direction: import}
              - {id: LMC-OUT-01, control_point: LMC, direction: export}
            steps:
              - open: {lane: LMC-IN-01}
              - expect: {lane: LMC-IN-01, xdb: WELCOME}
            """, file: "window.yaml")
        let window = try await SimulatorWindow.open(lanes: 2)
        var runner = ScenarioRunner()
        runner.window = window
        let result = await runner.run(scenario)
        #expect(result.passed, "\(result.failures)")
        let frame = try #require(await window.snapshot(), "a frame was presented after the steps")
        #expect(frame.height == SimulatorWindow.size(lanes: 2).height)
        // The first lane's XDB (WELCOME) is on the glass: not the black of an empty row.
        let g = SimulatorWindow.gap
        #expect(frame.countOfPixels(differentFrom: .black) > 10_000)
        var lit = 0
        for y in g..<(g + SimulatorWindow.boardHeight) {
            for x in g..<(g + SimulatorWindow.xdbWidth) where frame[Point(x: x, y: y)] != .black { lit += 1 }
        }
        #expect(lit > 1_000, "the XDB's tile holds the board's picture")
        await window.close()
    }
}

@Suite struct TrafficTests {
    @Test func eachKindOfTruckGetsTheAnswerTheRulesGiveIt() async throws {
        setenv("SDL_VIDEODRIVER", "offscreen", 0)
        var settings = Traffic.Settings()
        settings.lanes = 2
        settings.rate = 6
        settings.duration = .seconds(3)
        settings.seed = 7
        // Other tests load the machine; rule 4 is not what this test is about.
        settings.decisionTimeout = .seconds(30)
        let report = try await Traffic(settings: settings).run()
        #expect(report.passages.count >= 5)
        let expected: [Traffic.Kind: String] = [
            .bundled: "CLEARED BUNDLE_OK", .unladen: "CLEARED UNLADEN", .early: "INSPECT EARLY_CROSSING",
            .targeted: "INSPECT TARGETED", .unbundled: "INSPECT NO_BUNDLE",
        ]
        for passage in report.passages {
            #expect("\(passage.instruction) \(passage.reason)" == expected[passage.kind], "\(passage)")
        }
        let rows = report.csv.split(separator: "\n")
        #expect(rows.first?.hasPrefix("number,lane,vrn,kind,instruction,reason") == true)
        #expect(rows.count == report.passages.count + 1)
        #expect(report.toDecision.count == report.passages.count)
    }
}
