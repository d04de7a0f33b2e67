import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// lanectl's lane commands against a real Unix socket that speaks the
/// control protocol: what the user sees, what laned receives, exit codes.
@Suite struct LaneCommandTests {
    /// A double on a fresh socket, handed to the body and stopped after it.
    func withLane(
        _ state: LaneSocketDouble.State = .init(),
        _ body: (LaneSocketDouble, [String]) async throws -> Void
    ) async throws {
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lane = try LaneSocketDouble(
            path: directory.appendingPathComponent("lane.sock").path, state: state)
        defer { lane.stop() }
        try await body(lane, ["--socket", lane.path])
    }

    @Test func statusPrintsATable() async throws {
        var state = LaneSocketDouble.State()
        state.vrn = "AB1234"
        state.pendingRequest = 1_790_000_000_000_017
        state.faults = ["help button stuck for 30 s"]
        try await withLane(state) { _, socket in
            let run = try await Tool.lanectl(["status"] + socket)
            #expect(run.status == 0, "\(run)")
            #expect(
                run.stdout == """
                    lane      LMC-IN-01 (LMC, import)
                    state     open, online, link up
                    boards    XDB STOP, AIOP STOP
                    phase     stop
                    vehicle   AB1234, waiting for decision (request 1790000000000017)
                    decision  CLEARED BUNDLE_OK (decision 9, 2026-11-26 09:30:00)
                    help      idle
                    faults    help button stuck for 30 s
                    outbox    0 waiting for central
                    now       2026-11-26 09:30:02

                    """)
        }
    }

    @Test func statusNamesTheCentralNodeTheLinkIsUpTo() async throws {
        var state = LaneSocketDouble.State()
        state.central = "central-b.lmc.example:4711"
        try await withLane(state) { _, socket in
            let run = try await Tool.lanectl(["status"] + socket)
            #expect(run.status == 0, "\(run)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(
                lines.prefix(3) == [
                    "lane      LMC-IN-01 (LMC, import)", "state     open, online, link up",
                    "central   central-b.lmc.example:4711",
                ], "\(run)")
        }
    }

    @Test func statusSaysHowManyOfflineCrossingsCentralHasNotReconciled() async throws {
        var state = LaneSocketDouble.State()
        state.offlineUnreconciled = 2
        try await withLane(state) { _, socket in
            let run = try await Tool.lanectl(["status"] + socket)
            #expect(run.status == 0, "\(run)")
            let lines = run.stdout.split(separator: "\n")
            #expect(lines.contains("offline   2 offline crossings not yet reconciled by central"), "\(run)")
            #expect(lines.last == "now       2026-11-26 09:30:02")
        }
    }

    @Test func statusJSONKeepsEveryMemberAndExactIDs() async throws {
        var state = LaneSocketDouble.State()
        state.vrn = "AB1234"
        state.pendingRequest = 1_790_000_000_000_017
        try await withLane(state) { lane, socket in
            let run = try await Tool.lanectl(["status", "--json"] + socket)
            #expect(run.status == 0, "\(run)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(object["lane"] as? String == "LMC-IN-01")
            #expect(object["offline"] as? Bool == false)
            #expect(object["faults"] as? [Any] != nil)
            // The id passes through as digits, not a rounded double.
            #expect(run.stdout.contains("\"pending_request_id\" : 1790000000000017"))
            #expect(lane.requests.map { $0["command"] as? String } == ["status"])
        }
    }

    @Test func pressSendsTheDocumentedRequest() async throws {
        try await withLane { lane, socket in
            let click = try await Tool.lanectl(["press", "unladen"] + socket)
            #expect(click.status == 0, "\(click)")
            #expect(click.stdout == "unladen button: click\n")
            let hold = try await Tool.lanectl(["press", "help", "--action", "press"] + socket)
            #expect(hold.status == 0, "\(hold)")
            let sent = lane.requests
            #expect(sent.count == 2)
            #expect(sent[0]["command"] as? String == "press")
            #expect(sent[0]["button"] as? String == "unladen")
            #expect(sent[0]["action"] as? String == "click")
            #expect(sent[1]["button"] as? String == "help")
            #expect(sent[1]["action"] as? String == "press")
            #expect(sent.allSatisfy { $0["id"] is Int })
        }
    }

    @Test func aRefusalPrintsLanedsMessageAndExitsOne() async throws {
        var state = LaneSocketDouble.State()
        state.allowVirtualInputs = false
        try await withLane(state) { _, socket in
            let run = try await Tool.lanectl(["press", "unladen"] + socket)
            #expect(run.status == 1)
            #expect(run.stdout.isEmpty)
            #expect(
                run.stderr
                    == "lanectl: laned refused `press`: virtual inputs are off: set control.allow_virtual_inputs:"
                    + " true in /etc/lanekiosk/LMC-IN-01.yaml [not_allowed]\n")
        }
    }

    @Test func arriveAndLeaveMoveTheVehicle() async throws {
        try await withLane { lane, socket in
            let arrive = try await Tool.lanectl(["arrive", "ab 1234"] + socket)
            #expect(arrive.status == 0, "\(arrive)")
            #expect(arrive.stdout == "arrived: AB1234, decision requested (request 1790000000000017)\n")
            #expect(lane.requests.last?["vrn"] as? String == "ab 1234")
            #expect(lane.current.vrn == "AB1234")

            let leave = try await Tool.lanectl(["leave"] + socket)
            #expect(leave.status == 0, "\(leave)")
            #expect(lane.current.vrn == nil)

            let again = try await Tool.lanectl(["leave"] + socket)
            #expect(again.status == 1)
            #expect(
                again.stderr == "lanectl: laned refused `leave`: no vehicle is in the lane [lane_state]\n")
        }
    }

    @Test func arriveWaitsForTheDecisionAndPrintsIt() async throws {
        try await withLane { lane, socket in
            lane.update {
                $0.decision = .init(
                    xdb: "INSPECT", aiop: "INSPECT", reason: "EARLY_CROSSING",
                    earliestCrossing: "2026-11-26T10:00:00+08:00")
            }
            let run = try await Tool.lanectl(["arrive", "--wait", "AB1234"] + socket)
            #expect(run.status == 0, "\(run)")
            #expect(
                run.stdout == "arrived: AB1234, decision requested (request 1790000000000017)\n"
                    + "shown: XDB INSPECT, AIOP INSPECT (EARLY_CROSSING), earliest crossing 2026-11-26T10:00:00+08:00\n"
            )
            // laned is asked to answer a little before lanectl's 5 s --timeout.
            #expect(lane.requests.last?["wait_ms"] as? Int == 4750)
            _ = try await Tool.lanectl(["leave"] + socket)

            lane.update { $0.decision = nil }
            let late = try await Tool.lanectl(["arrive", "--wait", "--timeout", "30", "AB1234"] + socket)
            #expect(late.status == 75, "\(late)")
            #expect(lane.requests.last?["wait_ms"] as? Int == 29_750)
            #expect(late.stderr.contains("no decision on the boards for AB1234 within 29 s"), "\(late)")
        }
    }

    @Test func clockReadsAndStepsTheLanesClock() async throws {
        try await withLane { lane, socket in
            let read = try await Tool.lanectl(["clock"] + socket)
            #expect(read.status == 0, "\(read)")
            #expect(read.stdout == "lane time 2026-11-26T09:30:02+08:00, offset 0 s\n")
            #expect(lane.requests.last?["offset_seconds"] == nil)

            let back = try await Tool.lanectl(["clock", "--offset=-3600"] + socket)
            #expect(back.status == 0, "\(back)")
            #expect(
                back.stdout
                    == "clock stepped: offset 0 s -> -3600 s; lane time now 2026-11-26T08:30:02+08:00\n")
            #expect(lane.requests.last?["offset_seconds"] as? Int == -3600)

            let far = try await Tool.lanectl(["clock", "--offset", "700000"] + socket)
            #expect(far.status != 0)
            #expect(far.stderr.contains("--offset 700000 is out of range"), "\(far)")
        }
    }

    @Test func aGarbagePlateIsRefusedByTheLane() async throws {
        try await withLane { _, socket in
            let run = try await Tool.lanectl(["arrive", "AB-1234!"] + socket)
            #expect(run.status == 1)
            #expect(run.stderr.contains("[invalid_vrn]"))
            #expect(run.stderr.contains("AB-1234!"))
        }
    }

    @Test func openAndCloseNameTheOfficer() async throws {
        try await withLane { lane, socket in
            let close = try await Tool.lanectl(["close", "--officer", "Li Wai"] + socket)
            #expect(close.status == 0, "\(close)")
            #expect(close.stdout == "lane closed\n")
            #expect(lane.requests.last?["officer"] as? String == "Li Wai")
            #expect(lane.current.open == false)

            let twice = try await Tool.lanectl(["close"] + socket)
            #expect(twice.status == 1)
            #expect(
                twice.stderr == "lanectl: laned refused `close`: the lane is already closed [lane_state]\n")
            // Without --officer the request leaves the member out for laned's default.
            #expect(lane.requests.last?["officer"] == nil)

            let open = try await Tool.lanectl(["open"] + socket)
            #expect(open.status == 0, "\(open)")
            #expect(open.stdout == "lane open\n")
        }
    }

    @Test func journalPrintsATableOldestFirst() async throws {
        var state = LaneSocketDouble.State()
        state.append("lane_opened", officer: "Li Wai")
        state.append("vehicle_arrived", vrn: "AB1234", request: 1_790_000_000_000_017)
        state.journal.append(
            .init(
                seq: 3, kind: "instruction_shown", vrn: "AB1234", requestID: 1_790_000_000_000_017,
                decisionID: 9,
                instruction: "CLEARED", reason: "BUNDLE_OK"))
        try await withLane(state) { lane, socket in
            let run = try await Tool.lanectl(["journal"] + socket)
            #expect(run.status == 0, "\(run)")
            #expect(
                run.stdout == """
                    SEQ    TIME                    KIND                VRN      WHAT
                    1      2026-11-26 09:30:01.120 lane_opened                  officer Li Wai
                    2      2026-11-26 09:30:02.120 vehicle_arrived     AB1234   request 1790000000000017
                    3      2026-11-26 09:30:03.120 instruction_shown   AB1234   CLEARED BUNDLE_OK, decision 9, request 1790000000000017

                    """)
            #expect(lane.requests.last?["limit"] as? Int == 20)

            let tail = try await Tool.lanectl(["journal", "--limit", "1", "--json"] + socket)
            #expect(tail.status == 0, "\(tail)")
            let lines = tail.stdout.split(separator: "\n")
            #expect(lines.count == 1)
            let entry = try #require(
                try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(entry["seq"] as? Int == 3)
            #expect(entry["instruction"] as? String == "CLEARED")

            let after = try await Tool.lanectl(["journal", "--after", "1", "--json"] + socket)
            #expect(after.stdout.split(separator: "\n").count == 2)
            #expect(lane.requests.last?["after"] as? Int == 1)
        }
    }

    @Test func journalFollowPrintsNewEntriesAndOutlivesALanedRestart() async throws {
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lane.sock").path
        var state = LaneSocketDouble.State()
        state.append("lane_opened", officer: "Li Wai")
        var lane = try LaneSocketDouble(path: path, state: state)
        let out = directory.appendingPathComponent("out")
        let err = directory.appendingPathComponent("err")
        let follower = try Tool.start(
            Tool.path("lanectl"), ["journal", "--follow", "--interval", "0.1", "--socket", path], stdout: out,
            stderr: err)
        defer {
            follower.terminate()
            follower.waitUntilExit()
            lane.stop()
        }
        _ = try await Tool.wait(for: "lane_opened", in: out)

        lane.update { $0.append("vehicle_arrived", vrn: "AB1234", request: 17) }
        _ = try await Tool.wait(for: "vehicle_arrived", in: out)

        // laned restarts: the journal keeps its entries, the socket comes back.
        let kept = lane.current
        lane.stop()
        _ = try await Tool.wait(for: "lost laned", in: err)
        var restarted = LaneSocketDouble.State()
        restarted.journal = kept.journal
        restarted.append("vehicle_left", vrn: "AB1234")
        lane = try LaneSocketDouble(path: path, state: restarted)
        let shown = try await Tool.wait(for: "vehicle_left", in: out)
        _ = try await Tool.wait(for: "laned is back", in: err)

        // Each entry once, in order, though the follower asked many times.
        let kinds = shown.split(separator: "\n").dropFirst().map {
            $0.split(separator: " ", omittingEmptySubsequences: true)[3]
        }
        #expect(kinds == ["lane_opened", "vehicle_arrived", "vehicle_left"])
        // Its first ask of the restarted laned carries on after the last entry shown.
        #expect(lane.requests.first?["after"] as? Int == 2)
    }

    @Test func screenshotWritesThePNG() async throws {
        try await withLane { lane, socket in
            let directory = try Tool.scratch()
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("xdb.png")
            let run = try await Tool.lanectl(["screenshot", "--board", "xdb", "-o", file.path] + socket)
            #expect(run.status == 0, "\(run)")
            #expect(
                run.stdout == "xdb: 1x1 PNG, \(LaneSocketDouble.png.count) bytes, written to \(file.path)\n")
            #expect(try Data(contentsOf: file) == LaneSocketDouble.png)
            #expect(lane.requests.last?["board"] as? String == "xdb")

            let unwritable = try await Tool.lanectl(
                ["screenshot", "--board", "aiop", "-o", "/nonexistent/dir/aiop.png"] + socket)
            #expect(unwritable.status == 73)
            #expect(unwritable.stderr.hasPrefix("lanectl: cannot write /nonexistent/dir/aiop.png"))
        }
    }

    @Test func noSocketSaysLanedIsNotRunning() async throws {
        let missing = try await Tool.lanectl(["status", "--socket", "/tmp/lctl-none/LMC-IN-01.sock"])
        #expect(missing.status == 69)
        #expect(
            missing.stderr
                == "lanectl: is laned running? no socket at /tmp/lctl-none/LMC-IN-01.sock (systemctl status laned)\n"
        )

        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let byLane = try await Tool.lanectl(
            ["status", "--lane", "LMC-IN-02"], environment: ["LANEKIOSK_RUN_DIR": directory.path])
        #expect(byLane.status == 69)
        #expect(
            byLane.stderr
                == "lanectl: is laned running? no socket at \(directory.path)/LMC-IN-02.sock"
                + " (systemctl status laned@LMC-IN-02)\n")
    }

    @Test func aStaleSocketFileSaysNothingListens() async throws {
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A socket bound and closed without unlink: what a killed laned leaves.
        let path = directory.appendingPathComponent("lane.sock").path
        let fd = boundUnixSocket(path, type: Int32(SOCK_STREAM.rawValue))
        #expect(fd >= 0)
        close(fd)
        let run = try await Tool.lanectl(["status", "--socket", path])
        #expect(run.status == 69)
        #expect(run.stderr.contains("nothing is listening on \(path)"))
    }

    @Test func theOnlyLaneIsFoundWithoutNamingIt() async throws {
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lane = try LaneSocketDouble(path: directory.appendingPathComponent("LMC-IN-01.sock").path)
        defer { lane.stop() }
        let run = try await Tool.lanectl(
            ["status", "--json"], environment: ["LANEKIOSK_RUN_DIR": directory.path])
        #expect(run.status == 0, "\(run)")

        let second = try LaneSocketDouble(path: directory.appendingPathComponent("LMC-OUT-01.sock").path)
        defer { second.stop() }
        let ambiguous = try await Tool.lanectl(["status"], environment: ["LANEKIOSK_RUN_DIR": directory.path])
        #expect(ambiguous.status == 64)
        #expect(
            ambiguous.stderr == "lanectl: 2 lanes run here (LMC-IN-01, LMC-OUT-01); name one with --lane ID\n"
        )
    }

    @Test func permissionDeniedNamesTheGroup() async throws {
        try await withLane { _, socket in
            chmod(socket[1], 0o600)
            // Root passes any permission check, so run as nobody when root.
            let run =
                getuid() == 0
                ? try await Tool.run(
                    "/usr/bin/setpriv",
                    ["--reuid=65534", "--regid=65534", "--clear-groups", Tool.path("lanectl"), "status"]
                        + socket)
                : try await Tool.lanectl(["status"] + socket)
            #expect(run.status == 77, "\(run)")
            #expect(run.stderr.hasPrefix("lanectl: permission denied on \(socket[1])"))
            #expect(run.stderr.contains("lanekiosk"))
        }
    }

    @Test(arguments: [
        (LaneSocketDouble.Behaviour.garbage, Int32(65), "is not a JSON object: this is not JSON"),
        (.wrongID, 65, "with id 999999"),
        (.hangUp, 69, "laned closed the connection"),
        (.silent, 75, "laned did not answer `status` within 1 s"),
    ])
    func brokenAnswersAreNamed(behaviour: LaneSocketDouble.Behaviour, status: Int32, text: String)
        async throws
    {
        var state = LaneSocketDouble.State()
        state.behaviour = behaviour
        try await withLane(state) { _, socket in
            let run = try await Tool.lanectl(["status", "--timeout", "1"] + socket)
            #expect(run.status == status, "\(run)")
            #expect(run.stderr.contains(text), "\(run)")
        }
    }

    @Test func anOlderLanedSaysSoAndAFailingOnePointsAtItsLog() async throws {
        var state = LaneSocketDouble.State()
        state.unknownCommands = ["screenshot"]
        state.failingCommands = ["journal"]
        try await withLane(state) { _, socket in
            let older = try await Tool.lanectl(
                ["screenshot", "--board", "xdb", "-o", "/tmp/unused.png"] + socket)
            #expect(older.status == 76)
            #expect(
                older.stderr
                    == "lanectl: laned did not understand `screenshot`: no command 'screenshot' [unknown_command];"
                    + " lanectl and laned may be different versions\n")
            let failing = try await Tool.lanectl(["journal"] + socket)
            #expect(failing.status == 70)
            #expect(failing.stderr.contains("[internal]; see journalctl -u laned"))
        }
    }
}
